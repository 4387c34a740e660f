"""Sessions that end on the server, the idle timeout and the login throttle, wired into the request (#11).

Why a session generation and not Flask-Session: the signed cookie stays the session store (no session
row to read and rewrite on every request); what the server keeps is one integer per user, read in the
query that loads the user with roles and units anyway (``get_user_by_id``'s joinedload). A cookie whose
generation is not the user's current one, or whose last activity lies longer than the idle timeout back,
no longer authenticates. See ``app/services/sessions.py`` for ending sessions and the throttle.

The cookie keeps ``fs_gen`` (generation at sign-in) and ``fs_seen`` (last activity, epoch seconds, renewed
at most once a minute so the cookie is not rewritten on every request).
"""
from __future__ import annotations

from flask import current_app, flash, g, has_request_context, request, session
from flask_login import user_logged_in, user_logged_out

from .. import clock
from ..services import sessions as service
from .fab_compat import set_login_refusal

SEEN_EVERY = 60  # seconds: how stale ``fs_seen`` may get before it is rewritten
DEFAULT_IDLE_MINUTES = 30
INVALID_LOGIN = "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch."


def idle_minutes() -> int:
    configured = current_app.config.get("FACHSTELLE_IDLE_MINUTES")
    if configured:
        return int(configured)
    spec = current_app.config.get("FACHSTELLE_SPEC")
    return int(getattr(getattr(spec, "settings", None), "idle_minutes", DEFAULT_IDLE_MINUTES) or DEFAULT_IDLE_MINUTES)


def idle_notice(minutes: int) -> str:
    return f"Sie wurden nach {minutes} {'Minute' if minutes == 1 else 'Minuten'} ohne Aktivität abgemeldet."


def throttle_limits() -> service.ThrottleLimits:
    config = current_app.config
    default = service.ThrottleLimits()
    return service.ThrottleLimits(
        max_failures=int(config.get("FACHSTELLE_LOGIN_MAX_FAILURES") or default.max_failures),
        max_failures_per_address=int(config.get("FACHSTELLE_LOGIN_MAX_FAILURES_PER_ADDRESS")
                                     or default.max_failures_per_address),
        lock_minutes=int(config.get("FACHSTELLE_LOGIN_LOCK_MINUTES") or default.lock_minutes))


def _now_seconds() -> int:
    return int(clock.utcnow().timestamp())


def _is_api() -> bool:
    return request.path.startswith("/api/")


def start_session(user) -> None:
    """Sign-in: the cookie gets the user's current generation and the time of activity."""
    session["fs_gen"] = service.generation_of(user)
    session["fs_seen"] = _now_seconds()


def keep_current_session(user_id: int, generation: int) -> None:
    """After ``end_sessions`` for the signed-in user: this browser's session goes on (the others end)."""
    if has_request_context() and str(session.get("_user_id")) == str(user_id):
        session["fs_gen"] = generation
        session["fs_seen"] = _now_seconds()


def _drop_session() -> None:
    session.clear()


def accept(user):
    """Flask-Login's user loader: the user of the cookie, or None when its session has ended.

    Ended: the account is inactive, or the generation was raised since sign-in (logout elsewhere,
    password change, deactivation), or nothing happened for longer than the idle timeout.
    """
    if user is None or not user.is_active:
        return None
    if session.get("fs_gen") != service.generation_of(user):
        _drop_session()
        return None
    now = _now_seconds()
    seen = session.get("fs_seen")
    minutes = idle_minutes()
    if not isinstance(seen, int) or now - seen > minutes * 60:
        _drop_session()
        from ..extensions import db
        service.record_attempt(db.session, user.username, request.remote_addr, "timeout", user_id=user.id)
        if not _is_api():
            flash(idle_notice(minutes), "info")
            g.fs_idle_expired = True
        return None
    if now - seen >= SEEN_EVERY:  # a frozen clock in the past (tests) leaves it as it is
        session["fs_seen"] = now
    return user


def token_claims(identity) -> dict:
    """Extra claims of a JWT (access and refresh): the user's session generation at its issue."""
    from ..extensions import db
    from ..session_models import UserSession
    from sqlalchemy import select
    generation = db.session.scalar(select(UserSession.generation).where(UserSession.user_id == int(identity)))
    return {"fs_gen": generation or 0}


def accept_token(user, jwt_data):
    """The user of a JWT, or None when the account is inactive or its sessions ended since the token's issue."""
    if user is None or not user.is_active:
        return None
    if jwt_data.get("fs_gen") != service.generation_of(user):
        return None
    return user


def authenticate(authenticate_db, username, password):
    """The shared sign-in path (form and JWT login): throttle first, then FAB's check; every outcome in the
    audit. A locked name or address is refused whatever the password, with the same message whether or
    not the account exists."""
    from ..extensions import db
    address = request.remote_addr if has_request_context() else None
    channel = "api" if has_request_context() and _is_api() else "web"
    limits = throttle_limits()
    minutes = service.lock_minutes(db.session, username, address, limits)
    if minutes:
        service.record_attempt(db.session, username, address, "locked", channel=channel)
        g.fs_login_refusal = service.locked_message(minutes)
        return None
    user = authenticate_db(username, password)
    service.record_attempt(db.session, username, address, "success" if user else "failed",
                           user_id=getattr(user, "id", None), channel=channel)
    if user is None:
        minutes = service.lock_minutes(db.session, username, address, limits)
        if minutes:  # this failure reached the limit: say so now, not only at the next attempt
            g.fs_login_refusal = service.locked_message(minutes)
    return user


class LoginRefusal:
    """FAB's login view flashes ``str(invalid_login_message)`` when the sign-in fails; this one says
    "locked" when the throttle refused it and the usual German message otherwise."""

    def __str__(self) -> str:
        return g.get("fs_login_refusal") or INVALID_LOGIN


def _on_logged_in(app, user, **extra) -> None:
    start_session(user)


def _on_logged_out(app, user, **extra) -> None:
    user_id = getattr(user, "id", None)
    if user_id is None:  # anonymous
        return
    from ..extensions import db
    service.end_sessions(user_id, db.session, record=False)
    service.record_attempt(db.session, getattr(user, "username", None), request.remote_addr, "logout",
                           user_id=user_id)


def _only_the_idle_notice(response):
    """After an idle sign-out the page's access check adds "Zugriff verweigert"; the notice says why."""
    if g.get("fs_idle_expired"):
        session["_flashes"] = [(category, message) for category, message in session.get("_flashes", [])
                               if category != "danger"]
    return response


def install(app, sm) -> None:
    """Signals of Flask-Login (whatever view signs in or out), the login message, the password hook."""
    app.after_request(_only_the_idle_notice)
    proxies = int(app.config.get("FACHSTELLE_TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind a reverse proxy every request comes from the proxy's address: the per-address throttle
        # would lock the whole office at once. Trust X-Forwarded-For of this many proxies (only then).
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)
    user_logged_in.connect(_on_logged_in, app)
    user_logged_out.connect(_on_logged_out, app)
    set_login_refusal(sm, LoginRefusal())
    service.on_own_password_change(keep_current_session)
    service.install()
