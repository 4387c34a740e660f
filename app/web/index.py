"""The start page: quick partner search and the clerk's entry points."""
from flask import current_app
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from .actor import current_actor
from .worklist import TASK_PERMISSION, worklist_context


class FachstelleIndexView(IndexView):
    index_template = "fachstelle/index.html"

    @expose("/")
    def index(self):
        # After login the clerk lands here: the quick search and, for those with tasks, the worklist.
        spec = current_app.config["FACHSTELLE_SPEC"]
        units = ", ".join(u.name for u in getattr(current_user, "org_units", []) or [])
        worklist = None
        if getattr(current_user, "is_authenticated", False) and \
                self.appbuilder.sm.has_access("can_list", TASK_PERMISSION):
            worklist = worklist_context(current_actor(), team=False)
        tiles = []
        if getattr(current_user, "is_authenticated", False):
            from .dashboard import dashboard_tiles  # the start-page dashboard (#14)
            tiles = dashboard_tiles()
        return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                    city_name=spec.settings.city_name, units=units, worklist=worklist,
                                    tiles=tiles)
