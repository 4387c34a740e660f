"""Hand-written tables that every configuration has: org units, catalogues, history, streets.

They live on FAB's ``Model`` metadata beside FAB's security tables and the generated entity tables,
so one Alembic environment sees all of them.
"""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock


def utcnow() -> datetime:
    return clock.utcnow()  # the one clock (tests freeze it); stored as before: aware UTC


user_org_unit = Table(
    "user_org_unit",
    Model.metadata,
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
    Column("org_unit_id", Integer, ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True),
)


class OrgUnit(Model):
    """A district office or department (Bezirk/Dienststelle); case records belong to one."""

    __tablename__ = "org_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool | None] = mapped_column(Boolean, default=True)  # nullable: FAB would make a NOT NULL checkbox required

    def __str__(self) -> str:
        return self.name


class CatalogueValue(Model):
    """One value of a catalogue (value list). Retired values stay, so old records keep their meaning."""

    __tablename__ = "catalogue_value"
    __table_args__ = (UniqueConstraint("catalogue", "code"), Index("ix_catalogue_value_cat_sort", "catalogue", "sort"))
    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue: Mapped[str] = mapped_column(String(48))
    code: Mapped[str] = mapped_column(String(48))
    label: Mapped[str] = mapped_column(String(200))
    group: Mapped[str | None] = mapped_column("value_group", String(120))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool | None] = mapped_column(Boolean, default=True)  # nullable: FAB would make a NOT NULL checkbox required

    def __str__(self) -> str:
        return self.label if self.active else f"{self.label} (nicht mehr aktiv)"


class ChangeLog(Model):
    """Who changed which field of which record from what to what, and when."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_record", "entity", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(48))
    record_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete, merge
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The record's version after this change (optimistic locking): a refused save lists the changes made
    # since the version its form was opened with. Empty for entries from before #10.
    record_version: Mapped[int | None] = mapped_column(Integer)


class Street(Model):
    """The street directory (Straßenverzeichnis) with the small-area breakdown of the city."""

    __tablename__ = "street"
    __table_args__ = (UniqueConstraint("name", "postcode", "city"), Index("ix_street_name_lc", "name_lc"))
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_lc: Mapped[str] = mapped_column(String(120))  # lower-cased: index-friendly type-ahead
    postcode: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(80))
    district: Mapped[str | None] = mapped_column(String(80))

    def __str__(self) -> str:
        return f"{self.name}, {self.postcode or ''} {self.city or ''}".strip()


# FAB's user gets its org units (FAB's own class, extended once, before any view inspects it). Read when
# asked for: a user shown as the clerk of a record needs no units (the signed-in user joins them,
# security.get_user_by_id).
if not hasattr(User, "org_units"):
    User.org_units = relationship(OrgUnit, secondary=user_org_unit)


class Attachment(Model):
    """A document from outside (scan, PDF) attached to a documentation entry.

    The file lives under ``<instance>/files/attachments/`` (never in the database); the row keeps its
    path and SHA-256, and a download only delivers a file whose hash still matches.
    """

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    doc_entry_id: Mapped[int] = mapped_column(ForeignKey("doc_entry.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


from . import prevention_models  # noqa: E402,F401  (more hand-written tables on this metadata: QS 1.5)
from . import account_models  # noqa: E402,F401  (the account's password state: #11)
from . import session_models  # noqa: E402,F401  (sign-in: session generations and the login audit, #11)
from . import statistics_models  # noqa: E402,F401  (frozen snapshots of the housing statistics, #14)
from . import research_models  # noqa: E402,F401  (saved queries of the research module, #14)
from . import privacy_models  # noqa: E402,F401  (access log and retention protocol, #15)
from . import permission_stamp  # noqa: E402,F401  (when the workers read the roles' permissions again, #10)
