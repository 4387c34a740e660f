"""Hand-written tables of sign-in: the session generation per user and the login audit (#11).

A session cookie carries the generation of its user that was current at sign-in; ``end_sessions`` raises
the generation, and every cookie signed before no longer authenticates (logout, password change,
deactivation). The audit keeps every sign-in attempt, lockout and sign-out; the login throttle counts
its failures, so the limits hold across all gunicorn workers without a separate store.
"""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .core_models import utcnow


class UserSession(Model):
    """The session generation of one user; no row means generation 0 (never ended)."""

    __tablename__ = "user_session"
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


# What a row of the audit says (``outcome``), in the admin's words.
OUTCOMES = {
    "success": "Anmeldung erfolgreich",
    "failed": "Anmeldung fehlgeschlagen",
    "locked": "Abgewiesen: vorübergehend gesperrt",
    "logout": "Abgemeldet",
    "timeout": "Abgemeldet nach Inaktivität",
    "ended": "Alle Sitzungen beendet",
}


class LoginAttempt(Model):
    """One sign-in attempt (or sign-out) as typed: the name, the address, the outcome and when."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_name_at", "username_key", "at"),
                      Index("ix_login_attempt_address_at", "address", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    username: Mapped[str] = mapped_column(String(120))        # as typed (shown to the admin)
    username_key: Mapped[str] = mapped_column(String(120))    # lower-cased: what the throttle counts by
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    address: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))          # a key of OUTCOMES
    channel: Mapped[str] = mapped_column(String(8), default="web")  # web (form) or api (JWT login)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def channel_label(self) -> str:
        return "REST-API (Token)" if self.channel == "api" else "Anmeldeseite"


# The user's generation, read in the same query that loads the user on every request (joinedload).
if not hasattr(User, "session_state"):
    User.session_state = relationship(UserSession, uselist=False, lazy="select", viewonly=True)
