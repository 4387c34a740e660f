"""Administration › Anmeldeprotokoll: every sign-in attempt, lockout and sign-out, read-only (#11).

Readable by the admin function ``login_audit`` of roles.yaml (Fachadmin) and the technical Admin. The
rows are written by the sign-in path (app/web/sessions.py); nobody edits or deletes them in the app.
"""
from __future__ import annotations

from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

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


def register_login_audit(appbuilder) -> None:
    appbuilder.add_view(LoginAuditView, icon="fa-history", **menus.item(menus.LOGIN_AUDIT, menus.ADMIN))
