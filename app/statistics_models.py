"""Hand-written table of the official housing statistics (#14): frozen snapshots per Stichtag.

A snapshot is the report as computed at one moment (NRW form or federal records), with the persons behind
every cell (for the drill-down) and the plausibility report. It is never changed: data corrected later do
not change a submitted report; a new computation is a new version of the same Stichtag, and two versions
can be compared (``app.services.housing_stats.compare``).
"""
from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .core_models import utcnow


class StatisticSnapshot(Model):
    """kind ``nrw`` or ``bund``; version 1, 2, … per (kind, Stichtag, scope)."""

    __tablename__ = "statistic_snapshot"
    __table_args__ = (Index("ix_statistic_snapshot_kind_day", "kind", "stichtag", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    stichtag: Mapped[date]
    version: Mapped[int] = mapped_column(Integer)
    # the org unit ids the figures cover, sorted and comma-separated; "" = all units
    scope: Mapped[str] = mapped_column(String(500), default="")
    scope_label: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    # NRW: the report dict; Bund: {"rows": [...]} (pseudonymous, as delivered)
    report: Mapped[dict] = mapped_column(JSON)
    # cell path → person ids (NRW) or row index → person id (Bund): for the drill-down, never exported
    persons: Mapped[dict] = mapped_column(JSON)
    problems: Mapped[list] = mapped_column(JSON)
    submitted_on: Mapped[date | None]
