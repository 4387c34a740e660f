"""Spec -> Flask-AppBuilder ModelViews (German forms with tabs, lists, related lists), REST APIs, menus.

Every generated view and API shares one permission name per entity (``entity_<name>``) with the
actions can_list, can_show, can_add, can_edit, can_delete, so a profile in roles.yaml maps onto
exactly five permissions per entity, for HTML and REST alike.
"""
from __future__ import annotations

from wtforms.validators import Length

from ..metamodel.build_models import VERSION_COLUMN, ModelRegistry, column_name
from ..metamodel.kinds import is_kind, kind_of
from ..metamodel.spec import EntitySpec, FieldSpec
from ..scoping import OrgUnitFilter
from .entity_api import EntityRestApi
from .entity_view import EntityModelView
from .interface import FachstelleInterface

PERMISSION_ACTIONS = ("can_list", "can_show", "can_add", "can_edit", "can_delete")
_API_METHODS = {"get_list": "list", "get": "show", "post": "add", "put": "edit", "delete": "delete",
                "info": "list"}


def permission_name(entity_name: str) -> str:
    return f"entity_{entity_name}"


def _visible(f: FieldSpec) -> bool:
    return not f.hidden


def _edit_fields(entity: EntitySpec) -> list[FieldSpec]:
    return [f for f in entity.fields if _visible(f) and f.show_in_edit and not f.read_only and kind_of(f).in_forms]


def _fieldsets(entity: EntitySpec, names: list[str]) -> list[tuple[str, dict]] | None:
    if not entity.pages:
        return None
    wanted = set(names)
    sets = []
    placed: set[str] = set()
    for page in entity.pages:
        fields = [n for n in page.fields if n in wanted]
        placed.update(page.fields)
        if fields:
            sets.append((page.label, {"fields": fields}))
    rest = [n for n in names if n not in placed]
    if rest:
        sets.insert(0, ("Allgemein", {"fields": rest}))
    return sets


def display_formatter(f: FieldSpec):
    """How a value reads in lists and on the show page: the kind's text (TT.MM.JJJJ, ja/nein, 1.234,50 €)."""
    return kind_of(f).display


def _masked(display, entity: EntitySpec):
    """#15: a sensitive field reads as "••• (vertraulich)" for a profile that may list the page but not read it
    (level ``list`` in roles.yaml); the show page needs reading, so there it is the value."""
    permission = permission_name(entity.name)

    def show(value):
        from flask import current_app

        from ..services.access_log import MASK
        if value in (None, "", []) or current_app.appbuilder.sm.has_access("can_show", permission):
            return display(value)
        return MASK
    return show


def build_view_classes(registry: ModelRegistry) -> dict[str, type]:
    """One ModelView class per entity; children first so parents can list them as related views."""
    views: dict[str, type] = {}
    pending = list(registry.entities.values())
    # Resolve related views in dependency order; cycles (partner <-> case) are broken by building
    # every class first and attaching related views afterwards.
    for em in pending:
        views[em.spec.name] = _view_class(registry, em.spec, em.model)
    for em in pending:
        views[em.spec.name].related_views = [views[name] for name in em.spec.related]
    return views


