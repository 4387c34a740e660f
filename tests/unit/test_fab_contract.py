"""The contract between the app and Flask-AppBuilder's internals (app/web/fab_compat/).

Every private method, attribute, helper and template the wall uses is pinned here: its parameters (names,
kinds, defaults; annotations may change), and where the app relies on more than a name, the behaviour.
A FAB upgrade that changes one fails here with the touchpoint's name and where it is used, before a page
breaks. Behaviour that needs a running app (widget shapes, filters, keys) is pinned in
tests/integration/test_fab_internals.py.
"""
from __future__ import annotations

import inspect
from pathlib import Path

import flask_appbuilder
import pytest
from flask_appbuilder import api as fab_api
from flask_appbuilder import filters as fab_template_filters
from flask_appbuilder import widgets as fab_widgets
from flask_appbuilder.api.convert import Model2SchemaConverter, TreeNode
from flask_appbuilder.baseviews import BaseCRUDView
from flask_appbuilder.models import filters as fab_filters
from flask_appbuilder.models.sqla import filters as sqla_filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security import views as fab_security_views
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.utils import base as fab_utils

FAB = flask_appbuilder.__version__
README = "app/web/fab_compat/README.md"


def params(func) -> str:
    """A signature without annotations: ``self, pk, widgets=None, **kwargs``."""
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            out.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            out.append(f"**{p.name}")
        elif p.default is p.empty:
            out.append(p.name)
        else:
            out.append(f"{p.name}={p.default!r}")
    return ", ".join(out)


