"""The ModelView every generated entity page derives from: org units, defaults, history, guarded deletes."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from wtforms import HiddenField

from ..core_models import CatalogueValue
from ..metamodel.build_models import VERSION_COLUMN, short_title, title_loading
from ..metamodel.kinds import is_kind
from ..scoping import OrgUnitFilter, scope_query
from ..services import records, save_hooks
from ..services.access_log import MASK, log_reads
from ..services.conflicts import ADVICE, expect_version, find_conflict, parse_version
from ..services.history import record_history
from .actor import current_actor
from .fab_compat import (ModelViewWall, base_filters, deserialize_pk, edit_widgets, list_filters, posted_add_widgets,
                         posted_edit_widgets, related_view_instances, show_widgets)
from .widgets import CappedCountListWidget, CataloguesCachedSearchWidget


CONFIRM_FIELD = "fs_confirm_new"  # "Trotzdem anlegen" of the duplicate step


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _title_of_posted(view, form) -> str:
    """What the new record would be called ("Meier, 31.10.1963"): its title fields as typed, empty ones left out."""
    names = view.entity_spec.title_fields or [view.entity_spec.fields[0].name]
    return ", ".join(text for name in names if (text := (form.get(name) or "").strip()))


def _parent_of(spec, record):
    """The parent record of a case-file page (the case of a documentation entry); None for other pages."""
    return getattr(record, spec.parent_field or spec.parent, None) if spec.parent else None


def _parent_id_of(spec, record):
    """The parent's key of a case-file page's record, read from its foreign key (the parent is not loaded)."""
    if not spec.parent:
        return None
    relation = sa_inspect(type(record)).relationships.get(spec.parent_field or spec.parent)
    if relation is None:
        parent = _parent_of(spec, record)
        return getattr(parent, "id", None)
    (column,) = relation.local_columns
    return getattr(record, relation.parent.get_property_by_column(column).key, None)


class EntityModelView(ModelViewWall):
    entity_spec = None  # set by build_views
    field_defaults: dict = {}
    show_template = "fachstelle/show.html"
    add_template = "fachstelle/add.html"
    edit_template = "fachstelle/edit.html"
    list_template = "fachstelle/list.html"
    list_widget = CappedCountListWidget
    search_widget = CataloguesCachedSearchWidget

    def _catalogue_search_cols(self) -> list[str]:
        # Search columns whose choices are catalogue values filtered by catalogue/active only.
        cols = self.__dict__.get("_fs_catalogue_search_cols")
        if cols is None:
            rel_fields = self.search_form_query_rel_fields or {}
            cols = [name for name in self.search_columns
                    if self.datamodel.is_relation(name)
                    and self.datamodel.get_related_model(name) is CatalogueValue
                    and all(flt[0] in ("catalogue", "active") for flt in rel_fields.get(name, []))]
            self._fs_catalogue_search_cols = cols
        return cols

    def search_widget_options(self, form) -> dict:
        # A list-only profile's form lacks the masked columns (#15): cached apart from the full one.
        masked = "+masked" if self.masked_columns() else ""
        return {"cached_cols": [c for c in self._catalogue_search_cols() if c in form],
                "cache_prefix": type(self).__name__ + masked}

    def prepare_search_form(self):
        # A reference in the search form is a drop-down of its target's records (FAB searches every
        # column when none is configured): it lists only what the user may see.
        rel_fields = {name: list(filters) for name, filters in (self.search_form_query_rel_fields or {}).items()}
        for name in self.search_columns:
            if self.datamodel.is_relation(name) and hasattr(self.datamodel.get_related_model(name), "org_unit_id"):
                rel_fields.setdefault(name, []).append(["id", OrgUnitFilter, None])
        self.search_form_query_rel_fields = rel_fields

    def forms_built(self):
        # The edit form carries the version it was opened with (optimistic locking, see ``edit``); a hidden
        # field is rendered by the form's hidden_tag(), outside the fieldsets.
        self.edit_form.version = HiddenField()

    def process_form(self, form, is_created):
        # The version is compared before the save (``edit``); FAB must not write it into the record: the
        # ORM counts it up itself.
        if not is_created and VERSION_COLUMN in form:
            g.fs_seen_version = parse_version(form[VERSION_COLUMN].data)
            del form[VERSION_COLUMN]
        super().process_form(form, is_created)

    def masked_columns(self) -> set[str]:
        # #15: a profile that may list the page but not read it sees sensitive fields masked.
        # Asked for every column of every list (``order_columns``): the sensitive columns are found once.
        sensitive = self.__dict__.get("_sensitive_columns")
        if sensitive is None:
            from ..metamodel.build_models import column_name
            spec = self.entity_spec
            sensitive = frozenset(n for f in (spec.fields if spec is not None else ()) if f.sensitive
                                  for n in (f.name, column_name(f)))
            self.__dict__["_sensitive_columns"] = sensitive
        if not sensitive or self.appbuilder.sm.has_access("can_show", self.class_permission_name):
            return set()
        return set(sensitive)

    def list_order(self, order_column, order_direction):
        # The sort comes from the URL (?_oc_PartnerView=…): a column the list does not offer for sorting
        # (a relation, a typo) falls back to the list's default order instead of failing in SQL.
        if order_column and order_column not in self.order_columns:
            order_column, order_direction = "", ""
        return order_column, order_direction

    # --- add: defaults and the record's org unit -------------------------------------------------
    def fill_add_form(self, form):
        if request.method == "GET":
            for name, default in self.field_defaults.items():
                field = getattr(form, name, None)
                if field is not None and not field.data:
                    field.data = default() if callable(default) else default

    def form_filled_from_url(self, exclude_cols, form):
        # The parent comes from the URL (related list "add"): it must be a record the user may see.
        for name in exclude_cols:
            field = getattr(form, name, None)
            if field is not None and field.data is not None and not records.can_see(field.data, current_actor()):
                abort(404)

    def pre_add(self, item):
        # A DomainError (e.g. an account without an org unit) is flashed by FAB's _add; nothing is saved.
        records.assign_org_unit(self.entity_spec, item, current_actor())
        save_hooks.validate(self.entity_spec.name, item)
        self._checked_save(item)

    def _checked_save(self, item) -> None:
        """The entity's save rules (#15: a Betreuung closes only with a result). A refusal undoes the form's
        changes in the session, so nothing later in the request can write them; FAB flashes the message."""
        try:
            save_hooks.before_save(self.entity_spec.name, item)
        except Exception:
            self.datamodel.session.rollback()
            g.fs_refused_save = True  # the edit page comes back with what was typed (see ``edit``)
            raise

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        # The duplicate step (#11): a new record that may already exist is shown again with its look-alikes
        # ("Vorhandenen öffnen" / "Trotzdem anlegen"); it is saved only once the user confirms.
        if request.method == "POST" and not request.form.get(CONFIRM_FIELD):
            found = save_hooks.before_add(self.entity_spec.name, request.form)
            if found:
                widgets = posted_add_widgets(self)
                if widgets is not None:
                    return self.render_template(self.add_template, title=self.add_title, widgets=widgets,
                                                look_alikes=found, confirm_field=CONFIRM_FIELD,
                                                new_title=_title_of_posted(self, request.form))
        return super().add()

    # --- after a save: a message that names the record, and the record's page ------------------------
    @property
    def add_row_message(self):
        item = g.get("fs_added")
        return self._saved_message(item, "angelegt") if item is not None else "Datensatz angelegt"

    @property
    def edit_row_message(self):
        item = g.get("fs_updated")
        return self._saved_message(item, "gespeichert") if item is not None else "Änderungen gespeichert"

    def _saved_message(self, item, done: str):
        message = Markup("{} {} {}.").format(self.entity_spec.label, short_title(item), done)
        actions = g.pop("fs_save_actions", None)
        return message + Markup(" ") + Markup(" ").join(actions) if actions else message

    def post_add(self, item):
        g.fs_added = item
        save_hooks.after_save(self.entity_spec.name, item, created=True)

    def post_add_redirect(self):
        # A new record is where the clerk goes on working; a case-file page returns to its case (FAB would
        # follow the browsing history, e.g. back to the look-alike partner of the duplicate warning).
        item = g.pop("fs_added", None)
        if item is not None:
            return redirect(self.record_home(item))
        return super().post_add_redirect()

    def post_edit_redirect(self):
        item = g.pop("fs_updated", None)
        if item is not None:
            return redirect(self.record_home(item))
        return super().post_edit_redirect()

    def record_home(self, item) -> str:
        """The page to show after a save: the record, or for a case-file page its parent record."""
        spec = self.entity_spec
        parent_id = _parent_id_of(spec, item)
        if parent_id is not None:
            return url_for(f"{_camel(spec.parent)}View.show", pk=parent_id)
        return url_for(f"{self.__class__.__name__}.show", pk=item.id)

    def pre_update(self, item):
        records.check_refs_visible(self.entity_spec, item, current_actor())
        save_hooks.before_update(self.entity_spec.name, item)  # a DomainError is flashed by FAB; nothing saved
        save_hooks.validate(self.entity_spec.name, item)
        self._checked_save(item)
        expect_version(item, g.pop("fs_seen_version", None))

    def post_update(self, item):
        g.fs_updated = item
        save_hooks.after_save(self.entity_spec.name, item, created=False)

    def pre_delete(self, item):
        records.check_deletable(self.entity_spec, item)

    # --- show: related pages the user may read, and the record's history ---------------------------
    def _allowed_related(self):
        sm = self.appbuilder.sm
        # FAB collects related views in registration order; the tabs follow the YAML's "related" order.
        rank = {cls: i for i, cls in enumerate(self.related_views)}
        views = sorted(related_view_instances(self), key=lambda view: rank.get(type(view), len(rank)))
        return [view for view in views if sm.has_access("can_list", view.class_permission_name)]

    def record_shown(self, item):
        g.fs_shown = item  # FAB's _show has read it with the base filters (org units); show() reuses it

    def related_views_shown(self):
        return self._allowed_related()

    def related_lists_ahead(self, item, views):
        # A case file has some 15 tabs and most of them are empty for any one case: one query finds those,
        # and their tables are built without reading the database (FachstelleInterface.query).
        self.datamodel.note_empty_related_lists(item, [view.datamodel for view in views])

    # --- XLSX export of the list (#14): the list's rows (search filters, org units), the page's fields ----
    @expose("/export_xlsx")
    @has_access
    def export_xlsx(self):
        from ..metamodel.build_models import column_name
        from ..services.xlsx_export import column_for_field
        from .xlsx import xlsx_response
        spec = self.entity_spec
        fields = [spec.field(name) for name in self.show_columns if spec.field(name) is not None]
        model = self.datamodel.obj
        query = self.datamodel.filtered_query(self.datamodel.session.query(model), list_filters(self))
        column, direction = self._export_order()
        query = self.datamodel.apply_order_by(query, column, direction) if column else query
        query = query.order_by(model.id)
        names = [(column_name(f) if not is_kind(f, "choice", "multichoice", "ref", "user") else f.name) for f in fields]
        # #15: a profile that may list but not read gets sensitive fields masked; a profile that reads a
        # sensitive page has every exported record in the access log (once per record and export).
        may_read = self.appbuilder.sm.has_access("can_show", self.class_permission_name)
        masked = set() if may_read else {i for i, f in enumerate(fields) if f.sensitive}
        if may_read and spec.is_sensitive:
            exported = query.with_entities(model.id.label("id"), model.org_unit_id.label("org_unit_id")) \
                if hasattr(model, "org_unit_id") else query.with_entities(model.id.label("id"))
            log_reads(self.datamodel.session, current_actor(), spec.name, list(exported), "export",
                      detail="Excel-Export der Liste")
            self.datamodel.session.commit()

        def rows():
            for record in query.yield_per(1000):
                values = [getattr(record, name) for name in names]
                yield [MASK if i in masked and values[i] not in (None, "", []) else v for i, v in enumerate(values)]
        shown = [f"{self.label_columns.get(k.split('_', 3)[-1], k)}={v}" for k, v in request.args.items()
                 if k.startswith("_flt_") and k.count("_") >= 3]
        return xlsx_response([column_for_field(f) for f in fields], rows(), spec.plural, what=spec.plural,
                             detail="Filter: " + (", ".join(shown) if shown else "keine"), sheet=spec.plural)

    def _export_order(self) -> tuple[str, str]:
        name = type(self).__name__
        column, direction = request.args.get(f"_oc_{name}", ""), request.args.get(f"_od_{name}", "")
        column, direction = self.list_order(column, direction)
        if not column:
            column, direction = self.base_order or ("", "")
        return column, direction if direction in ("asc", "desc") else "asc"

    # FAB's file download serves UPLOAD_FOLDER, which the app does not use (documents hang on documentation
    # entries: attachments.py). Without ``@expose`` the route is not registered: /case/download/x is a 404.
    def download(self, filename):
        abort(404)

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        # An unknown action or a malformed number: FAB would fail with a 500.
        if name not in self.actions or not str(pk).isdigit():
            abort(404)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        if request.form.get("action", "") not in self.actions or not all(
                pk.isdigit() for pk in request.form.getlist("rowid")):
            abort(400)
        return super().action_post()

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        pk = deserialize_pk(self, pk)
        widgets = show_widgets(self, pk)
        history = record_history(self.datamodel.session, self.entity_spec.name, int(pk)) \
            if self.appbuilder.sm.has_access("can_show", self.class_permission_name) else []
        # Extras (letters, documents) need the record: the one _show read, with the same filters.
        record = g.pop("fs_shown", None) or self.datamodel.get(pk, base_filters(self))
        related = self._allowed_related()
        page = self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=related, history=history,
                                    entity=self.entity_spec, record=record, **self.page_context(record))
        if record is not None and self.entity_spec.is_sensitive:  # #15: every read of a sensitive page
            log_reads(self.datamodel.session, current_actor(), self.entity_spec.name, [record], "show")
            self.datamodel.session.commit()
        return page

    def page_context(self, record) -> dict:
        """The browser title ("Fallakte 2026/0042 – Fachstelle") and the breadcrumbs (Fallakte › Doku-Eintrag)."""
        if record is None:
            return {}
        crumbs = []
        spec = self.entity_spec
        parent = _parent_of(spec, record)
        if parent is not None:
            parent_spec = self.appbuilder.app.config["FACHSTELLE_SPEC"].entity(spec.parent)
            crumbs.append((f"{parent_spec.label} {short_title(parent)}",
                           url_for(f"{_camel(spec.parent)}View.show", pk=parent.id)))
        name = f"{spec.label} {short_title(record)}"
        crumbs.append((name, None))
        return {"fs_page_title": name, "fs_breadcrumbs": crumbs if parent is not None else []}

    def add_page_context(self) -> dict:
        """A case-file page's add form opened from its case (``?_flt_0_case=42``): "Fallakte 2026/0042 ›
        Doku-Eintrag (neu)", the parent read within the user's units (another unit's case: no crumbs)."""
        spec = self.entity_spec
        relation = spec.parent_field or spec.parent if spec.parent else None
        key = request.args.get(f"_flt_0_{relation}", "") if relation else ""
        if not key.isdigit():
            return {}
        model = self.datamodel.get_related_model(relation)
        parent_spec = self.appbuilder.app.config["FACHSTELLE_SPEC"].entity(spec.parent)
        parent = self.datamodel.session.scalars(scope_query(
            select(model).where(model.id == int(key)).options(*title_loading(parent_spec, model, names_joined=False)),
            model,
            actor=current_actor())).first()
        if parent is None:
            return {}
        name = f"{spec.label} (neu)"
        return {"fs_page_title": name, "fs_breadcrumbs": [
            (f"{parent_spec.label} {short_title(parent)}", url_for(f"{_camel(spec.parent)}View.show", pk=parent.id)),
            (name, None)]}

    def render_template(self, template, **kwargs):
        if template == self.add_template and "fs_breadcrumbs" not in kwargs:
            kwargs.update(self.add_page_context())
        return super().render_template(template, **kwargs)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        # FAB passes every related view to the template, but only the readable ones have widgets: a case
        # edited by a profile without "Soziale Situation" would otherwise fail with a 500.
        pk = deserialize_pk(self, pk)
        if request.method == "POST":
            refused = self._refuse_stale_save(pk)
            if refused is not None:
                return refused
        widgets = edit_widgets(self, pk)
        if not widgets and g.pop("fs_refused_save", False):
            # Refused by a save rule (FAB flashed the reason): the form again, with the user's input.
            item = self.datamodel.get(pk, base_filters(self))
            if item is not None:
                widgets = posted_edit_widgets(self, item, lambda form: None)
                return self.render_template(self.edit_template, title=self.edit_title, widgets=widgets,
                                            related_views=self._allowed_related(), **self.page_context(item)), 422
        if not widgets:
            if g.pop("fs_stale_save", False):
                # Saved by someone else between the check above and the commit: the database refused it.
                flashes = session.get("_flashes", [])
                session["_flashes"] = [f for f in flashes if f[1] != self.database_error_message]
                refused = self._refuse_stale_save(pk)
                if refused is not None:
                    return refused
            return self.post_edit_redirect()
        record = self.datamodel.get(pk, base_filters(self))
        return self.render_template(self.edit_template, title=self.edit_title, widgets=widgets,
                                    related_views=self._allowed_related(), **self.page_context(record))

    def _refuse_stale_save(self, pk):
        """The record changed since this form was opened: show who changed what, keep what was typed.

        The form comes back with the user's input and the current version, so saving again (after
        checking) deliberately keeps this user's values. A form without a version saves as before."""
        item = self.datamodel.get(pk, base_filters(self))
        if item is None:
            return None  # FAB answers 404
        conflict = find_conflict(self.datamodel.session, self.entity_spec.name, item,
                                 parse_version(request.form.get(VERSION_COLUMN)))
        if conflict is None:
            return None
        changes = Markup("").join(Markup("<li>{}</li>").format(line) for line in conflict.lines())
        flash(Markup("{} {}<ul>{}</ul>{}").format(
            conflict.headline(), "Geändert wurde:" if conflict.changes else "", changes, ADVICE), "warning")
        widgets = posted_edit_widgets(self, item, lambda form: setattr(form[VERSION_COLUMN], "data",
                                                                       conflict.current_version))
        page = self.render_template(self.edit_template, title=self.edit_title, widgets=widgets,
                                    related_views=self._allowed_related())
        return page, 409
