"""Admin pages: catalogues (value lists), org units, the street directory, merging partners."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import func, select
from wtforms import SelectField
from wtforms.validators import StopValidation, ValidationError

from ..core_models import CatalogueValue, OrgUnit, Street
from ..errors import DomainError
from ..extensions import db
from ..metamodel.build_models import built_registry
from ..metamodel.kinds import kind_of
from ..services.history import shown
from ..services.partners import fillable_fields, load_pair, merge_partners, partner_references
from . import menus
from .actor import current_actor

ADMIN_MENU = menus.ADMIN


def _spec():
    return current_app.config["FACHSTELLE_SPEC"]


def catalogue_choices() -> list[tuple[str, str]]:
    """The catalogues the configuration defines, by their German names (entities.yaml ``catalogues``)."""
    return sorted(((c.name, c.label) for c in _spec().catalogues), key=lambda choice: choice[1].lower())


def catalogue_label(name: str | None) -> str:
    catalogue = _spec().catalogue(name) if name else None
    return catalogue.label if catalogue else f"{name} (unbekannter Katalog)"


def catalogue_usage(spec) -> dict[str, list[str]]:
    """Where each catalogue is used: "Entity › Field" labels, in the order of entities.yaml."""
    used: dict[str, list[str]] = {c.name: [] for c in spec.catalogues}
    for entity in spec.entities:
        for field in entity.fields:
            if field.catalogue:
                used.setdefault(field.catalogue, []).append(f"{entity.label} › {field.label}")
    return used


def unknown_catalogue(name: str | None) -> str:
    return (f"Unbekannter Katalog „{name or ''}“: bitte einen Katalog aus der Liste wählen. Neue Kataloge werden "
            "in der Konfiguration (entities.yaml, Abschnitt „catalogues“) angelegt.")


def check_catalogue_name(name: str | None) -> None:
    """The one check for every write path of a catalogue value (form, any later API)."""
    if not name or _spec().catalogue(name) is None:
        raise DomainError(unknown_catalogue(name))


class CatalogueField(SelectField):
    """The catalogue as a choice of German names; a name outside the list is refused in German."""

    def pre_validate(self, form):
        if not self.data:
            raise StopValidation("Bitte einen Katalog wählen.")
        if self.data not in {value for value, _label in self.iter_choices_values()}:
            raise ValidationError(unknown_catalogue(self.data))

    def iter_choices_values(self):
        return catalogue_choices()


def _yes_no(value) -> str:
    return "Ja" if value else "Nein"


class CatalogueValueView(ModelView):
    """Value lists change in daily work, without a restart ("auch noch im laufenden Betrieb")."""

    datamodel = SQLAInterface(CatalogueValue)
    route_base = "/catalogues"
    list_title = "Kataloge (Wertelisten)"
    add_title = "Katalogwert anlegen"
    edit_title = "Katalogwert bearbeiten"
    show_title = "Katalogwert"
    list_template = "fachstelle/catalogue_list.html"
    default_view = "usage"  # the menu opens the overview: every catalogue by name, where it is used
    extra_args = {"catalogue_label": catalogue_label}
    label_columns = {"catalogue": "Katalog", "code": "Schlüssel", "label": "Bezeichnung", "group": "Gruppe",
                     "sort": "Reihenfolge", "active": "aktiv"}
    list_columns = ["catalogue", "label", "code", "group", "sort", "active"]
    show_columns = ["catalogue", "label", "code", "group", "sort", "active"]
    add_columns = ["catalogue", "code", "label", "group", "sort", "active"]
    edit_columns = ["label", "group", "sort", "active"]  # the code stays: old records keep their meaning
    search_columns = ["catalogue", "label", "code", "active"]
    base_order = ("catalogue", "asc")
    add_form_extra_fields = {
        "catalogue": CatalogueField("Katalog", choices=lambda: [("", "– bitte wählen –"), *catalogue_choices()],
                                    default=lambda: request.args.get("catalogue", ""), widget=Select2Widget(),
                                    description="Die Kataloge der Konfiguration; wo sie verwendet werden, "
                                                "zeigt die Übersicht unter Administration › Kataloge."),
    }
    description_columns = {"active": "Nicht mehr aktive Werte bleiben an alten Datensätzen erhalten, "
                                     "werden aber nicht mehr zur Auswahl angeboten.",
                           "code": "Technischer Schlüssel, eindeutig im Katalog; bleibt nach dem Anlegen fest."}
    formatters_columns = {"catalogue": catalogue_label, "active": _yes_no, "group": lambda v: v or ""}
    page_size = 50

    @expose("/usage")
    @has_access
    def usage(self):
        """Every catalogue by its German name: its values and where it is used (entity › field)."""
        spec = _spec()
        used = catalogue_usage(spec)
        counts = {name: (active, total) for name, active, total in db.session.execute(
            select(CatalogueValue.catalogue, func.count().filter(CatalogueValue.active.is_not(False)), func.count())
            .group_by(CatalogueValue.catalogue))}
        rows = [{"name": c.name, "label": c.label, "used": used.get(c.name, []), "counts": counts.get(c.name, (0, 0))}
                for c in sorted(spec.catalogues, key=lambda c: c.label.lower())]
        return self.render_template("fachstelle/catalogue_usage.html", rows=rows)

    def pre_add(self, item):
        check_catalogue_name(item.catalogue)

    def pre_update(self, item):
        check_catalogue_name(item.catalogue)

    def pre_delete(self, item):
        raise DomainError("Katalogwerte werden nicht gelöscht, sondern auf „nicht aktiv“ gesetzt – "
                          "so behalten alte Einträge ihre Bedeutung.")


class OrgUnitView(ModelView):
    datamodel = SQLAInterface(OrgUnit)
    route_base = "/org-units"
    list_title = "Dienststellen"
    show_title = add_title = edit_title = "Dienststelle"
    label_columns = {"code": "Kürzel", "name": "Name", "address": "Anschrift", "email": "E-Mail",
                     "phone": "Telefon", "active": "aktiv"}
    list_columns = ["name", "code", "address", "email", "phone", "active"]
    add_columns = edit_columns = ["code", "name", "address", "email", "phone", "active"]
    base_order = ("name", "asc")


class StreetView(ModelView):
    datamodel = SQLAInterface(Street)
    route_base = "/streets"
    list_title = "Straßenverzeichnis"
    show_title = add_title = edit_title = "Straße"
    label_columns = {"name": "Straße", "postcode": "PLZ", "city": "Ort",
                     "district": "Ortsteil / statistisches Gebiet"}
    list_columns = ["name", "postcode", "city", "district"]
    add_columns = edit_columns = ["name", "postcode", "city", "district"]
    search_columns = ["name", "postcode", "district"]
    base_order = ("name", "asc")

    def pre_add(self, item):
        item.name_lc = (item.name or "").strip().lower()

    pre_update = pre_add


class PartnerMergeView(BaseView):
    """Merge two partners: every reference moves to the survivor; the history keeps both.

    GET with both numbers shows them side by side with the references that will move (the preview);
    only the POST from that preview merges. Both partners must be visible to the user (org units).
    """

    route_base = "/partner-merge"
    default_view = "form"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def form(self):
        survivor_id = request.values.get("survivor", type=int)
        duplicate_id = request.values.get("duplicate", type=int)
        if request.method == "POST":
            try:
                result = merge_partners(db.session, survivor_id, duplicate_id, current_actor())
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                moved = ", ".join(f"{count} × {label}" for label, count in result.moved.items()) or "keine Verweise"
                flash(f"Partner Nr. {duplicate_id} wurde in Partner Nr. {survivor_id} zusammengeführt "
                      f"({result.total} Verweise übertragen: {moved}).", "success")
                return redirect(url_for("PartnerView.show", pk=survivor_id))
        preview = None
        if survivor_id or duplicate_id:
            try:
                preview = merge_preview(db.session, survivor_id, duplicate_id)
            except DomainError as exc:
                if request.method == "GET":
                    flash(str(exc), "danger")
        return self.render_template("fachstelle/merge.html", preview=preview,
                                    survivor=preview["survivor"] if preview else None,
                                    duplicate=preview["duplicate"] if preview else None)


def merge_preview(session, survivor_id, duplicate_id) -> dict:
    """Both partners' data side by side, what the survivor takes over, and the references that move."""
    survivor, duplicate = load_pair(session, survivor_id, duplicate_id, current_actor())
    entity = built_registry().entity("partner")
    filled = {f.name for f in fillable_fields(survivor, duplicate)}
    rows = [(f.label, shown(getattr(survivor, f.name), f) or "", shown(getattr(duplicate, f.name), f) or "",
             f.name in filled)
            for f in entity.fields if not f.hidden and kind_of(f).in_forms]
    rows.append(("Dienststelle", str(survivor.org_unit or "alle (gemeinsam)"),
                 str(duplicate.org_unit or "alle (gemeinsam)"), False))
    return {"survivor": survivor, "duplicate": duplicate, "rows": rows,
            "survivor_refs": partner_references(session, survivor.id),
            "duplicate_refs": partner_references(session, duplicate.id)}


def register_admin_views(appbuilder) -> None:
    appbuilder.add_view(CatalogueValueView, icon="fa-list", category_icon="fa-cogs",
                        **menus.item(menus.CATALOGUES, ADMIN_MENU))
    appbuilder.add_view(OrgUnitView, icon="fa-building", **menus.item(menus.ORG_UNITS, ADMIN_MENU))
    appbuilder.add_view(StreetView, icon="fa-road", **menus.item(menus.STREETS, ADMIN_MENU))
    appbuilder.add_view(PartnerMergeView, icon="fa-compress", **menus.item(menus.PARTNER_MERGE, ADMIN_MENU))
    from .imports import ImportView
    appbuilder.add_view(ImportView, icon="fa-upload", **menus.item(menus.IMPORTS, ADMIN_MENU))
    from .profiles import AccessProfileView
    appbuilder.add_view(AccessProfileView, icon="fa-id-badge", **menus.item(menus.PROFILES, ADMIN_MENU))