#: (touchpoint, where the app uses it, the FAB object, its parameters as of FAB 5.3)
SIGNATURES = [
    # ModelView (fab_compat/views.py -> app/web/entity_view.py)
    ("BaseCRUDView._init_forms", "ModelViewWall.prepare_search_form", BaseCRUDView._init_forms, "self"),
    ("BaseCRUDView._get_search_widget", "ModelViewWall.search_widget_options", BaseCRUDView._get_search_widget,
     "self, form=None, exclude_cols=None, widgets=None"),
    ("BaseCRUDView._get_list_widget", "ModelViewWall.list_order", BaseCRUDView._get_list_widget,
     "self, filters, actions=None, order_column='', order_direction='', page=None, page_size=None, widgets=None, "
     "**kwargs"),
    ("BaseCRUDView._get_add_widget", "ModelViewWall.fill_add_form", BaseCRUDView._get_add_widget,
     "self, form, exclude_cols=None, widgets=None"),
    ("BaseCRUDView._get_edit_widget", "ModelViewWall.fill_edit_form", BaseCRUDView._get_edit_widget,
     "self, form, exclude_cols=None, widgets=None"),
    ("BaseCRUDView._fill_form_exclude_cols", "ModelViewWall.form_filled_from_url",
     BaseCRUDView._fill_form_exclude_cols, "self, exclude_cols, form"),
    ("BaseCRUDView._get_show_widget", "ModelViewWall.record_shown", BaseCRUDView._get_show_widget,
     "self, pk, item, widgets=None, actions=None, show_fieldsets=None"),
    ("BaseCRUDView._get_related_views_widgets", "ModelViewWall.related_views_shown",
     BaseCRUDView._get_related_views_widgets, "self, item, orders=None, pages=None, page_sizes=None, widgets=None, **args"),
    ("BaseCRUDView._get_related_view_widget", "ModelViewWall._get_related_views_widgets",
     BaseCRUDView._get_related_view_widget,
     "self, item, related_view, order_column='', order_direction='', page=None, page_size=None"),
    ("BaseCRUDView._deserialize_pk_if_composite", "fab_compat.deserialize_pk (EntityModelView.show/edit)",
     BaseCRUDView._deserialize_pk_if_composite, "self, pk"),
    ("BaseCRUDView._show", "fab_compat.show_widgets (EntityModelView.show)", BaseCRUDView._show, "self, pk"),
    ("BaseCRUDView._edit", "fab_compat.edit_widgets (EntityModelView.edit)", BaseCRUDView._edit, "self, pk"),
    # ModelRestApi (fab_compat/api.py -> app/web/entity_api.py)
    ("ModelRestApi._init_model_schemas", "RestApiWall.schemas_at_startup",
     fab_api.ModelRestApi._init_model_schemas, "self"),
    ("ModelRestApi._label_columns_json", "RestApiWall.label_translator",
     fab_api.ModelRestApi._label_columns_json, "self, cols=None"),
    ("ModelRestApi._get_list_related_field", "RestApiWall.related_field_filters",
     fab_api.ModelRestApi._get_list_related_field, "self, field, filter_rel_field, page=None, page_size=None"),
    ("ModelRestApi._handle_filters_args", "RestApiWall._handle_filters_args",
     fab_api.ModelRestApi._handle_filters_args, "self, rison_args"),
    ("Model2SchemaConverter.convert", "fab_compat.schema_on_first_use", Model2SchemaConverter.convert,
     "self, columns, model=None, nested=True, parent_schema_name=None"),
    ("Model2SchemaConverter._column2relation", "SchemaConverterWall (app/web/api_schemas.py)",
     Model2SchemaConverter._column2relation, "self, datamodel, column, nested=False, parent_schema_name=None"),
    ("TreeNode.__init__", "SchemaConverterWall._column2relation", TreeNode.__init__, "self, name"),
    # SQLAInterface (fab_compat/interface.py -> app/web/interface.py)
    ("SQLAInterface.apply_order_by", "InterfaceWall.sort_column", SQLAInterface.apply_order_by,
     "self, query, order_column, order_direction, aliases_mapping=None, bypass_many_to_many=False, add_pk=False"),
    ("SQLAInterface.apply_inner_select_joins", "InterfaceWall.apply_inner_select_joins",
     SQLAInterface.apply_inner_select_joins, "self, query, select_columns=None, aliases_mapping=None"),
    ("SQLAInterface._apply_inner_all", "InterfaceWall.filtered_query", SQLAInterface._apply_inner_all,
     "self, query, filters=None, order_column='', order_direction='', page=None, page_size=None, "
     "select_columns=None, aliases_mapping=None"),
    ("SQLAInterface.get_related_obj", "InterfaceWall.get_related_obj", SQLAInterface.get_related_obj,
     "self, col_name, value"),
    ("SQLAInterface.query_count", "FachstelleInterface.query_count", SQLAInterface.query_count,
     "self, query, filters=None, select_columns=None"),
    ("SQLAInterface.query", "FachstelleInterface.query", SQLAInterface.query,
     "self, filters=None, order_column='', order_direction='', page=None, page_size=None, select_columns=None, "
     "outer_default_load=False"),
    ("SQLAInterface.get", "FachstelleInterface.get", SQLAInterface.get,
     "self, id, filters=None, select_columns=None, outer_default_load=False"),
    ("SQLAInterface.get_values", "FachstelleInterface.get_values", SQLAInterface.get_values,
     "self, lst, list_columns"),
    ("sqla.filters.set_value_to_type", "InterfaceWall.key_value", sqla_filters.set_value_to_type,
     "datamodel, column_name, value"),
    ("utils.base.is_column_dotted", "fab_compat.is_dotted", fab_utils.is_column_dotted, "column"),
    ("Filters.add_filter", "RestApiWall._handle_filters_args", fab_filters.Filters.add_filter,
     "self, column_name, filter_class, value"),
    ("Filters.get_joined_filters", "RestApiWall._handle_filters_args", fab_filters.Filters.get_joined_filters,
     "self, filters"),
    ("Filters.add_filter_related_view", "FAB's related lists (fab_compat.is_parent_filter)",
     fab_filters.Filters.add_filter_related_view, "self, column_name, filter_class, value"),
    # filters (fab_compat/filters.py -> app/web/filters.py)
    ("BaseFilter.__init__", "fab_compat.is_parent_filter (is_related_view)", fab_filters.BaseFilter.__init__,
     "self, column_name, datamodel, is_related_view=False"),
    ("sqla.filters.get_field_setup_query", "fab_compat.field_for_filter (FilterPrefix)",
     sqla_filters.get_field_setup_query, "query, model, column_name"),
    # security (fab_compat/security.py -> app/web/security.py, app/cli.py, app/letters/views.py)
    ("SecurityManager._has_view_access", "SecurityManagerWall._has_view_access", SecurityManager._has_view_access,
     "self, user, permission_name, view_name"),
    ("SecurityManager._get_user_permission_view_menus", "SecurityManagerWall._get_user_permission_view_menus",
     SecurityManager._get_user_permission_view_menus, "self, user, permission_name, view_menus_name"),
    ("SecurityManager.has_access", "FachstelleSecurityManager.has_access", SecurityManager.has_access,
     "self, permission_name, view_name"),
    ("SecurityManager.is_item_public", "FachstelleSecurityManager.is_item_public", SecurityManager.is_item_public,
     "self, permission_name, view_name"),
    ("SecurityManager.get_user_permissions", "FachstelleSecurityManager.get_user_permissions",
     SecurityManager.get_user_permissions, "self, user"),
    ("SecurityManager.get_user_by_id", "FachstelleSecurityManager.get_user_by_id", SecurityManager.get_user_by_id,
     "self, pk"),
    ("BaseSecurityManager.create_db", "fab_compat.create_builtin_roles (fachstelle init/sync-roles)",
     BaseSecurityManager.create_db, "self"),
    # own account (app/web/account.py, app/services/users.py: #11)
    ("BaseSecurityManager.reset_password", "services.users.set_password", BaseSecurityManager.reset_password,
     "self, userid, password"),
    ("AuthView.logout", "FachstelleAuthDBView.logout (POST only)", fab_security_views.AuthView.logout, "self"),
    ("SimpleFormView.this_form_get", "OwnPasswordRedirect.this_form_get",
     fab_security_views.ResetMyPasswordView.this_form_get, "self"),
    ("SimpleFormView.this_form_post", "OwnPasswordRedirect.this_form_post",
     fab_security_views.ResetMyPasswordView.this_form_post, "self"),
    ("ResetPasswordView.form_post", "AdminPasswordView.form_post", fab_security_views.ResetPasswordView.form_post,
     "self, form"),
    # templates and widgets (fab_compat/templates.py, widgets.py -> render_cache.py, widgets.py)
    ("TemplateFilters.link_order_filter", "fab_compat.link_filters", fab_template_filters.TemplateFilters.link_order_filter,
     "self, column, modelview_name"),
    ("TemplateFilters.link_page_filter", "fab_compat.link_filters", fab_template_filters.TemplateFilters.link_page_filter,
     "self, page, modelview_name"),
    ("TemplateFilters.link_page_size_filter", "fab_compat.link_filters",
     fab_template_filters.TemplateFilters.link_page_size_filter, "self, page_size, modelview_name"),
    ("TemplateFilters.find_views_by_name", "fab_compat.install_view_index",
     fab_template_filters.TemplateFilters.find_views_by_name, "view_name"),
    ("RenderTemplateWidget.__call__", "fab_compat.render_widget_template (search form)",
     fab_widgets.RenderTemplateWidget.__call__, "self, **kwargs"),
]


