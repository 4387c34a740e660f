"""Hand-written tables of the shelter fees (#12 §4): the fee lines and the monthly runs that made them.

A ``FeeLine`` is one person, place, component and (part of a) month, rounded once (``app.domain.fees``). Lines
are append-only: a later run that finds a line no longer right (a move-out entered late, a tariff corrected)
adds a reversing line (``kind = storno``, ``reverses_id``) and the right line, never an edit; the treasury gets
the difference as Sollabgang/Sollzugang through ``treasury_posting`` (``posting_id``).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .core_models import utcnow
from .metamodel.kinds.types import Money

LINE_KINDS = {"auto": "aus der Belegung", "hand": "Leistungsabo (von Hand)", "storno": "Storno"}


class FeeRun(Model):
    """One monthly run (Gebührenlauf) that wrote lines; a dry run writes nothing and leaves no row."""

    __tablename__ = "fee_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2025-06"
    new_lines: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(Money())  # all live lines of the month after the run
    postings: Mapped[int] = mapped_column(Integer, default=0)
    run_by: Mapped[str] = mapped_column(String(64))
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeeLine(Model):
    """One fee line (see the module text). ``key`` identifies what it bills, so a second run finds it."""

    __tablename__ = "fee_line"
    __table_args__ = (Index("ix_fee_line_month_shelter", "month", "shelter_id"),
                      Index("ix_fee_line_key", "key"),
                      Index("ix_fee_line_occupancy", "occupancy_id", "month"))
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    key: Mapped[str] = mapped_column(String(120))  # "o:<occupancy>:<tariff>:<component>" or "s:<subscription>"
    kind: Mapped[str] = mapped_column(String(8))  # auto | hand | storno
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("fee_line.id"), unique=True)
    # the generated entities (config/entities.yaml) by id, as the treasury tables do
    occupancy_id: Mapped[int | None] = mapped_column(Integer)
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    place_id: Mapped[int | None] = mapped_column(Integer)
    shelter_id: Mapped[int | None] = mapped_column(Integer)
    shelter_name: Mapped[str] = mapped_column(String(120))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    tariff: Mapped[str] = mapped_column(String(48))
    component: Mapped[str] = mapped_column(String(48))
    label: Mapped[str] = mapped_column(String(200))
    first_day: Mapped[date]
    last_day: Mapped[date]
    days: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money())  # negative: a reversal
    calculation: Mapped[str] = mapped_column(String(200))
    payer_id: Mapped[int] = mapped_column(Integer, index=True)  # partner who owes it (person or Jobcenter …)
    kassenzeichen: Mapped[str | None] = mapped_column(String(32))
    sachkonto: Mapped[str | None] = mapped_column(String(20))
    kostenstelle: Mapped[str | None] = mapped_column(String(20))
    produkt: Mapped[str | None] = mapped_column(String(30))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("fee_run.id"), index=True)
    posting_id: Mapped[int | None] = mapped_column(Integer)  # treasury_posting.id, once handed over
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeeNoticeSent(Model):
    """A Gebührenbescheid made by the tariff-change action (``fee_notice.tariff_change_notices``): one per
    household, reason and effective day, so running the action again makes no second letter."""

    __tablename__ = "fee_notice_sent"
    __table_args__ = (UniqueConstraint("case_id", "reason", "effective_on", name="uq_fee_notice_sent"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    occupancy_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))  # "tarif"
    effective_on: Mapped[date] = mapped_column(Date)
    tariff: Mapped[str] = mapped_column(String(48))  # the tariff from that day on
    letter_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
