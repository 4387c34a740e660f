"""The start page: quick partner search and the clerk's entry points."""
from flask import current_app
from flask_appbuilder import IndexView, expose
from flask_login import current_user


class FachstelleIndexView(IndexView):
    index_template = "fachstelle/index.html"

    @expose("/")
    def index(self):
        spec = current_app.config["FACHSTELLE_SPEC"]
        units = ", ".join(u.name for u in getattr(current_user, "org_units", []) or [])
        return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                    city_name=spec.settings.city_name, units=units)