@pytest.mark.parametrize("touchpoint, used_by, func, expected", SIGNATURES, ids=[s[0] for s in SIGNATURES])
def test_signature(touchpoint, used_by, func, expected):
    actual = params(func)
    assert actual == expected, (
        f"FAB-Vertrag gebrochen: {touchpoint} (genutzt von {used_by}) hat in Flask-AppBuilder {FAB} die "
        f"Parameter ({actual}), erwartet ({expected}). Anpassen in app/web/fab_compat/, siehe {README}.")


def _broken(touchpoint: str, what: str) -> str:
    return f"FAB-Vertrag gebrochen: {touchpoint} — {what} (Flask-AppBuilder {FAB}); siehe {README}."


def _source(obj) -> str:
    return inspect.getsource(obj)


# --- behaviour the wall relies on, readable without an app ---------------------------------------------
def test_account_views_rely_on_fab_logout_and_password_slots():
    # FachstelleAuthDBView.logout (POST) lets FAB's logout end the session (and call on_user_logout);
    # FachstelleSecurityManager fills the three view slots that FAB's add_views reads (#11).
    logout = _source(fab_security_views.AuthView.logout)
    assert "logout_user()" in logout and "on_user_logout" in logout, \
        _broken("AuthView.logout", "meldet nicht mehr mit logout_user() ab")
    manager = _source(BaseSecurityManager)
    for slot in ("self.authdbview()", "self.resetpasswordview()", "self.resetmypasswordview()"):
        assert slot in manager, _broken(f"BaseSecurityManager.{slot[5:-2]}", "Ansicht wird nicht mehr so angelegt")


