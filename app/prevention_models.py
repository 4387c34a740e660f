"""Hand-written tables of eviction prevention: the districts' confirmations of the QS 1.5 access standards.

A district states per standard whether it is fulfilled, as of a date (Selbstauskunft der Bezirke). Every
statement is a new row and none is ever changed, so the history stays; the indicator takes, per standard,
the latest confirmation on or before the report date (``app.domain.indicators``, decision 5).
"""
from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .core_models import OrgUnit, utcnow


class AccessStandard(Model):
    """One confirmation: district, standard (code of ``ACCESS_STANDARDS``), fulfilled, confirmed on."""

    __tablename__ = "access_standard"
    __table_args__ = (Index("ix_access_standard_unit_std_date", "org_unit_id", "standard", "confirmed_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    standard: Mapped[str] = mapped_column(String(48))
    fulfilled: Mapped[bool] = mapped_column(Boolean)
    confirmed_on: Mapped[date]
    confirmed_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))

    org_unit: Mapped[OrgUnit] = relationship(OrgUnit, lazy="joined")
