"""Template-filter internals: FAB's link filters and its view look-up by class name.

FAB registers its Jinja filters from ``appbuilder.template_filters`` (a ``TemplateFilters``); the app
wraps three of them (``render_cache.install_fast_template_filters``) and replaces the static
``find_views_by_name`` that ``is_item_visible`` and friends call, with an index by class name.
The app's templates extend FAB's (``appbuilder/baselayout.html``, ``general/model/list.html``,
``general/model/show.html``, ``general/widgets/list.html``) and call macros of ``general/lib.html`` and
``baselib.html``: ``tests/unit/test_fab_contract.py`` pins those blocks and macros.
"""
from __future__ import annotations

#: The Jinja filter name and the ``TemplateFilters`` method behind it.
LINK_FILTERS = {"link_page": "link_page_filter", "link_page_size": "link_page_size_filter",
                "link_order": "link_order_filter"}


def link_filters(appbuilder) -> dict:
    """FAB's own link filters by their Jinja names: ``(value, modelview_name) -> URL``."""
    filters = appbuilder.template_filters
    return {name: getattr(filters, method) for name, method in LINK_FILTERS.items()}


def registered_views(appbuilder) -> list:
    """Every registered view and API instance, in registration order (``appbuilder.baseviews``)."""
    return appbuilder.baseviews


def install_view_index(appbuilder) -> None:
    """Replace FAB's ``find_views_by_name`` (a loop over every registered view) with a name index.

    FAB looks a view up by its class name for each ``is_item_visible``: four times per table, about 40
    views each. The views are registered at start-up; the index is rebuilt when their number changes.
    The first view of a name wins, as in FAB's loop.
    """
    index: dict = {}

    def find_views_by_name(view_name):
        views = appbuilder.baseviews
        if index.get(None) != len(views):
            index.clear()
            for view in views:
                index.setdefault(view.__class__.__name__, view)
            index[None] = len(views)
        return index.get(view_name)

    appbuilder.template_filters.find_views_by_name = find_views_by_name