def test_private_view_attributes_exist():
    # ModelViewWall and base_filters/search_filters/related_view_instances read these attributes.
    for name in ("_base_filters", "_related_views"):
        assert hasattr(BaseCRUDView, name), _broken(f"BaseCRUDView.{name}", "Klassenattribut fehlt")
    module = _source(inspect.getmodule(BaseCRUDView))
    assert "self._filters = self.datamodel.get_filters(self.search_columns)" in module, \
        _broken("BaseModelView._filters", "die Suchfilter der Seite werden nicht mehr so angelegt")
    assert "self._related_views = self._related_views or []" in module, \
        _broken("BaseCRUDView._related_views", "die Instanzen der verknüpften Seiten heißen anders")
    assert "self._base_filters = self.datamodel.get_filters().add_filter_list(" in module, \
        _broken("BaseModelView._base_filters", "die Basisfilter der Seite werden nicht mehr so angelegt")


def test_fab_fills_url_columns_through_get_related_obj():
    # InterfaceWall.get_related_obj replaces FAB's Query.get; only useful while FAB calls it there.
    assert "self.datamodel.get_related_obj(" in _source(BaseCRUDView._fill_form_exclude_cols), \
        _broken("BaseCRUDView._fill_form_exclude_cols", "ruft datamodel.get_related_obj nicht mehr auf")


def test_fab_show_and_edit_build_widgets_through_the_hooks():
    # The hooks of ModelViewWall are reached only through these calls inside FAB's _show/_edit/_list.
    show, edit = _source(BaseCRUDView._show), _source(BaseCRUDView._edit)
    assert "self._get_show_widget(" in show and "self._get_related_views_widgets(" in show, \
        _broken("BaseCRUDView._show", "baut Detail- und verknüpfte Tabellen nicht mehr über diese Methoden")
    assert "self._get_related_views_widgets(" in edit and "self._fill_form_exclude_cols(" in edit, \
        _broken("BaseCRUDView._edit", "baut verknüpfte Tabellen/Formularwerte nicht mehr über diese Methoden")
    # fab_compat.posted_edit_widgets repeats _edit's POST path up to the widget (a refused stale save).
    for step in ("get_filter_args(self._filters, disallow_if_not_in_search=False)",
                 "self._filters.get_relation_cols()", "self.edit_form.refresh(request.form)"):
        assert step in edit, _broken("BaseCRUDView._edit", f"enthält nicht mehr {step!r} (posted_edit_widgets)")
    # fab_compat.posted_add_widgets repeats _add's POST path up to the widget (the duplicate step, #11).
    add = _source(BaseCRUDView._add)
    for step in ("get_filter_args(self._filters, disallow_if_not_in_search=False)",
                 "self._filters.get_relation_cols()", "self.add_form.refresh()",
                 "self._fill_form_exclude_cols(exclude_cols, form)", "self._get_add_widget(form=form"):
        assert step in add, _broken("BaseCRUDView._add", f"enthält nicht mehr {step!r} (posted_add_widgets)")
    assert "related_view._get_view_widget(" in _source(BaseCRUDView._get_related_view_widget), \
        _broken("BaseCRUDView._get_related_view_widget", "geht nicht mehr über _get_list_widget")


def test_rison_decorator_validates_through_the_module_global():
    # install_rison_schema_cache replaces flask_appbuilder.api.jsonschema; FAB must look it up there.
    source = _source(fab_api.rison)
    assert "jsonschema.validate(instance=" in source and "jsonschema.ValidationError" in source, \
        _broken("flask_appbuilder.api.rison", "prüft Rison-Argumente nicht mehr über das Modul jsonschema")
    import jsonschema
    assert fab_api.jsonschema is jsonschema or type(fab_api.jsonschema).__name__ == "RisonSchemaCheckedOnce"
    assert fab_api.API_FILTERS_RIS_KEY == "filters", _broken("const.API_FILTERS_RIS_KEY", "anderer Schlüssel")


