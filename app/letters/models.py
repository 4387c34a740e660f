"""Tables of the letters subsystem: templates and their versions, archived letters, letterhead data, series.

They live on FAB's ``Model`` metadata, so ``migrate()`` creates them with everything else. Files are not
in the database but under ``<instance>/files/`` (storage.py); a row keeps the path and the SHA-256.

Template versions and letters are immutable: an ORM update or delete of one is refused (below), the UI
and REST offer none, and a download checks the file against the stored SHA-256. A new template version
is a new row; old letters keep the version they were made with.
"""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from .. import clock
from ..core_models import OrgUnit


def utcnow() -> datetime:
    return clock.utcnow()  # the one clock (tests freeze it); stored as before: aware UTC


class ImmutableRecordError(Exception):
    """Raised on an attempt to change or delete an archived letter or a template version."""


class LetterTemplate(Model):
    """A kind of letter (e.g. the QS 1.1 invitation); its text lives in versions."""

    __tablename__ = "letter_template"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool | None] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    versions: Mapped[list[LetterTemplateVersion]] = relationship(
        back_populates="template", order_by="LetterTemplateVersion.version.desc()", lazy="selectin")

    def __str__(self) -> str:
        return self.label


class LetterTemplateVersion(Model):
    """One uploaded .docx of a template; never changed. The newest version of an active template is used."""

    __tablename__ = "letter_template_version"
    __table_args__ = (UniqueConstraint("template_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("letter_template.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))  # relative to <instance>/files
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))
    template: Mapped[LetterTemplate] = relationship(back_populates="versions", lazy="joined")

    def __str__(self) -> str:
        return f"{self.template.label}, Version {self.version}"


class Letter(Model):
    """An archived letter of a case: the .docx (and PDF) as sent, with their SHA-256. Never changed."""

    __tablename__ = "letter"
    __table_args__ = (Index("ix_letter_case", "case_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    doc_entry_id: Mapped[int | None] = mapped_column(ForeignKey("doc_entry.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("letter_template_version.id"), index=True)
    series_job_id: Mapped[int | None] = mapped_column(ForeignKey("letter_series_job.id"), index=True)
    recipient: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))
    pdf_path: Mapped[str | None] = mapped_column(String(500))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    template_version: Mapped[LetterTemplateVersion] = relationship(lazy="joined")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")

    @property
    def pdf_name(self) -> str:
        return self.file_name.rsplit(".", 1)[0] + ".pdf"

    def __str__(self) -> str:
        return self.file_name


class StaffDetails(Model):
    """The clerk's letterhead data ("Briefkopf"): room, direct lines, sign ("Mein Zeichen")."""

    __tablename__ = "staff_details"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), unique=True)
    address_as: Mapped[str | None] = mapped_column(String(20))  # "Herr", "Frau" or empty: "Auskunft erteilt"
    room: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(60))
    fax: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(120))
    sign: Mapped[str | None] = mapped_column(String(40))
    consultation_hours: Mapped[str | None] = mapped_column(Text)
    user: Mapped[User] = relationship(User, lazy="joined")

    def __str__(self) -> str:
        return str(self.user) if self.user else f"Briefkopf {self.id}"


class OfficeDetails(Model):
    """Letter data of an org unit beyond OrgUnit's own fields: authority, return line, hours, legal remedy."""

    __tablename__ = "office_details"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), unique=True)
    authority: Mapped[str | None] = mapped_column(String(200))
    return_address: Mapped[str | None] = mapped_column(String(200))
    fax: Mapped[str | None] = mapped_column(String(60))
    consultation_hours: Mapped[str | None] = mapped_column(Text)
    legal_remedy: Mapped[str | None] = mapped_column(Text)
    org_unit: Mapped[OrgUnit] = relationship(OrgUnit, lazy="joined")

    def __str__(self) -> str:
        return str(self.org_unit) if self.org_unit else f"Dienststelle {self.org_unit_id}"


class LetterSeriesJob(Model):
    """A series of letters (one per case), made step by step; the page polls its progress."""

    __tablename__ = "letter_series_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    template_code: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, done, failed
    case_ids: Mapped[str] = mapped_column(Text)  # JSON list
    fields: Mapped[str] = mapped_column(Text, default="{}")  # JSON: typed-in values for every letter
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    zip_path: Mapped[str | None] = mapped_column(String(500))
    zip_sha256: Mapped[str | None] = mapped_column(String(64))


def _refuse_change(mapper, connection, target) -> None:
    session = object_session(target)
    if session is not None and target not in session.deleted \
            and not session.is_modified(target, include_collections=False):
        return  # marked dirty without a changed column (e.g. a relationship was loaded)
    raise ImmutableRecordError(f"{type(target).__name__} {target.id} is archived and cannot be changed or deleted")


for _model in (Letter, LetterTemplateVersion):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
