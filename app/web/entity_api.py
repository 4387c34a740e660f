"""The REST API every generated entity gets: same org-unit filter and save rules as the HTML views."""
from __future__ import annotations

import jsonschema
from flask import current_app, g, request
from flask_appbuilder import api as fab_api
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.const import API_FILTERS_RIS_KEY
from flask_appbuilder.exceptions import InvalidColumnFilterFABException, InvalidOperationFilterFABException
from werkzeug.exceptions import BadRequest

from ..errors import DomainError
from ..metamodel.build_models import VERSION_COLUMN
from ..scoping import OrgUnitFilter
from ..services import records
from ..services.conflicts import expect_version, find_conflict, parse_version
from .api_schemas import FachstelleSchemaConverter


class Refused(BadRequest):
    """A 400 whose message is only the German text (FAB's ``safe`` answers with ``str(exc)``)."""

    def __str__(self) -> str:
        return str(self.description)


class _SchemaCheckedOnce:
    """Stands in for the ``jsonschema`` module inside FAB's ``@rison`` decorator.

    ``jsonschema.validate`` first checks the schema itself against the JSON Schema meta-schema, on every
    call: half the time of a REST list request. FAB's rison schemas are fixed module-level dicts, so the
    check runs once per schema; the request's arguments are still validated every time, with the same
    error (``best_match``) that ``jsonschema.validate`` raises.
    """

    ValidationError = jsonschema.ValidationError

    def __init__(self):
        self._validators: dict[int, object] = {}

    def validate(self, instance, schema):
        validator = self._validators.get(id(schema))
        if validator is None or validator.schema is not schema:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._validators[id(schema)] = cls(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


def install_schema_cache() -> None:
    """Make FAB's REST endpoints check their rison schemas once per process (see ``_SchemaCheckedOnce``)."""
    if not isinstance(fab_api.jsonschema, _SchemaCheckedOnce):
        fab_api.jsonschema = _SchemaCheckedOnce()


def _schema_on_first_use(kind: str, columns: str, nested: bool = True) -> property:
    """A marshmallow schema of the API made when first used, not at start-up (see ``EntityRestApi``)."""
    slot = f"_fs_{kind}_model_schema"

    def get(self):
        # FAB's registration reads every attribute of the API (looking for routes and limits); only a
        # registered API (see ``schemas_wanted``) makes its schemas.
        if self.__dict__.get(slot) is None and self.__dict__.get("_fs_schemas_wanted"):
            extra = {} if nested else {"nested": False}
            self.__dict__[slot] = self.model2schemaconverter.convert(
                getattr(self, columns), parent_schema_name=getattr(self, f"{kind}_model_schema_name"), **extra)
        return self.__dict__.get(slot)

    def set(self, schema):
        self.__dict__[slot] = schema

    return property(get, set)


class EntityRestApi(ModelRestApi):
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

    def _init_model_schemas(self) -> None:
        pass  # see the class docstring

    def schemas_wanted(self) -> None:
        """Called once FAB has registered the API: from now on a schema is made when it is read."""
        self._fs_schemas_wanted = True

    def _label_columns_json(self, cols=None):
        # FAB translates every label on every request through Flask-Babel; the templates' memoised
        # gettext (render_cache) gives the same strings.
        gettext, wanted = current_app.extensions["fs_gettext"], set(cols or [])
        return {key: gettext(str(label)) for key, label in self.label_columns.items() if key in wanted}

    def _get_list_related_field(self, field, filter_rel_field, page=None, page_size=None):
        # ``_info`` lists the choices of every reference field; without the org-unit filter it would
        # name the partners and cases of every other unit.
        related = self.datamodel.get_related_interface(field.name)
        if hasattr(related.obj, "org_unit_id"):
            filter_rel_field = [*(filter_rel_field or []), ["id", OrgUnitFilter, None]]
        return super()._get_list_related_field(field, filter_rel_field, page=page, page_size=page_size)

    def _handle_filters_args(self, rison_args):
        # FAB looks an operator ("sw", "eq", "gt") up in one table shared by the filter classes of every view,
        # where the class made last under that name wins: "eq" on a name could become the date filter (which
        # filters nothing). Here the column's own filters decide, as the index in the HTML search form does.
        filters = self._filters
        filters.clear_filters()
        for item in rison_args.get(API_FILTERS_RIS_KEY, []):
            try:
                opr, col, value = item["opr"], item["col"], item["value"]
            except KeyError:  # FAB, too, ignores the rest of a malformed filter list
                break
            if col not in self.search_columns:
                raise InvalidColumnFilterFABException(f"Filter column: {col} not allowed to filter")
            own = next((f for f in filters.get_search_filters().get(col, ()) if f.arg_name == opr), None)
            if own is None:
                raise InvalidOperationFilterFABException(f"Filter operation: {opr} not allowed on column: {col}")
            filters.add_filter(col, type(own), value)
        return filters.get_joined_filters(self._base_filters)

    def put_headless(self, pk):
        """PUT with optimistic locking: a body with ``version`` (as GET returned it) older than the record's
        is answered 409 with the German message and the fields changed since. Without ``version`` the
        save goes through as before (clients written before #10; last write wins)."""
        body, seen = request.get_json(silent=True), None
        if isinstance(body, dict) and VERSION_COLUMN in body:
            # Taken out of the (cached) body: the edit schema does not know it, the ORM counts it up itself.
            sent = body.pop(VERSION_COLUMN)
            seen = parse_version(sent)
            if seen is None:
                return self.response(400, message=f"„{VERSION_COLUMN}“ muss eine ganze Zahl ab 1 sein "
                                                  f"(erhalten: {sent!r}).")
            item = self.datamodel.get(pk, self._base_filters)
            if item is not None:
                conflict = find_conflict(self.datamodel.session, self.entity_spec.name, item, seen)
                if conflict is not None:
                    return self.response(409, **conflict.as_json())
            g.fs_seen_version = seen  # the database checks it again as it saves (pre_update)
        response = super().put_headless(pk)
        if g.pop("fs_stale_save", False):  # saved by someone else between the check and the commit
            item = self.datamodel.get(pk, self._base_filters)
            conflict = find_conflict(self.datamodel.session, self.entity_spec.name, item, seen) if item else None
            if conflict is not None:
                return self.response(409, **conflict.as_json())
        if response.status_code == 200:  # the version to send with the next PUT
            payload, item = response.get_json(), self.datamodel.get(pk, self._base_filters)
            if isinstance(payload, dict) and item is not None:
                return self.response(200, **payload, **{VERSION_COLUMN: getattr(item, VERSION_COLUMN)})
        return response

    def pre_add(self, item):
        try:
            records.assign_org_unit(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None

    def pre_update(self, item):
        try:
            records.check_refs_visible(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None
        expect_version(item, g.pop("fs_seen_version", None))

    def pre_delete(self, item):
        try:
            records.check_deletable(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None
