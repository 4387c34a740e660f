"""Datenschutz pages (#15): the access log (search, read-only), the retention protocol, subject access (ZIP).

The access log and the protocol are for the admin function ``privacy`` of roles.yaml (profile Datenschutz);
the Art. 15 export for ``subject_access``. Nobody edits or deletes a row here (the log is append-only).
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access

import io

from ..errors import DomainError
from ..extensions import db
from ..privacy_models import CHANNELS, AccessLog, RetentionProtocol
from ..services.subject_access import LIST, NONE, READ, subject_access_zip
from . import menus
from .actor import current_actor


def _berlin(value) -> str:
    from . import to_berlin
    return to_berlin(value)


def _entity_label(name: str) -> str:
    from flask import current_app
    entity = current_app.config["FACHSTELLE_SPEC"].entity(name)
    return f"{entity.label} ({name})" if entity else name


class AccessLogView(ModelView):
    datamodel = SQLAInterface(AccessLog)
    route_base = "/access-log"
    base_permissions = ["can_list"]
    list_title = "Zugriffsprotokoll (vertrauliche Seiten)"
    label_columns = {"at": "Zeitpunkt", "username": "Benutzer", "entity": "Seite", "record_id": "Datensatz-Nr.",
                     "channel": "Weg", "org_unit_id": "Dienststelle (Nr.)", "detail": "Hinweis"}
    list_columns = ["at", "username", "entity", "record_id", "channel", "detail"]
    search_columns = ["username", "entity", "record_id", "channel", "at"]
    base_order = ("at", "desc")
    formatters_columns = {"at": _berlin, "channel": lambda value: CHANNELS.get(value, value),
                          "entity": _entity_label, "detail": lambda value: value or ""}
    description_columns = {"entity": "Technischer Name der Seite, z. B. help_plan (Hilfeplan), social_situation"}
    page_size = 50


class RetentionProtocolView(ModelView):
    datamodel = SQLAInterface(RetentionProtocol)
    route_base = "/retention-protocol"
    base_permissions = ["can_list"]
    list_title = "Aufbewahrung und Löschung (Protokoll)"
    label_columns = {"run_id": "Lauf", "entity": "Seite", "record_id": "Datensatz-Nr.", "action": "Aktion",
                     "reason": "Grund", "org_unit_id": "Dienststelle (Nr.)"}
    list_columns = ["run_id", "entity", "record_id", "action", "reason"]
    search_columns = ["entity", "record_id", "action", "run_id"]
    base_order = ("id", "desc")
    formatters_columns = {"action": lambda v: {"erase": "gelöscht", "anonymise": "anonymisiert",
                                               "keep": "behalten"}.get(v, v), "entity": _entity_label}
    page_size = 50


def access_levels():
    """The signed-in user's level per page, as the export needs it (read, list: masked, none: left out)."""
    sm = __import__("flask").current_app.appbuilder.sm

    def level(entity_name: str) -> str:
        permission = f"entity_{entity_name}"
        if sm.has_access("can_show", permission):
            return READ
        return LIST if sm.has_access("can_list", permission) else NONE
    return level


class SubjectAccessView(BaseView):
    route_base = "/subject-access"
    default_view = "form"
    base_permissions = ["can_export"]
    method_permission_name = {"form": "export", "export": "export"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def form(self):
        if request.method == "POST":
            key = request.form.get("partner_id", "").strip()
            if key.isdigit():
                return self.export(int(key))
            flash("Bitte die Nr. des Partners angeben (eine Zahl, siehe Detailseite der Person).", "danger")
        return self.render_template("fachstelle/privacy/subject_access.html")

    @expose("/<int:partner_id>", methods=["POST"])
    @has_access
    def export(self, partner_id: int):
        actor = current_actor()
        try:
            export, data = subject_access_zip(db.session, partner_id, actor, access_levels())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("SubjectAccessView.form"))
        name = f"auskunft_art15_partner_{partner_id}_{actor.today:%Y-%m-%d}.zip"
        return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name)


def register_privacy(appbuilder) -> None:
    appbuilder.add_view(AccessLogView, icon="fa-eye", **menus.item(menus.ACCESS_LOG, menus.PRIVACY))
    appbuilder.add_view(RetentionProtocolView, icon="fa-trash", **menus.item(menus.RETENTION_PROTOCOL, menus.PRIVACY))
    appbuilder.add_view(SubjectAccessView, href="/subject-access/", icon="fa-download",
                        **menus.item(menus.SUBJECT_ACCESS, menus.PRIVACY))
    from .care import CareOverviewView
    appbuilder.add_view_no_menu(CareOverviewView)
