"""The widgets of the generated pages: the list table with its capped count, and the cached search form."""
from __future__ import annotations

from flask import current_app, g, request
from flask_appbuilder.widgets import ListWidget, SearchWidget
from flask_babel import get_locale
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from wtforms.fields import SelectFieldBase

from .fab_compat import as_text, render_widget_template, widget_args
from .interface import COUNT_CAP
from .list_table import render_list_widget, table_cells
from .render_cache import catalogue_cache, catalogue_field_html
from .surface import csp_nonce


class CappedCountListWidget(ListWidget):
    """FAB's list table; the count above COUNT_CAP reads "mehr als 10.000" (see FachstelleInterface)."""

    template = "fachstelle/widgets/list.html"

    def __init__(self, **kwargs):
        super().__init__(count_cap=COUNT_CAP, **kwargs)

    def __call__(self, **kwargs):
        return render_list_widget({**widget_args(self), **kwargs})

    def render_with_template(self, **kwargs):
        """The same table through the Jinja templates: the specification list_table.py is tested against."""
        args = {**widget_args(self), **kwargs}
        kwargs["cells"] = [list(row) for row in table_cells(args)]
        kwargs["pks"] = [str(pk) for pk in args["pks"]]
        return super().__call__(**kwargs)


class CataloguesCachedSearchWidget(SearchWidget):
    """FAB's search form; a drop-down whose choices are only catalogue values is rendered from a cache.

    FAB renders every drop-down of the search form, with a query each, on every list page. The form is
    never bound on a list page (its values come from the URL, filled in by FAB's JavaScript), so such a
    field's HTML depends only on the catalogue (see render_cache.py for when it is rendered afresh).
    Drop-downs of records or colleagues depend on the user and are rendered every time. A form with none
    of those is cached whole, with the URL's active filters put in per request.
    """

    def __init__(self, cached_cols=(), cache_prefix="", **kwargs):
        self.cached_cols, self.cache_prefix = set(cached_cols), cache_prefix
        super().__init__(**kwargs)

    def __call__(self, **kwargs):
        form = widget_args(self)["form"]
        if kwargs or not self._whole_form_cacheable(form):
            return self._render(form, kwargs)
        # Everything but the active filters (from the URL) and the request's CSP nonce is the same for every
        # user of this view and locale: the form is rendered once with a placeholder for each
        # (catalogue_cache says how long).
        key = ("search", self.cache_prefix, str(get_locale()), request.script_root)
        html = catalogue_cache.get(key, lambda: self._render_with_slots(form))
        slot = _tojson(_ACTIVE_SLOT)
        if html.count(slot) != 1:
            return self._render(form, kwargs)
        html = html.replace(slot, _tojson(self.filters.get_filters_values_tojson()))
        if _NONCE_SLOT in html:
            html = html.replace(_NONCE_SLOT, csp_nonce())
        return Markup(html)

    def _whole_form_cacheable(self, form) -> bool:
        # Plain inputs and catalogue drop-downs only: a drop-down of records or colleagues depends on the user.
        return all(col in self.cached_cols or not isinstance(form[col], SelectFieldBase)
                   for col in widget_args(self)["include_cols"])

    def _render_with_slots(self, form) -> str:
        # The form's inline script carries the request's nonce: rendered with a placeholder in its place,
        # the request's own nonce restored afterwards (it may already be in the page's header).
        had, saved = "fs_csp_nonce" in g, g.get("fs_csp_nonce")
        g.fs_csp_nonce = _NONCE_SLOT
        try:
            return str(self._render(form, {}, active_filters=_ACTIVE_SLOT))
        finally:
            if had:
                g.fs_csp_nonce = saved
            else:
                g.pop("fs_csp_nonce", None)

    def _render(self, form, kwargs, active_filters=None):
        # FAB's SearchWidget.__call__, but the cached columns' fields go through catalogue_field_html.
        dict_filters = self.filters.get_search_filters()
        label_columns, form_fields, search_filters = {}, {}, {}
        for col in widget_args(self)["include_cols"]:
            field = form[col]
            label_columns[col] = as_text(field.label.text)
            form_fields[col] = (catalogue_field_html((self.cache_prefix, col), field) if col in self.cached_cols
                                else field())
            search_filters[col] = [as_text(flt.name) for flt in dict_filters[col]]
        kwargs.update(label_columns=label_columns, form_fields=form_fields, search_filters=search_filters,
                      active_filters=self.filters.get_filters_values_tojson() if active_filters is None
                      else active_filters)
        return render_widget_template(self, **kwargs)


_ACTIVE_SLOT = "fs-active-filters-0x7e"  # never a filter's column, name or value
_NONCE_SLOT = "fs-nonce-slot-0x7e"  # stands for the request's CSP nonce in the cached form


def _tojson(value) -> str:
    # Jinja's |tojson with the app's JSON policy, as the search template writes the active filters.
    policies = current_app.jinja_env.policies
    return str(htmlsafe_json_dumps(value, dumps=policies["json.dumps_function"], **policies["json.dumps_kwargs"]))