def _view_class(registry: ModelRegistry, entity: EntitySpec, model) -> type:
    visible = [f for f in entity.fields if _visible(f)]
    edit_fields = _edit_fields(entity)
    edit_names = [f.name for f in edit_fields]
    show_names = [f.name for f in visible if f.show_in_show]
    list_names = entity.list_columns or [f.name for f in visible if f.show_in_list] or [visible[0].name]
    search_names = entity.search_fields or [f.name for f in visible if f.show_in_search]
    extra: dict = {}
    rel_queries: dict = {}
    edit_rel_queries: dict = {}
    validators: dict = {}
    for f in edit_fields:
        kind = kind_of(f)
        vals = kind.validators(f)
        default = kind.form_default(f)
        kwargs = {"description": f.help or "", "validators": vals}
        if default is not None:
            kwargs["default"] = default
        own = kind.form_field(f, registry, kwargs)
        if own is not None:
            extra[f.name] = own
        else:
            if vals:
                validators[f.name] = vals
            if (query := kind.form_query(f, editing=False)) is not None:
                rel_queries[f.name] = query
                edit_rel_queries[f.name] = kind.form_query(f, editing=True)
    defaults = {f.name: kind_of(f).form_default(f) for f in edit_fields
                if not kind_of(f).form_takes_default and kind_of(f).form_default(f) is not None}
    order = entity.order_by or next((f.name for f in visible if f.show_in_list), None)
    attrs = {
        "datamodel": _interface(entity, model, list_names),
        "entity_spec": entity,
        "route_base": f"/{entity.name.replace('_', '-')}",
        "class_permission_name": permission_name(entity.name),
        "method_permission_name": {"list": "list", "show": "show", "add": "add", "edit": "edit",
                                   "delete": "delete", "download": "show", "action": "delete",
                                   "api_read": "list", "api_get": "show", "api_column_add": "add",
                                   "api_column_edit": "edit", "history": "show",
                                   "export_xlsx": "list"},
        **_texts(entity),
        "list_columns": list_names,
        "show_columns": show_names,
        "add_columns": edit_names,
        "edit_columns": edit_names,
        "search_columns": search_names,
        "show_fieldsets": _fieldsets(entity, show_names),
        "add_fieldsets": _fieldsets(entity, edit_names),
        "edit_fieldsets": _fieldsets(entity, edit_names),
        "add_form_extra_fields": dict(extra),
        "edit_form_extra_fields": dict(extra),
        "add_form_query_rel_fields": rel_queries,
        "edit_form_query_rel_fields": edit_rel_queries,
        "search_form_query_rel_fields": edit_rel_queries,
        "validators_columns": validators,
        "formatters_columns": {f.name: _masked(display_formatter(f), entity) if f.sensitive else display_formatter(f)
                               for f in entity.fields},
        "field_defaults": defaults,
        "page_size": 25,
        "base_order": _base_order(entity, order),
        "base_filters": [["id", OrgUnitFilter, None]] if entity.org_scope != "none" else [],
    }
    return type(f"{_camel(entity.name)}View", (EntityModelView,), attrs)


def _texts(entity: EntitySpec) -> dict:
    """The German labels of every column, help texts and titles (the YAML's), for HTML pages and REST alike."""
    labels = {f.name: f.label for f in entity.fields}
    labels.update({column_name(f): f.label for f in entity.fields})
    labels.update({"id": "Nr.", "org_unit": "Dienststelle", "created_at": "angelegt am", "created_by": "angelegt von",
                   "updated_at": "geändert am", "updated_by": "geändert von", VERSION_COLUMN: "Version"})
    return {"label_columns": labels, "description_columns": {f.name: f.help for f in entity.fields if f.help},
            "list_title": entity.plural, "show_title": entity.label, "add_title": f"{entity.label} anlegen",
            "edit_title": f"{entity.label} bearbeiten"}


def _base_order(entity: EntitySpec, order: str | None) -> tuple[str, str]:
    if not order:
        return ("id", "desc")
    f = entity.field(order)
    return (column_name(f) if f and not kind_of(f).refers_to_record else "id", entity.order_direction)


