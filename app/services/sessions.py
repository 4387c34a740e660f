"""Server-side end of sessions and the login throttle (#11), without Flask.

Sessions: a user's cookies name the session generation current at sign-in (``UserSession``);
``end_sessions`` raises it, so every cookie signed before stops authenticating — on every worker, at the
next request. Changing a password or deactivating an account raises it too, whatever path the change
takes (form, REST, CLI): a flush listener sees the change.

Throttle: failed sign-ins are rows of the login audit (``LoginAttempt``). An account is locked while
``max_failures`` failures for its name lie within the last ``lock_minutes`` (since its last successful
sign-in); an address while ``max_failures_per_address`` failures (any names) do. Locked attempts are
refused whatever the password and are not counted again. The names are counted as typed, lower-cased,
whether or not such an account exists, so the lock says nothing about the account.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..session_models import LoginAttempt, UserSession


@dataclass(frozen=True)
class ThrottleLimits:
    max_failures: int = 10               # per account name
    max_failures_per_address: int = 30   # per address, across names (an office shares one address behind NAT)
    lock_minutes: int = 15


LOCKED_MESSAGE = "Zu viele fehlgeschlagene Anmeldungen. Bitte in {minutes} Minuten erneut versuchen."


def locked_message(minutes: int) -> str:
    return LOCKED_MESSAGE.format(minutes=minutes) if minutes != 1 else \
        "Zu viele fehlgeschlagene Anmeldungen. Bitte in 1 Minute erneut versuchen."


def _default_session() -> Session:
    from ..extensions import db
    return db.session


def generation_of(user) -> int:
    """The user's current session generation (0 without a row)."""
    state = getattr(user, "session_state", None)
    return state.generation if state is not None and state.generation is not None else 0


def end_sessions(user_id: int, db_session: Session | None = None, *, record: bool = True) -> int:
    """End every session of the user, on every PC and worker: cookies signed before no longer authenticate.

    Commits (it is one complete action; call it after your own change is saved or let it commit both).
    Returns the new generation. ``record`` writes an "ended" row to the login audit.
    """
    session = db_session or _default_session()
    changed = session.execute(update(UserSession).where(UserSession.user_id == user_id)
                              .values(generation=UserSession.generation + 1)
                              .execution_options(synchronize_session=False)).rowcount
    if not changed:
        session.add(UserSession(user_id=user_id, generation=1))
        session.flush()
    generation = session.scalar(select(UserSession.generation).where(UserSession.user_id == user_id))
    state = session.get(UserSession, user_id)
    if state is not None:
        session.refresh(state)
    if record:
        name = session.scalar(select(User.username).where(User.id == user_id)) or f"#{user_id}"
        record_attempt(session, name, None, "ended", user_id=user_id, commit=False)
    session.commit()
    return generation


# --- password change and deactivation end the sessions, whatever path made them ------------------------

def _ending_changes(session: Session) -> list:
    users = []
    for obj in session.dirty:
        if not isinstance(obj, User) or obj.id is None:
            continue
        state = inspect(obj)
        password = state.attrs.password.history
        active = state.attrs.active.history
        deactivated = active.has_changes() and not obj.active
        if password.has_changes() or deactivated:
            users.append((obj, bool(password.has_changes()) and not deactivated))
    return users


_renewal_hooks: list = []


def on_own_password_change(hook) -> None:
    """The web layer keeps the session of the user who changed their own password (``hook(user_id, gen)``)."""
    if hook not in _renewal_hooks:
        _renewal_hooks.append(hook)


def _before_flush(session: Session, flush_context, instances) -> None:
    for user, password_only in _ending_changes(session):
        state = session.get(UserSession, user.id)
        if state is None:
            state = UserSession(user_id=user.id, generation=0)
            session.add(state)
        state.generation = (state.generation or 0) + 1
        if password_only:
            for hook in _renewal_hooks:
                hook(user.id, state.generation)


def install(session_class=Session) -> None:
    """Listen on every Session of the process, once (like the history)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


# --- the login audit and the throttle ---------------------------------------------------------------------

def _key(username: str | None) -> str:
    return (username or "").strip().lower()[:120]


def record_attempt(session: Session, username: str | None, address: str | None, outcome: str, *,
                   user_id: int | None = None, channel: str = "web", commit: bool = True) -> None:
    session.add(LoginAttempt(at=clock.utcnow(), username=(username or "").strip()[:120], username_key=_key(username),
                             user_id=user_id, address=(address or None) and address[:64], outcome=outcome,
                             channel=channel))
    if commit:
        session.commit()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite hands back naive UTC


def _minutes_left(failures: list[datetime], limit: int, lock: timedelta, now: datetime) -> int:
    """Failures newest first. Locked until the limit-th newest leaves the window: then fewer than the
    limit remain in it."""
    if limit <= 0 or len(failures) < limit:
        return 0
    until = _aware(failures[limit - 1]) + lock
    return max(0, math.ceil((until - now).total_seconds() / 60))


def lock_minutes(session: Session, username: str | None, address: str | None,
                 limits: ThrottleLimits) -> int:
    """Minutes until a sign-in with this name from this address is accepted again; 0: not locked."""
    now = clock.utcnow()
    lock = timedelta(minutes=limits.lock_minutes)
    since = now - lock
    key = _key(username)
    last_success = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username_key == key, LoginAttempt.outcome == "success", LoginAttempt.at > since,
        LoginAttempt.at <= now))
    if last_success is not None:
        since = max(since, _aware(last_success))
    by_name = list(session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.username_key == key, LoginAttempt.outcome == "failed",
                                      LoginAttempt.at > since, LoginAttempt.at <= now)
        .order_by(LoginAttempt.at.desc()).limit(limits.max_failures)))
    minutes = _minutes_left(by_name, limits.max_failures, lock, now)
    if address:
        by_address = list(session.scalars(
            select(LoginAttempt.at).where(LoginAttempt.address == address, LoginAttempt.outcome == "failed",
                                          LoginAttempt.at > now - lock, LoginAttempt.at <= now)
            .order_by(LoginAttempt.at.desc()).limit(limits.max_failures_per_address)))
        minutes = max(minutes, _minutes_left(by_address, limits.max_failures_per_address, lock, now))
    return minutes
