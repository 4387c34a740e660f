"""Saved research queries (#14 §3): a definition (JSON) with an owner, optionally shared with one profile.

The definition is checked again against the permissions of whoever runs it (``app.services.research``):
sharing a query never shares a field the other profile may not read.
"""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User  # noqa: F401  (ab_user on this metadata)
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .core_models import utcnow


class ResearchQuery(Model):
    __tablename__ = "research_query"
    __table_args__ = (Index("ix_research_query_owner", "owner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    entity: Mapped[str] = mapped_column(String(48))
    definition: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"))
    owner_name: Mapped[str] = mapped_column(String(64))
    shared_profile: Mapped[str | None] = mapped_column(String(64))  # a profile (FAB role) name, or none
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