def test_model_rest_api_schema_attributes():
    # schema_on_first_use makes these attributes, as FAB's _init_model_schemas would.
    for name in ("list_model_schema", "show_model_schema", "add_model_schema", "edit_model_schema",
                 "model2schemaconverter"):
        assert hasattr(fab_api.ModelRestApi, name), _broken(f"ModelRestApi.{name}", "Attribut fehlt")
    for kind in ("list", "show", "add", "edit"):
        assert isinstance(inspect.getattr_static(fab_api.ModelRestApi, f"{kind}_model_schema_name"), property), \
            _broken(f"ModelRestApi.{kind}_model_schema_name", "Schemaname fehlt")
    init = _source(fab_api.ModelRestApi._init_model_schemas)
    assert "self.model2schemaconverter.convert(" in init and "nested=False" in init, \
        _broken("ModelRestApi._init_model_schemas", "baut die Schemas anders als schema_on_first_use")


def test_relation_fields_get_no_validators_from_fab():
    # SchemaConverterWall._column2relation adds validators_columns to reference fields itself (#11: catalogue
    # values, colleagues); if FAB starts doing it too, each check would run twice.
    assert "validators_columns" not in _source(Model2SchemaConverter._column2relation), \
        _broken("Model2SchemaConverter._column2relation", "wendet validators_columns jetzt selbst an")
    assert "validators_columns" in _source(Model2SchemaConverter._column2field), \
        _broken("Model2SchemaConverter._column2field", "wendet validators_columns nicht mehr an")


def test_tree_node_children():
    node = TreeNode("client")
    assert node.name == "client" and node.children == [], _broken("api.convert.TreeNode", "name/children")


def test_security_manager_internals():
    has_access = _source(SecurityManager.has_access)
    assert "_api_key_user" in has_access and "self._has_view_access(" in has_access, \
        _broken("SecurityManager.has_access", "liest g._api_key_user nicht mehr oder fragt _has_view_access nicht")
    import flask_login.utils
    assert "g._login_user" in _source(flask_login.utils._get_user), \
        _broken("flask_login g._login_user", "Flask-Login hält den Benutzer der Anfrage nicht mehr dort")
    # set_request_user (JWT requests): a user put there first is used, the session cookie is not read.
    assert '"_login_user" not in g' in _source(flask_login.utils._get_user), \
        _broken("flask_login g._login_user", "lädt den Benutzer auch, wenn g._login_user schon gesetzt ist")
    assert "self._get_user_permission_view_menus(" in _source(SecurityManager.get_user_menu_access), \
        _broken("SecurityManager.get_user_menu_access", "nutzt _get_user_permission_view_menus nicht mehr")
    base = _source(BaseSecurityManager.create_db)
    assert "self.builtin_roles" in base and "self.add_role(" in base and "create_all" not in base, \
        _broken("BaseSecurityManager.create_db", "legt nicht mehr nur die eingebauten Rollen an")
    assert SecurityManager.create_db is not BaseSecurityManager.create_db
    decorators = _source(flask_appbuilder.security.decorators)
    assert 'auth_view.__class__.__name__ + ".login"' in decorators, \
        _broken("security.decorators.has_access", "leitet nicht mehr so zur Anmeldung (fab_compat.login_url)")
    # #11 (row 43): the login view flashes the refusal read at each failure; the user loader is set in
    # create_login_manager; form and JWT login both authenticate through auth_user_db (the throttle).
    from flask_appbuilder.security.api import SecurityApi
    from flask_appbuilder.security.views import AuthDBView, AuthView
    assert "flash(as_unicode(self.invalid_login_message)" in _source(AuthDBView.login), \
        _broken("AuthDBView.login", "meldet eine abgewiesene Anmeldung nicht mehr über invalid_login_message "
                "(fab_compat.set_login_refusal)")
    assert hasattr(AuthView, "invalid_login_message")
    assert "lm.user_loader(" in _source(BaseSecurityManager.create_login_manager), \
        _broken("BaseSecurityManager.create_login_manager", "setzt den user_loader nicht mehr (Sitzungsprüfung)")
    for login in (AuthDBView.login, SecurityApi.login):
        assert "self.appbuilder.sm.auth_user_db(" in _source(login), \
            _broken(login.__qualname__, "prüft das Passwort nicht mehr über auth_user_db (Anmeldesperre)")
    for name in ("builtin_roles", "permission_model", "viewmenu_model", "permissionview_model", "role_model",
                 "user_model"):
        assert name in _source(BaseSecurityManager) + _source(SecurityManager), \
            _broken(f"SecurityManager.{name}", "Attribut fehlt")


