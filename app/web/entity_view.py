"""The ModelView every generated entity page derives from: org units, defaults, history, guarded deletes."""
from __future__ import annotations

from flask import abort, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.security.decorators import has_access

from ..services import records, save_hooks
from ..services.history import record_history


class EntityModelView(ModelView):
    entity_spec = None  # set by build_views
    field_defaults: dict = {}
    show_template = "fachstelle/show.html"
    list_template = "fachstelle/list.html"

    # --- add: defaults and the record's org unit -------------------------------------------------
    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        if request.method == "GET":
            for name, default in self.field_defaults.items():
                field = getattr(form, name, None)
                if field is not None and not field.data:
                    field.data = default() if callable(default) else default
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _fill_form_exclude_cols(self, exclude_cols, form):
        # The parent comes from the URL (related list "add"): it must be a record the user may see.
        super()._fill_form_exclude_cols(exclude_cols, form)
        for name in exclude_cols:
            field = getattr(form, name, None)
            if field is not None and field.data is not None and not records.can_see(field.data):
                abort(404)

    def pre_add(self, item):
        records.assign_org_unit(self.entity_spec, item)

    def post_add(self, item):
        save_hooks.after_save(self.entity_spec.name, item, created=True)

    def pre_update(self, item):
        records.check_refs_visible(self.entity_spec, item)

    def post_update(self, item):
        save_hooks.after_save(self.entity_spec.name, item, created=False)

    def pre_delete(self, item):
        records.check_deletable(self.entity_spec, item)

    # --- show: related pages the user may read, and the record's history ---------------------------
    def _allowed_related(self):
        sm = self.appbuilder.sm
        return [view for view in self._related_views if sm.has_access("can_list", view.class_permission_name)]

    def _get_related_views_widgets(self, item, orders=None, pages=None, page_sizes=None, widgets=None, **args):
        widgets = widgets or {}
        widgets["related_views"] = []
        orders, pages, page_sizes = orders or {}, pages or {}, page_sizes or {}
        for view in self._allowed_related():
            order_column, order_direction = orders.get(view.__class__.__name__, ("", ""))
            widgets["related_views"].append(self._get_related_view_widget(
                item, view, order_column, order_direction,
                page=pages.get(view.__class__.__name__), page_size=page_sizes.get(view.__class__.__name__)))
        return widgets

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        pk = self._deserialize_pk_if_composite(pk)
        widgets = self._show(pk)
        history = record_history(self.datamodel.session, self.entity_spec.name, int(pk)) \
            if self.appbuilder.sm.has_access("can_show", self.class_permission_name) else []
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=self._allowed_related(), history=history,
                                    entity=self.entity_spec)
