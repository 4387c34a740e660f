"""Admin pages: catalogues (value lists), org units, the street directory, merging partners."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access

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


class CatalogueValueView(ModelView):
    """Value lists change in daily work, without a restart ("auch noch im laufenden Betrieb")."""

    datamodel = SQLAInterface(CatalogueValue)
    route_base = "/catalogues"
    list_title = "Kataloge (Wertelisten)"
    add_title = "Katalogwert anlegen"
    edit_title = "Katalogwert bearbeiten"
    show_title = "Katalogwert"
    label_columns = {"catalogue": "Katalog", "code": "Schlüssel", "label": "Bezeichnung", "group": "Gruppe",
                     "sort": "Reihenfolge", "active": "aktiv"}
    list_columns = ["catalogue", "label", "code", "group", "sort", "active"]
    add_columns = ["catalogue", "code", "label", "group", "sort", "active"]
    edit_columns = ["label", "group", "sort", "active"]  # the code stays: old records keep their meaning
    search_columns = ["catalogue", "label", "code", "active"]
    base_order = ("catalogue", "asc")
    description_columns = {"active": "Nicht mehr aktive Werte bleiben an alten Datensätzen erhalten, "
                                     "werden aber nicht mehr zur Auswahl angeboten."}
    page_size = 50

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