def test_template_filters_look_views_up_through_the_instance():
    # install_view_index replaces find_views_by_name on the TemplateFilters instance.
    source = _source(fab_template_filters.TemplateFilters)
    assert "self.find_views_by_name(" in source, \
        _broken("TemplateFilters.is_item_visible", "sucht Seiten nicht mehr über self.find_views_by_name")
    assert "self.template_filters = TemplateFilters(" in _source(flask_appbuilder.base), \
        _broken("AppBuilder.template_filters", "die Template-Filter heißen anders")


def test_search_widget_and_as_unicode():
    from flask_appbuilder._compat import as_unicode
    assert as_unicode(b"Stra\xc3\x9fe") == "Straße" and as_unicode(3) == "3", _broken("_compat.as_unicode", "")
    source = _source(fab_widgets.SearchWidget.__call__)
    for name in ("label_columns", "form_fields", "search_filters", "active_filters",
                 "super(SearchWidget, self).__call__(**kwargs)"):
        assert name in source, _broken("SearchWidget.__call__", f"„{name}“ fehlt (CataloguesCachedSearchWidget._render)")
    assert fab_widgets.SearchWidget.template == "appbuilder/general/widgets/search.html"
    assert fab_widgets.ListWidget.template == "appbuilder/general/widgets/list.html"
    assert "self.template_args = kwargs" in _source(fab_widgets.RenderTemplateWidget.__init__), \
        _broken("RenderTemplateWidget.template_args", "die Widget-Argumente heißen anders")


def test_filter_conversion_table():
    table = dict(sqla_filters.SQLAFilterConverter.conversion_table)
    assert isinstance(sqla_filters.SQLAFilterConverter.conversion_table, tuple)
    for kind in ("is_string", "is_date", "is_relation_many_to_one", "is_integer"):
        assert isinstance(table.get(kind), list), \
            _broken("SQLAFilterConverter.conversion_table", f"„{kind}“ fehlt (FachstelleFilterConverter)")
    assert sqla_filters.FilterContains in table["is_string"] and sqla_filters.FilterEqual in table["is_string"]
    for name in ("filters", "values"):
        assert f"self.{name} = []" in _source(fab_filters.Filters.clear_filters), \
            _broken(f"Filters.{name}", "Liste der Filter/Werte heißt anders (fab_compat.filter_pairs)")
    assert fab_filters.BaseFilter.is_related_view is False, \
        _broken("BaseFilter.is_related_view", "Markierung des Elternfilters fehlt (fab_compat.is_parent_filter)")
    assert "filter_class(column_name, self.datamodel, True)" in _source(fab_filters.Filters.add_filter_related_view), \
        _broken("Filters.add_filter_related_view", "markiert den Elternfilter nicht mehr (is_related_view)")


def test_sqla_extension_path():
    # app/extensions.py makes the app's db from here.
    from flask_appbuilder.models.sqla.base import SQLA
    from flask_sqlalchemy import SQLAlchemy
    assert issubclass(SQLA, SQLAlchemy), _broken("models.sqla.base.SQLA", "keine Flask-SQLAlchemy-Erweiterung")


# --- FAB's templates the app's templates extend ----------------------------------------------------------
TEMPLATES = Path(flask_appbuilder.__file__).parent / "templates" / "appbuilder"

