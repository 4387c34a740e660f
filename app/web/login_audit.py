"""Administration › Anmeldeprotokoll: every sign-in attempt, lockout and sign-out, read-only (#11).

Readable by the admin function ``login_audit`` of roles.yaml (Fachadmin) and the technical Admin. The
rows are written by the sign-in path (app/web/sessions.py); nobody edits or deletes them in the app.
"""
from __future__ import annotations

from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access

from ..session_models import OUTCOMES, LoginAttempt
from . import menus


def _berlin(value) -> str:
    from . import to_berlin
    return to_berlin(value)


class LoginAuditView(ModelView):
    datamodel = SQLAInterface(LoginAttempt)
    route_base = "/login-audit"
    base_permissions = ["can_list"]
    list_title = "Anmeldeprotokoll"
    label_columns = {"at": "Zeitpunkt", "username": "Benutzername (wie eingegeben)", "address": "Adresse",
                     "outcome": "Ergebnis", "channel": "Weg"}
    list_columns = ["at", "username", "address", "outcome", "channel"]
    search_columns = ["username", "address", "outcome"]
    base_order = ("at", "desc")
    formatters_columns = {
        "at": _berlin,
        "outcome": lambda value: OUTCOMES.get(value, value),
        "channel": lambda value: "REST-API (Token)" if value == "api" else "Anmeldeseite",
    }
    description_columns = {"username": "Bei fehlgeschlagenen Anmeldungen der eingegebene Name, auch wenn es "
                                       "kein solches Konto gibt."}
    page_size = 50
    list_template = "fachstelle/list.html"  # with the Excel button (#14)
    method_permission_name = {"list": "list", "export_xlsx": "list"}

    @expose("/export_xlsx")
    @has_access
    def export_xlsx(self):
        """The protocol as the list shows it (its search filters), newest first, as XLSX (#14)."""
        from ..services.xlsx_export import XlsxColumn
        from .fab_compat import list_filters
        from .xlsx import xlsx_response
        query = self.datamodel.apply_all(self.datamodel.session.query(LoginAttempt), list_filters(self), "at",
                                         "desc")
        columns = [XlsxColumn(self.label_columns[c], "datetime" if c == "at" else "text", 28 if c == "username" else None)
                   for c in self.list_columns]
        rows = ([a.at, a.username, a.address, OUTCOMES.get(a.outcome, a.outcome),
                 "REST-API (Token)" if a.channel == "api" else "Anmeldeseite"] for a in query.yield_per(1000))
        return xlsx_response(columns, rows, "anmeldeprotokoll", what="Anmeldeprotokoll",
                             detail=", ".join(f"{k}={v}" for k, v in self._filter_args()) or "keine Filter")

    @staticmethod
    def _filter_args():
        from flask import request
        return [(k, v) for k, v in request.args.items() if k.startswith("_flt_")]


def register_login_audit(appbuilder) -> None:
    appbuilder.add_view(LoginAuditView, icon="fa-history", **menus.item(menus.LOGIN_AUDIT, menus.ADMIN))
