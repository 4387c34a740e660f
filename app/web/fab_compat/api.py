"""ModelRestApi internals: schema building, label translation, related-field choices, filter arguments.

``RestApiWall`` overrides FAB's private ``_init_model_schemas``, ``_label_columns_json``,
``_get_list_related_field`` and ``_handle_filters_args``; the app's API overrides the named hooks
(``schemas_at_startup``, ``label_translator``, ``related_field_filters``). ``install_rison_schema_cache``
replaces the ``jsonschema`` module FAB's ``@rison`` decorator reads from ``flask_appbuilder.api``.
"""
from __future__ import annotations

import jsonschema
from flask_appbuilder import api as fab_api
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.const import API_FILTERS_RIS_KEY
from flask_appbuilder.exceptions import InvalidColumnFilterFABException, InvalidOperationFilterFABException


class RestApiWall(ModelRestApi):
    """FAB's ModelRestApi with its private helpers turned into hooks (see the module docstring)."""

    #: False: FAB does not build the four marshmallow schemas when the API is made (see ``schema_on_first_use``).
    schemas_at_startup = True

    def label_translator(self):
        """A callable translating one label for ``_info``/list/show responses, or None for FAB's (Flask-Babel)."""
        return None

    def related_field_filters(self, field_name: str, filter_rel_field: list | None) -> list | None:
        """The filters (``[column, FilterClass, value]`` each) of a reference field's choices in ``_info``."""
        return filter_rel_field

    # --- FAB's private methods, overridden here only --------------------------------------------------
    def _init_model_schemas(self) -> None:
        if self.schemas_at_startup:
            super()._init_model_schemas()

    def _label_columns_json(self, cols=None):
        translate = self.label_translator()
        if translate is None:
            return super()._label_columns_json(cols)
        wanted = set(cols or [])
        return {key: translate(str(label)) for key, label in self.label_columns.items() if key in wanted}

    def _get_list_related_field(self, field, filter_rel_field, page=None, page_size=None):
        filter_rel_field = self.related_field_filters(field.name, filter_rel_field)
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


def schema_on_first_use(kind: str, columns: str, nested: bool = True) -> property:
    """A marshmallow schema attribute (``list_model_schema`` …) made when first read, not at start-up.

    Made as FAB's ``_init_model_schemas`` makes it: ``model2schemaconverter.convert(columns,
    parent_schema_name=<kind>_model_schema_name)``, add and edit schemas without nesting. Only once the API
    is registered (``_fs_schemas_wanted``, set by the app): FAB's registration reads every attribute.
    """
    slot = f"_fs_{kind}_model_schema"

    def get(self):
        if self.__dict__.get(slot) is None and self.__dict__.get("_fs_schemas_wanted"):
            extra = {} if nested else {"nested": False}
            self.__dict__[slot] = self.model2schemaconverter.convert(
                getattr(self, columns), parent_schema_name=getattr(self, f"{kind}_model_schema_name"), **extra)
        return self.__dict__.get(slot)

    def set(self, schema):
        self.__dict__[slot] = schema

    return property(get, set)


class RisonSchemaCheckedOnce:
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


def install_rison_schema_cache() -> None:
    """Make FAB's REST endpoints check their rison schemas once per process (see ``RisonSchemaCheckedOnce``)."""
    if not isinstance(fab_api.jsonschema, RisonSchemaCheckedOnce):
        fab_api.jsonschema = RisonSchemaCheckedOnce()
