"""ModelView internals: the private methods of FAB's ``BaseCRUDView`` the generated pages override or call.

``ModelViewWall`` overrides FAB's private widget and form builders once and hands each to a named hook
(``prepare_search_form``, ``forms_built``, ``search_widget_options``, ``list_order``, ``fill_add_form``, ``fill_edit_form``,
``form_filled_from_url``, ``record_shown``, ``related_views_shown``); the app's views override the hooks.
Without an override a hook keeps FAB's behaviour. The functions below call FAB's private view methods
and attributes by a name of ours. ``tests/unit/test_fab_contract.py`` pins every one.
"""
from __future__ import annotations

from flask import request
from flask_appbuilder import ModelView
from flask_appbuilder.urltools import get_filter_args


class ModelViewWall(ModelView):
    """FAB's ModelView with its private builders turned into hooks (see the module docstring)."""

    # --- hooks: the app's views override these ------------------------------------------------------
    def prepare_search_form(self) -> None:
        """Called before FAB builds the view's forms (``_init_forms``): adjust ``search_form_query_rel_fields``."""

    def search_widget_options(self, form) -> dict:
        """Extra keyword arguments for the search widget (FAB's ``_get_search_widget`` passes none)."""
        return {}

    def forms_built(self) -> None:
        """Called after FAB built the view's form classes (``_init_forms``): add fields FAB does not know."""

    def list_order(self, order_column: str, order_direction: str) -> tuple[str, str]:
        """The order a list is built with, from the URL's (``""`` falls back to ``base_order``)."""
        return order_column, order_direction

    def fill_add_form(self, form) -> None:
        """Called with the add form before FAB builds its widget (GET and a failed POST alike)."""

    def fill_edit_form(self, form) -> None:
        """Called with the edit form before FAB builds its widget (GET and a failed POST alike)."""

    def form_filled_from_url(self, exclude_cols: list[str], form) -> None:
        """Called after FAB filled the form's fields named in the URL's filters (the parent of a related list)."""

    def record_shown(self, item) -> None:
        """Called with the record a show page displays, read by FAB with the view's base filters."""

    def masked_columns(self) -> set[str]:
        """Columns this request's user sees masked (#15: level ``list``): the list neither sorts nor filters by
        them, so the order of the hidden values is not revealed."""
        return set()

    # FAB sets ``order_columns`` once at start-up; each request reads them without the masked ones.
    @property
    def order_columns(self):
        from flask import has_request_context
        columns = self.__dict__.get("_wall_order_columns") or []
        hidden = self.masked_columns() if has_request_context() and columns else set()
        return [c for c in columns if c not in hidden] if hidden else columns

    @order_columns.setter
    def order_columns(self, value):
        self.__dict__["_wall_order_columns"] = value

    def unmasked_filters(self, filters):
        """``filters`` without those on masked columns (a copy; the same object when nothing is masked)."""
        hidden = self.masked_columns()
        if not hidden or not any(f.column_name in hidden for f in filters.filters):
            return filters
        kept = filters.copy()
        pairs = [(f, v) for f, v in zip(filters.filters, filters.values) if f.column_name not in hidden]
        kept.filters, kept.values = [f for f, _ in pairs], [v for _, v in pairs]
        kept._search_filters = filters._search_filters  # the search form's choices per column (FAB's)
        return kept

    def related_views_shown(self) -> list:
        """The related views (instances) whose tables a show or edit page renders, in this order."""
        return list(related_view_instances(self))

    def related_lists_ahead(self, item, views: list) -> None:
        """Called once with the record and the related views before their tables are built."""

    # --- FAB's private methods, overridden here only --------------------------------------------------
    def _init_forms(self):
        self.prepare_search_form()
        super()._init_forms()
        self.forms_built()

    def _get_search_widget(self, form=None, exclude_cols=None, widgets=None):
        # FAB's own body, with the hook's extra arguments.
        widgets = widgets or {}
        hidden = self.masked_columns()
        widgets["search"] = self.search_widget(
            route_base=self.route_base, form=form,
            include_cols=[c for c in self.search_columns if c not in hidden],
            exclude_cols=list(exclude_cols or []) + sorted(hidden), filters=self.unmasked_filters(self._filters),
            **self.search_widget_options(form))
        return widgets

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", page=None,
                         page_size=None, widgets=None, **kwargs):
        order_column, order_direction = self.list_order(order_column, order_direction)
        if order_column and order_column not in self.order_columns:
            order_column, order_direction = "", ""
        filters = self.unmasked_filters(filters)
        return super()._get_list_widget(filters, actions=actions, order_column=order_column,
                                        order_direction=order_direction, page=page, page_size=page_size,
                                        widgets=widgets, **kwargs)

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        self.fill_add_form(form)
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        self.fill_edit_form(form)
        return super()._get_edit_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _fill_form_exclude_cols(self, exclude_cols, form):
        super()._fill_form_exclude_cols(exclude_cols, form)
        self.form_filled_from_url(exclude_cols, form)

    def _get_show_widget(self, pk, item, **kwargs):
        self.record_shown(item)
        return super()._get_show_widget(pk, item, **kwargs)

    def _get_related_views_widgets(self, item, orders=None, pages=None, page_sizes=None, widgets=None, **args):
        # FAB's body over ``related_views_shown()`` instead of every registered related view (FAB's would
        # also fail on ``orders=None``).
        widgets = widgets or {}
        widgets["related_views"] = []
        orders, pages, page_sizes = orders or {}, pages or {}, page_sizes or {}
        views = self.related_views_shown()
        self.related_lists_ahead(item, views)
        for view in views:
            name = view.__class__.__name__
            order_column, order_direction = orders.get(name) or ("", "")
            widgets["related_views"].append(self._get_related_view_widget(
                item, view, order_column, order_direction, page=pages.get(name), page_size=page_sizes.get(name)))
        return widgets


