"""Flask-AppBuilder behind one wall: every use of FAB's private or internal API lives in this package.

The rest of the app uses FAB's public API (``ModelView``, ``ModelRestApi``, ``BaseView``, ``expose``,
``has_access``, ``SQLAInterface``, ``BaseFilter``, ``AppBuilder``, the security manager's public methods)
and, for anything else, the classes and functions exported here. Each override of a FAB internal turns
it into a hook with a name of ours; each call of a private method or attribute is a function with a name
of ours. ``README.md`` in this folder is the inventory (what, where used, why);
``tests/unit/test_fab_contract.py`` pins the signature and behaviour of every touchpoint, so a FAB
upgrade fails there, naming the touchpoint, before any page breaks.

FAB is pinned to ``>=5.3,<5.4`` in ``pyproject.toml``. On an upgrade: raise the pin, run the contract
test, adapt this package (and only it) until it passes, then run the whole suite.
"""
from __future__ import annotations

from .api import RestApiWall, RisonSchemaCheckedOnce, install_rison_schema_cache, schema_on_first_use
from .filters import field_for_filter, filter_conversion_table
from .interface import InterfaceWall, filter_list, filter_pairs, is_dotted, is_parent_filter
from .schemas import SchemaConverterWall
from .security import (SecurityManagerWall, create_builtin_roles, is_api_key_request, login_url,
                       login_user_of_request, set_login_refusal, set_request_user)
from .templates import install_view_index, link_filters, registered_views
from .views import (ModelViewWall, base_filters, deserialize_pk, edit_widgets, list_filters, posted_add_widgets,
                    posted_edit_widgets, related_view_instances, search_filters, show_widgets)
from .widgets import as_text, render_widget_template, widget_args

__all__ = [
    "InterfaceWall", "ModelViewWall", "RestApiWall", "RisonSchemaCheckedOnce", "SchemaConverterWall",
    "SecurityManagerWall", "as_text", "base_filters", "create_builtin_roles", "deserialize_pk", "edit_widgets",
    "field_for_filter", "filter_conversion_table", "filter_list", "filter_pairs", "install_rison_schema_cache",
    "install_view_index", "is_api_key_request", "is_dotted", "is_parent_filter", "link_filters", "list_filters", "login_url",
    "login_user_of_request", "posted_add_widgets", "posted_edit_widgets", "registered_views",
    "related_view_instances", "render_widget_template", "schema_on_first_use", "search_filters",
    "set_login_refusal", "set_request_user", "show_widgets", "widget_args",
]
