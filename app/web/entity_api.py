"""The REST API every generated entity gets: same org-unit filter and save rules as the HTML views."""
from __future__ import annotations

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest

from ..errors import DomainError, NoHomeUnitError
from ..metamodel.build_models import VERSION_COLUMN
from ..metamodel.kinds import kind_of
from ..scoping import OrgUnitFilter
from .actor import current_actor
from ..services import records, save_hooks
from ..services.access_log import MASK, log_reads
from ..services.conflicts import expect_version, find_conflict, parse_version
from .api_schemas import FachstelleSchemaConverter
from .fab_compat import RestApiWall, base_filters, install_rison_schema_cache
from .fab_compat import RisonSchemaCheckedOnce as _SchemaCheckedOnce  # noqa: F401  (its old name)
from .fab_compat import schema_on_first_use as _schema_on_first_use


class Refused(BadRequest):
    """A 400 whose message is only the German text (FAB's ``safe`` answers with ``str(exc)``)."""

    def __str__(self) -> str:
        return str(self.description)


#: Make FAB's REST endpoints check their rison schemas once per process (see fab_compat.api).
install_schema_cache = install_rison_schema_cache


class EntityRestApi(RestApiWall):
    """Generated entity APIs.

    FAB builds four marshmallow schemas per API while the app starts: a quarter of the start-up with
    40 entities. Here each is made on the first request that needs it (10–20 ms once per API and worker).
    """

    entity_spec = None  # set by build_views
    model2schemaconverter = FachstelleSchemaConverter
    list_model_schema = _schema_on_first_use("list", "list_columns")
    show_model_schema = _schema_on_first_use("show", "show_columns")
    add_model_schema = _schema_on_first_use("add", "add_columns", nested=False)
    edit_model_schema = _schema_on_first_use("edit", "edit_columns", nested=False)

    schemas_at_startup = False  # see the class docstring

    def schemas_wanted(self) -> None:
        """Called once FAB has registered the API: from now on a schema is made when it is read."""
        self._fs_schemas_wanted = True

    def label_translator(self):
        # FAB translates every label on every request through Flask-Babel; the templates' memoised
        # gettext (render_cache) gives the same strings.
        return current_app.extensions["fs_gettext"]

    def related_field_filters(self, field_name, filter_rel_field):
        # ``_info`` lists the choices of every reference field; without the org-unit filter it would
        # name the partners and cases of every other unit.
        # Catalogue values and colleagues: the choices the form offers (the field's own catalogue, active
        # values; active staff of the user's units), from the field kind.
        related = self.datamodel.get_related_interface(field_name)
        if hasattr(related.obj, "org_unit_id"):
            filter_rel_field = [*(filter_rel_field or []), ["id", OrgUnitFilter, None]]
        f = self.entity_spec.field(field_name) if self.entity_spec else None
        if f is not None and (query := kind_of(f).form_query(f, editing=False)):
            filter_rel_field = [*(filter_rel_field or []), *query]
        return filter_rel_field

    def current_references(self, pk) -> dict:
        """The ids each reference field of record ``pk`` holds now (see ``kinds.current_reference_ids``)."""
        item = self.datamodel.get(pk, base_filters(self))
        if item is None or self.entity_spec is None:
            return {}
        out = {}
        for f in self.entity_spec.fields:
            kind = kind_of(f)
            if kind.storage == "reference":
                value = getattr(item, kind.column_name(f), None)
                out[f.name] = frozenset([value] if value is not None else [])
            elif kind.storage == "multiple":
                out[f.name] = frozenset(v.id for v in getattr(item, f.name, None) or [])
        return out

    # --- #15: reads of a sensitive page are logged; lists mask its sensitive fields for list-only profiles ---
    def get_headless(self, pk, **kwargs):
        response = super().get_headless(pk, **kwargs)
        if response.status_code == 200 and self.entity_spec is not None and self.entity_spec.is_sensitive:
            log_reads(self.datamodel.session, current_actor(), self.entity_spec.name, [int(pk)], "rest")
            self.datamodel.session.commit()
        return response

    def get_list_headless(self, **kwargs):
        masked = [f.name for f in (self.entity_spec.fields if self.entity_spec else ()) if f.sensitive]
        if masked and not self.appbuilder.sm.has_access("can_show", self.class_permission_name):
            # Sorting or filtering by a masked field would reveal the order of the hidden values.
            from ..metamodel.build_models import column_name
            hidden = {n for f in self.entity_spec.fields if f.sensitive for n in (f.name, column_name(f))}
            args = kwargs.get("rison") or {}
            used = {args.get("order_column")} | {(flt or {}).get("col") for flt in args.get("filters") or []}
            blocked = sorted(n for n in used if n in hidden)
            if blocked:
                return self.response_400(message=f"Sortieren und Filtern nach vertraulichen Feldern ist für Ihr "
                                                 f"Profil nicht möglich: {', '.join(blocked)}.")
        response = super().get_list_headless(**kwargs)
        if response.status_code != 200 or not masked or self.appbuilder.sm.has_access(
                "can_show", self.class_permission_name):
            return response
        payload = response.get_json()
        for row in payload.get("result", []):
            for name in masked:
                if name in row and row[name] not in (None, "", []):
                    row[name] = MASK
        return self.response(200, **payload)

    def post_headless(self):
        try:
            return super().post_headless()
        except NoHomeUnitError as exc:
            # The account may not create records at all: 403 with the German reason, nothing saved.
            self.datamodel.session.rollback()
            return self.response(403, message=str(exc))

    def put_headless(self, pk):
        """PUT with optimistic locking: a body with ``version`` (as GET returned it) older than the record's
        is answered 409 with the German message and the fields changed since. Without ``version`` the
        save goes through as before (clients written before #10; last write wins)."""
        g.fs_current_refs = self.current_references(pk)  # only for this PUT's body
        try:
            return self._put_checked(pk)
        finally:
            g.pop("fs_current_refs", None)

    def _put_checked(self, pk):
        body, seen = request.get_json(silent=True), None
        if isinstance(body, dict) and VERSION_COLUMN in body:
            # Taken out of the (cached) body: the edit schema does not know it, the ORM counts it up itself.
            sent = body.pop(VERSION_COLUMN)
            seen = parse_version(sent)
            if seen is None:
                return self.response(400, message=f"„{VERSION_COLUMN}“ muss eine ganze Zahl ab 1 sein "
                                                  f"(erhalten: {sent!r}).")
            item = self.datamodel.get(pk, base_filters(self))
            if item is not None:
                conflict = find_conflict(self.datamodel.session, self.entity_spec.name, item, seen)
                if conflict is not None:
                    return self.response(409, **conflict.as_json())
            g.fs_seen_version = seen  # the database checks it again as it saves (pre_update)
        response = super().put_headless(pk)
        if g.pop("fs_stale_save", False):  # saved by someone else between the check and the commit
            item = self.datamodel.get(pk, base_filters(self))
            conflict = find_conflict(self.datamodel.session, self.entity_spec.name, item, seen) if item else None
            if conflict is not None:
                return self.response(409, **conflict.as_json())
        if response.status_code == 200:  # the version to send with the next PUT
            payload, item = response.get_json(), self.datamodel.get(pk, base_filters(self))
            if isinstance(payload, dict) and item is not None:
                return self.response(200, **payload, **{VERSION_COLUMN: getattr(item, VERSION_COLUMN)})
        return response

    def pre_add(self, item):
        try:
            records.assign_org_unit(self.entity_spec, item, current_actor())
            save_hooks.before_save(self.entity_spec.name, item)
        except NoHomeUnitError:
            raise
        except DomainError as exc:
            raise Refused(str(exc)) from None

    def pre_update(self, item):
        try:
            records.check_refs_visible(self.entity_spec, item, current_actor())
            save_hooks.before_update(self.entity_spec.name, item)
            save_hooks.before_save(self.entity_spec.name, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None
        expect_version(item, g.pop("fs_seen_version", None))

    def pre_delete(self, item):
        try:
            records.check_deletable(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None