# --- FAB's private view methods and attributes, by our names ------------------------------------------
def deserialize_pk(view, pk):
    """The key from the URL as the datamodel wants it (FAB's ``_deserialize_pk_if_composite``)."""
    return view._deserialize_pk_if_composite(pk)


def show_widgets(view, pk) -> dict:
    """FAB's show logic (``_show``): the record read with the base filters, its show and related widgets.

    Aborts with 404 when the record is not found (or not visible).
    """
    return view._show(pk)


def edit_widgets(view, pk) -> dict | None:
    """FAB's edit logic (``_edit``): the form's widgets, or None once a valid POST has been saved."""
    return view._edit(pk)


def posted_edit_widgets(view, item, adjust) -> dict:
    """The edit page for the posted form, without saving it: FAB's ``_edit`` POST path up to its widgets
    (URL filters, relation columns filled, the form from ``request.form``); ``adjust(form)`` runs before the
    widget is built. Used to show a refused stale save with what the user typed (optimistic locking)."""
    get_filter_args(view._filters, disallow_if_not_in_search=False)
    exclude_cols = view._filters.get_relation_cols()
    form = view.edit_form.refresh(request.form)
    view._fill_form_exclude_cols(exclude_cols, form)
    adjust(form)
    widgets = view._get_edit_widget(form=form, exclude_cols=exclude_cols)
    return view._get_related_views_widgets(item, widgets=widgets)


def posted_add_widgets(view):
    """The add page for the posted form, without saving it, if the form is valid; None otherwise (then FAB's
    own ``_add`` shows the errors). FAB's ``_add`` POST path up to its widget: URL filters, relation columns
    filled, the form from ``request.form``. Used for the duplicate step of a new partner."""
    get_filter_args(view._filters, disallow_if_not_in_search=False)
    exclude_cols = view._filters.get_relation_cols()
    form = view.add_form.refresh()
    view._fill_form_exclude_cols(exclude_cols, form)
    if not form.validate():
        return None
    return view._get_add_widget(form=form, exclude_cols=exclude_cols)


def list_filters(view):
    """The filters of this request's list page: the URL's search filters (``_flt_…``, as FAB's ``_list``
    reads them with ``get_filter_args``) joined with the base filters (org units). For the XLSX export of a
    list, which must hold exactly the rows the page lists (#14)."""
    get_filter_args(view._filters)
    own = view.unmasked_filters(view._filters) if hasattr(view, "unmasked_filters") else view._filters
    return own.get_joined_filters(view._base_filters)


def base_filters(view):
    """A view's or REST API's base filters as a FAB ``Filters`` object (``_base_filters``; org units for ours)."""
    return view._base_filters


def search_filters(view):
    """The view's ``Filters`` of its search columns (``_filters``), shared by every request of the process."""
    return view._filters


def related_view_instances(view) -> list:
    """The registered instances of the view's ``related_views`` classes (``_related_views``)."""
    return view._related_views or []