#: (FAB template, blocks or macros our templates override or call, our template)
TEMPLATE_CONTRACT = [
    ("baselayout.html", ["head_css", "tail_js"], "fachstelle/base.html"),
    ("general/model/list.html", ["list_search"], "fachstelle/list.html"),
    ("general/model/show.html", ["content", "show_form"], "fachstelle/show.html"),
    ("general/widgets/list.html", ["list_header", "begin_loop_values"], "fachstelle/widgets/list.html"),
]
MACROS = [
    ("general/lib.html", ["accordion_tag", "panel_begin", "panel_end", "render_pagination", "render_set_page_size",
                          "lnk_add", "render_actions", "lnk_back"]),
    ("baselib.html", ["get_nonce"]),
]


def _blocks(name: str, seen=()) -> set[str]:
    """Blocks defined in a FAB template and the templates it extends."""
    import re
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    found = set(re.findall(r"{%-?\s*block\s+(\w+)", text))
    parent = re.search(r"{%-?\s*extends\s+['\"]appbuilder/([^'\"]+)['\"]", text)
    if parent and parent.group(1) not in seen:
        found |= _blocks(parent.group(1), (*seen, name))
    return found


@pytest.mark.parametrize("template, blocks, ours", TEMPLATE_CONTRACT, ids=[t[0] for t in TEMPLATE_CONTRACT])
def test_template_blocks(template, blocks, ours):
    assert (TEMPLATES / template).is_file(), _broken(f"appbuilder/{template}", f"fehlt ({ours} erweitert sie)")
    missing = sorted(set(blocks) - _blocks(template))
    assert not missing, _broken(f"appbuilder/{template}", f"Blöcke {missing} fehlen ({ours} überschreibt sie)")


@pytest.mark.parametrize("template, macros", MACROS, ids=[m[0] for m in MACROS])
def test_template_macros(template, macros):
    import re
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    defined = set(re.findall(r"{%-?\s*macro\s+(\w+)", text))
    missing = sorted(set(macros) - defined)
    assert not missing, _broken(f"appbuilder/{template}", f"Makros {missing} fehlen (app/web/templates/fachstelle)")


def test_pin_matches_installed_version():
    # The contract is written against 5.3; a newer FAB must pass this file before the pin is raised.
    assert FAB.startswith("5.3."), _broken("flask-appbuilder", f"Version {FAB} statt 5.3.x: Vertrag prüfen")


# --- deprecations are errors (pyproject.toml) -------------------------------------------------------------
def test_deprecation_warnings_fail_the_tests():
    import warnings
    with pytest.raises(DeprecationWarning):
        warnings.warn("veraltet", DeprecationWarning, stacklevel=1)


@pytest.mark.parametrize("message, module", [
    ("Yielding raw tuples from iter_choices() or iter_groups() is deprecated", "wtforms.widgets.core"),
    ("'DateTimeField' renders <input type=\"datetime\">, which is obsolete.", "wtforms.fields.core"),
])
def test_only_the_named_third_party_deprecations_are_ignored(message, module):
    import warnings
    warnings.warn_explicit(message, DeprecationWarning, "lib.py", 1, module=module)  # ignored: no error
    with pytest.raises(DeprecationWarning):  # the same text from the app's own code is an error
        warnings.warn_explicit(message, DeprecationWarning, "fields.py", 1, module="app.metamodel.kinds.form_fields")


# --- the wall holds: no FAB internals outside app/web/fab_compat ------------------------------------------
APP = Path(__file__).resolve().parents[2] / "app"
WALL = APP / "web" / "fab_compat"

