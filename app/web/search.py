"""The one search box (start page and navbar): opens the single match, or lists partners and cases."""
from __future__ import annotations

from flask import redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from ..domain.quick_search import read_query
from ..extensions import db
from ..services.search import LIMIT, MY_CASES_LIMIT, my_cases, quick_search
from .actor import current_actor


class SearchView(BaseView):
    route_base = "/search"
    default_view = "search"
    # Whoever may list partners may search; cases only for those who may list them.
    class_permission_name = "entity_partner"
    method_permission_name = {"search": "list"}

    @expose("/", methods=["GET"])
    @has_access
    def search(self):
        actor = current_actor()
        text = request.args.get("q", "")
        query = read_query(text, today=actor.today)
        may_see_cases = self.appbuilder.sm.has_access("can_list", "entity_case")
        result = quick_search(db.session, query, actor, cases=may_see_cases) if not query.empty else None
        if result is not None:
            single = result.single()
            if single is not None:
                view = "CaseView" if single.__entity__ == "case" else "PartnerView"
                return redirect(url_for(f"{view}.show", pk=single.id))
        return self.render_template("fachstelle/search.html", q=query.text, query=query, result=result,
                                    limit=LIMIT, may_see_cases=may_see_cases,
                                    fs_page_title=f"Suche: {query.text}" if query.text else "Suche")


class MyCasesView(BaseView):
    """ "Meine Fälle": the cases whose "Sachbearbeitung" is the current user, newest first (open ones unless asked)."""
    route_base = "/my-cases"
    default_view = "index"
    class_permission_name = "entity_case"
    method_permission_name = {"index": "list", "export": "list"}

    @expose("/", methods=["GET"])
    @has_access
    def index(self):
        actor = current_actor()
        show_closed = request.args.get("closed") == "1"
        rows, more = my_cases(db.session, actor, include_closed=show_closed)
        return self.render_template("fachstelle/my_cases.html", rows=rows, more=more, limit=MY_CASES_LIMIT,
                                    show_closed=show_closed, fs_page_title="Meine Fälle")

    @expose("/export", methods=["GET"])
    @has_access
    def export(self):
        """All of the actor's cases of the page (open ones, or all with ``closed=1``) as XLSX, without the cap."""
        from .list_exports import case_columns, case_row
        from .xlsx import xlsx_response
        actor = current_actor()
        show_closed = request.args.get("closed") == "1"
        rows, _ = my_cases(db.session, actor, include_closed=show_closed, limit=None)
        return xlsx_response(case_columns(), (case_row(c) for c in rows), "meine_faelle", what="Meine Fälle",
                             detail="mit abgeschlossenen" if show_closed else "nur offene")
