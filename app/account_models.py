"""Account state beside FAB's user table: whether the password must be changed at the next sign-in (#11).

An extension table (one row per user who ever had a password set by someone else), not a column on FAB's
``ab_user``: FAB's table stays FAB's. The flag is read with the user (a scalar subquery on ``User``), so the
check on every request costs no extra query.
"""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, DateTime, ForeignKey, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from . import clock


def _utcnow() -> datetime:
    return clock.utcnow()


class PasswordState(Model):
    """A password an admin set (in the app or ``users add --temporary-password``) is temporary."""

    __tablename__ = "user_password_state"
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    must_change: Mapped[bool] = mapped_column(Boolean, default=False)
    set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=_utcnow)


if not hasattr(User, "must_change_password"):
    User.must_change_password = column_property(
        select(PasswordState.must_change).where(PasswordState.user_id == User.id).correlate_except(PasswordState)
        .scalar_subquery())
