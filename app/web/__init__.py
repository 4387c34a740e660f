"""Hand-written pages beyond CRUD, and the wiring of error pages and admin views."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, render_template

BERLIN = ZoneInfo("Europe/Berlin")


def to_berlin(value: datetime | None) -> str:
    """Times are stored in UTC and shown in Europe/Berlin."""
    from ..domain.dates import format_datetime
    return format_datetime(value)


def _attachments_of(entry_id) -> list:
    from ..extensions import db
    from ..services.attachments import attachments_of
    from .actor import current_actor
    return attachments_of(db.session, int(entry_id), current_actor())


def register_web(app: Flask, appbuilder) -> None:
    from ..actor import install_request_source
    from . import menus
    from .actor import request_actor_or_none
    from .admin_views import register_admin_views
    from .lookups import lookups

    from .attachments import AttachmentView
    from .entry_letters import EntryLetterView, letters_of_entry
    from .documentation import DocumentationView
    from .notices import NoticeView
    from .search import MyCasesView, SearchView
    from .render_cache import (install_cached_gettext, install_fast_template_filters, install_static_url_memo,
                               menu_html)
    from .worklist import WorklistView, due_count

    from .account import OwnAccountView, install_account
    install_account(app)
    appbuilder.add_view_no_menu(OwnAccountView)
    from .sessions import install as install_sessions
    install_sessions(app, appbuilder.sm)  # sessions end on the server, idle timeout, login throttle (#11)
    install_request_source(request_actor_or_none)  # scope_query and the history find the request's actor
    app.register_blueprint(lookups)
    app.jinja_env.filters["berlin"] = to_berlin
    app.jinja_env.globals["fs_due_count"] = due_count
    app.jinja_env.globals["fs_menu_html"] = menu_html
    install_cached_gettext(app)
    install_fast_template_filters(app, appbuilder)
    install_static_url_memo(app)
    from .. import clock
    app.jinja_env.globals["today_date"] = clock.today
    app.jinja_env.globals["fs_attachments"] = _attachments_of
    # A top-level link, not a menu of one entry: the start page and the bell lead there too.
    appbuilder.add_view(WorklistView, icon="fa-tasks", **menus.item(menus.WORKLIST))
    appbuilder.add_view(DocumentationView, icon="fa-book", **menus.item(menus.DOC_OVERVIEW, menus.DOCUMENTATION_CATEGORY))
    appbuilder.add_view(MyCasesView, href="/my-cases/", icon="fa-user", **menus.item(menus.MY_CASES, "Fallakten"))
    appbuilder.add_view(NoticeView, href="/notices/lawsuit", icon="fa-gavel",
                        **menus.item(menus.LAWSUIT_NOTICE, "Fallakten"))
    appbuilder.add_link(href="/notices/eviction", icon="fa-truck", **menus.item(menus.EVICTION_NOTICE, "Fallakten"))
    appbuilder.add_view_no_menu(AttachmentView)
    appbuilder.add_view_no_menu(EntryLetterView)
    appbuilder.add_view_no_menu(SearchView)
    app.jinja_env.globals["fs_entry_letters"] = letters_of_entry
    register_admin_views(appbuilder)
    from .login_audit import register_login_audit
    register_login_audit(appbuilder)
    from .letter_views import register_letters
    register_letters(app, appbuilder)
    from .indicators import register_indicator_views
    register_indicator_views(appbuilder)
    from .housing_stats import register_statistics_views  # official housing statistics (#14)
    register_statistics_views(appbuilder)
    from .fees import register_fee_views  # #12: Gebührenlauf, Gebührenbescheid
    register_fee_views(app, appbuilder)
    from .loans import register_loan_views
    register_loan_views(appbuilder)  # loan accounts, open-loans report, treasury export/payments (#13)
    from .accommodation import register_accommodation_views
    register_accommodation_views(appbuilder)  # #12: board, household page, matching, lists, utilisation
    from .research import register_research_views  # research, exports, dashboard (#14)
    register_research_views(appbuilder)
    from .privacy import register_privacy
    register_privacy(appbuilder)  # #15: access log, retention protocol, Art. 15 export; the care overview

    from .surface import api_error, is_api_request

    @app.errorhandler(404)
    def not_found(error):
        if is_api_request():
            return api_error(404)
        return render_template("fachstelle/error.html", code=404, appbuilder=appbuilder,
                               message="Diese Seite oder dieser Datensatz wurde nicht gefunden "
                                       "(oder Sie haben keinen Zugriff darauf)."), 404

    @app.errorhandler(403)
    def forbidden(error):
        if is_api_request():
            return api_error(403)
        return render_template("fachstelle/error.html", code=403, appbuilder=appbuilder,
                               message="Dafür fehlt Ihnen die Berechtigung."), 403

    @app.errorhandler(400)
    def bad_request(error):
        text = getattr(error, "description", "") or ""
        if "CSRF" in text:
            text = "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und speichern Sie erneut."
            if is_api_request():
                text = ("CSRF-Token fehlt oder ist abgelaufen: Browser-Sitzungen senden „X-CSRFToken“, "
                        "API-Clients ein gültiges Token („Authorization: Bearer …“).")
        if is_api_request():
            return api_error(400, text if "CSRF" in text or not text.isascii() else None)
        return render_template("fachstelle/error.html", code=400, appbuilder=appbuilder,
                               message=text or "Die Anfrage war fehlerhaft."), 400

    @app.errorhandler(405)
    def method_not_allowed(error):
        if is_api_request():
            return api_error(405)
        return render_template("fachstelle/error.html", code=405, appbuilder=appbuilder,
                               message="Diese Aktion ist auf dieser Seite nicht möglich."), 405

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config.get("MAX_CONTENT_LENGTH", 0) // 1024 // 1024
        if is_api_request():
            return api_error(413, f"Die Anfrage ist zu groß: höchstens {limit} MB.")
        return render_template("fachstelle/error.html", code=413, appbuilder=appbuilder,
                               message=f"Die Datei ist zu groß: höchstens {limit} MB je Hochladen. "
                                       "Nichts wurde gespeichert."), 413

    @app.errorhandler(500)
    def server_error(error):
        if is_api_request():
            return api_error(500)
        return render_template("fachstelle/error.html", code=500, appbuilder=appbuilder,
                               message="Ein interner Fehler ist aufgetreten. Ihre Eingaben wurden nicht "
                                       "gespeichert; bitte versuchen Sie es erneut."), 500