def _interface(entity: EntitySpec, model, listed: list[str]) -> FachstelleInterface:
    # References shown in the list are loaded in one query each, not once per row (N+1).
    interface = FachstelleInterface(model)
    # Staff references (type user) too: a related list's author column read one user per row.
    record_refs = tuple(f.name for f in entity.fields if kind_of(f).refers_to_record or is_kind(f, "user"))
    interface.eager_refs = tuple(name for name in record_refs if name in listed)
    # A record read for its page or form joins them: one query instead of one per reference.
    interface.record_refs = record_refs
    # Catalogue values are joined into every read of a record (the show page needs them); a list that does
    # not show one, nor names it in its title, does not join it (a partner list joined four of them).
    titles = set(entity.title_fields or [entity.fields[0].name])
    interface.unjoined_in_lists = tuple(f.name for f in entity.fields if getattr(kind_of(f), "lazy", None) == "joined"
                                        and f.name not in listed and f.name not in titles)
    interface.length_checked = frozenset(f.name for f in entity.fields
                                         if f.length and any(isinstance(check, Length)
                                                             for check in kind_of(f).validators(f)))
    return interface


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _api_description(f: FieldSpec) -> str:
    kind = kind_of(f)
    if f.catalogue:
        return f"{kind.label}: nur aktive Werte des Katalogs „{f.catalogue}“ (Nr. aus _info)."
    if kind.name == "user":
        return f"{kind.label}: aktive Kolleginnen und Kollegen der eigenen Dienststellen (Nr. aus _info)."
    if kind.refers_to_record:
        return f"{kind.label} (Nr.)."
    return f"{kind.label}."


def build_api_class(registry: ModelRegistry, entity: EntitySpec, model) -> type:
    visible = [f.name for f in entity.fields if _visible(f)]
    editable = [f.name for f in _edit_fields(entity)]
    attrs = {
        "datamodel": _interface(entity, model, visible),
        "entity_spec": entity,
        "resource_name": entity.name,
        "class_permission_name": permission_name(entity.name),
        "method_permission_name": _API_METHODS,
        "allow_browser_login": True,
        # The YAML's German labels, titles and help texts, as on the HTML pages (FAB would derive
        # English ones from the column names: "Birth Date").
        **_texts(entity),
        # Every field described for API clients (``_info``): the YAML's help text, else what the field takes.
        # (FAB translates a missing description "" with gettext, which answers the catalogue's header.)
        "description_columns": {f.name: f.help or _api_description(f) for f in entity.fields},
        "list_columns": ["id", *visible],
        # The version goes back with PUT (optimistic locking, see EntityRestApi.put_headless).
        "show_columns": ["id", *visible, "created_at", "created_by", "updated_at", "updated_by", VERSION_COLUMN],
        "add_columns": editable,
        "edit_columns": editable,
        "search_columns": [f.name for f in entity.fields if kind_of(f).searchable and _visible(f)],
        "order_columns": [f.name for f in entity.fields if kind_of(f).sortable],
        # The forms' rules (an IBAN's check digits, a per-cent range) for clients without a form.
        "validators_columns": {f.name: check for f in _edit_fields(entity) if (check := kind_of(f).api_validator(f))},
        "page_size": 25,
        "max_page_size": 100,
        # Paging needs a stable order (PostgreSQL returns rows in any order without one): the list's order.
        "base_order": _base_order(entity, entity.order_by or next((f.name for f in entity.fields
                                                                   if _visible(f) and f.show_in_list), None)),
        "base_filters": [["id", OrgUnitFilter, None]] if entity.org_scope != "none" else [],
        "openapi_spec_tag": entity.plural,
    }
    return type(f"{_camel(entity.name)}Api", (EntityRestApi,), attrs)


def register_views(appbuilder, registry: ModelRegistry) -> dict[str, type]:
    views = build_view_classes(registry)
    # Children (case-file pages) appear as tabs of their parent, not in the menu.
    for em in registry:
        entity = em.spec
        view = views[entity.name]
        if entity.menu:
            appbuilder.add_view(view, entity.plural, icon=entity.icon or "fa-folder", category=entity.menu,
                                category_icon=entity.icon or "fa-folder")
        else:
            appbuilder.add_view_no_menu(view)
        appbuilder.add_api(build_api_class(registry, entity, em.model)).schemas_wanted()
    return views