#: FAB modules (and what of them) the app may import outside the wall: FAB's documented API.
PUBLIC_IMPORTS = {
    "flask_appbuilder": {"Model", "AppBuilder", "BaseView", "ModelView", "IndexView", "expose", "has_access"},
    # permission_name: documented in FAB's security docs ("Permission customization").
    "flask_appbuilder.security.decorators": {"has_access", "permission_name"},
    # DatabaseException: what SQLAInterface.edit/add/delete raise (FAB's documented exceptions module).
    # PasswordComplexityValidationError: what FAB_PASSWORD_COMPLEXITY_VALIDATOR raises (FAB's config docs).
    "flask_appbuilder.exceptions": {"DatabaseException", "PasswordComplexityValidationError"},
    "flask_appbuilder.security.sqla.models": {"User"},
    # The auth and password views: documented slots of the security manager ("Your Custom Security":
    # authdbview, resetmypasswordview, resetpasswordview) that app/web/account.py fills (#11).
    "flask_appbuilder.security.views": {"UserDBModelView", "AuthDBView", "ResetMyPasswordView", "ResetPasswordView"},
    # The BS3 widgets: FAB's documented way to write a form field ("Forms"/"Customizing"); Select2Widget is
    # the widget of FAB's documented "add_form_extra_fields" example (the catalogue choice).
    "flask_appbuilder.fieldwidgets": {"BS3PasswordFieldWidget", "Select2Widget"},
    "flask_appbuilder.models.sqla.interface": {"SQLAInterface"},
    "flask_appbuilder.models.filters": {"BaseFilter"},
    "flask_appbuilder.models.sqla.filters": {"FilterEqual", "FilterRelationOneToManyEqual"},
    "flask_appbuilder.models.sqla": {"filters"},  # the filter classes and the converter (filter_converter_class)
    "flask_appbuilder.models.sqla.base": {"SQLA"},
    "flask_appbuilder.widgets": {"ListWidget", "SearchWidget"},
}
#: Private FAB names (methods, attributes, request state) that only the wall may touch.
PRIVATE_NAMES = {
    "_init_forms", "_get_search_widget", "_get_list_widget", "_get_add_widget", "_fill_form_exclude_cols",
    "_get_show_widget", "_get_related_views_widgets", "_get_related_view_widget", "_deserialize_pk_if_composite",
    "_show", "_edit", "_base_filters", "_filters", "_related_views", "_init_model_schemas", "_label_columns_json",
    "_get_list_related_field", "_handle_filters_args", "_column2relation", "_apply_inner_all", "_has_view_access",
    "_get_user_permission_view_menus", "_login_user", "_api_key_user", "template_args", "template_filters",
    "find_views_by_name", "baseviews", "auth_view", "jsonschema",
}


def _app_modules():
    for path in sorted(APP.rglob("*.py")):
        if WALL not in path.parents:
            yield path


def test_fab_internals_only_inside_the_wall():
    import ast
    found = []
    for path in _app_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(APP.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_appbuilder"):
                allowed = PUBLIC_IMPORTS.get(node.module, set())
                found += [f"{where}:{node.lineno} from {node.module} import {a.name}"
                          for a in node.names if a.name not in allowed]
            elif isinstance(node, ast.Import):
                found += [f"{where}:{node.lineno} import {a.name}" for a in node.names
                          if a.name.startswith("flask_appbuilder")]
            elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_NAMES:
                found.append(f"{where}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.ClassDef):
                found += [f"{where}:{item.lineno} {node.name}.{item.name} (überschreibt eine FAB-Interna)"
                          for item in node.body if isinstance(item, ast.FunctionDef) and item.name in PRIVATE_NAMES]
    assert not found, ("FAB-Interna außerhalb von app/web/fab_compat (dort kapseln, README.md-Tabelle und "
                       "Vertragstest ergänzen):\n" + "\n".join(found))


def _app_classes():
    import importlib
    import pkgutil

    import app
    for info in pkgutil.walk_packages(app.__path__, "app."):
        if info.name.startswith("app.web.fab_compat"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and obj.__module__ == info.name:
                yield obj


def test_no_fab_private_method_is_overridden_outside_the_wall():
    # Any class of the app deriving from FAB: a name of its own starting with "_" must not shadow one of a
    # FAB base class (a private method or attribute); such an override belongs in fab_compat, as a hook.
    found = []
    for cls in _app_classes():
        fab_bases = [base for base in cls.__mro__[1:] if base.__module__.startswith("flask_appbuilder")]
        if not fab_bases:
            continue
        for name in vars(cls):
            if name.startswith("_") and not name.startswith("__") and any(name in vars(b) for b in fab_bases):
                owner = next(b for b in fab_bases if name in vars(b))
                found.append(f"{cls.__module__}.{cls.__qualname__}.{name} überschreibt {owner.__qualname__}.{name}")
    assert not found, "FAB-Interna außerhalb von app/web/fab_compat überschrieben:\n" + "\n".join(found)
