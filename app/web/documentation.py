"""Documentation pages: a case's chronological documentation with filters, and the overview across cases.

Permissions are those of the documentation entries (``entity_doc_entry``); the case must be visible.
"""
from __future__ import annotations

from flask import abort, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from ..core_models import CatalogueValue, OrgUnit
from ..extensions import db
from ..metamodel.build_models import built_registry
from ..metamodel.kinds.form_fields import parse_german_date
from ..scoping import can_see_record
from ..services.doc_listing import DocFilter, entries
from .actor import current_actor


def _date_arg(name: str, problems: list[str]):
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return parse_german_date(text)
    except ValueError:
        problems.append(f"„{text}“ ist kein gültiges Datum (TT.MM.JJJJ).")
        return None


def read_filter() -> tuple[DocFilter, list[str]]:
    problems: list[str] = []
    f = DocFilter(date_from=_date_arg("from", problems), date_to=_date_arg("to", problems),
                  provider_id=request.args.get("provider", type=int), group_id=request.args.get("group", type=int),
                  service_id=request.args.get("service", type=int))
    if f.date_from and f.date_to and f.date_to < f.date_from:
        problems.append("Das Bis-Datum liegt vor dem Von-Datum.")
    return f, problems


def filter_choices() -> dict:
    """Providers of the user's units, the service groups and the services (retired ones marked)."""
    registry = built_registry()
    service = registry.model("service")
    users = select(User).where(User.active.is_(True)).order_by(User.last_name, User.first_name)
    ids = current_actor().visible_units
    if ids is not None:
        users = users.where(User.org_units.any(OrgUnit.id.in_(ids or [-1])))
    return {
        "providers": list(db.session.scalars(users)),
        "groups": list(db.session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "service_group")
                                          .order_by(CatalogueValue.sort))),
        "services": list(db.session.scalars(select(service).order_by(service.name))),
    }


class DocumentationView(BaseView):
    route_base = "/documentation"
    default_view = "overview"
    class_permission_name = "entity_doc_entry"
    method_permission_name = {"case": "list", "overview": "list", "export": "list"}

    @expose("/case/<int:case_id>")
    @has_access
    def case(self, case_id: int):
        case = db.session.get(built_registry().model("case"), case_id)
        actor = current_actor()
        if case is None or not can_see_record(case, actor):
            abort(404)
        f, problems = read_filter()
        page = max(request.args.get("page", 0, type=int), 0)
        rows, more = entries(db.session, f, case_id=case_id, page=page, actor=actor)
        return self.render_template("fachstelle/documentation.html", title=f"Falldokumentation: {case}",
                                    case=case, rows=rows, more=more, page=page, f=f, problems=problems,
                                    scope=None, **filter_choices())

    @expose("/")
    @has_access
    def overview(self):
        scope = "team" if request.args.get("scope") == "team" else "mine"
        f, problems = read_filter()
        page = max(request.args.get("page", 0, type=int), 0)
        actor = current_actor()
        rows, more = entries(db.session, f, provider_id=actor.user_id if scope == "mine" else None, page=page,
                             actor=actor)
        title = "Meine Dokumentation" if scope == "mine" else "Dokumentation des Teams"
        return self.render_template("fachstelle/documentation.html", title=title, case=None, rows=rows, more=more,
                                    page=page, f=f, problems=problems, scope=scope, **filter_choices())

    @expose("/export")
    @has_access
    def export(self):
        """The documentation of one case (``case=``) or the overview (``scope=mine|team``) with the page's filters,
        every page of it, as XLSX."""
        from .list_exports import doc_columns, doc_row
        from .xlsx import xlsx_response
        actor = current_actor()
        f, problems = read_filter()
        if problems:
            abort(400, " ".join(problems))
        case_id = request.args.get("case", type=int)
        if case_id is not None:
            case = db.session.get(built_registry().model("case"), case_id)
            if case is None or not can_see_record(case, actor):
                abort(404)
            provider, what = None, f"Falldokumentation {case.file_number or case.id}"
        else:
            scope = "team" if request.args.get("scope") == "team" else "mine"
            provider = actor.user_id if scope == "mine" else None
            what = "Meine Dokumentation" if scope == "mine" else "Dokumentation des Teams"

        def rows():
            page = 0
            while True:
                found, more = entries(db.session, f, case_id=case_id, provider_id=provider, page=page,
                                      page_size=1000, actor=actor)
                yield from (doc_row(e, case_id is None) for e in found)
                if not more:
                    return
                page += 1
        detail = ", ".join(f"{k}={v}" for k, v in request.args.items() if k != "_export_token") or "keine Filter"
        return xlsx_response(doc_columns(case_id is None), rows(), what, what=what[:64], detail=detail,
                             sheet="Dokumentation")
