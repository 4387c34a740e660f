"""Hand-written tables of data protection (#15): the access log, and the protocol of retention runs.

The access log is append-only: the ORM refuses to change or delete a row (below), the app offers no edit,
and on PostgreSQL a trigger refuses UPDATE and DELETE (``install_append_only`` from ``migrate``/``init``).
Retention never erases it: a row names only entity, record id and user, never the record's content.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Numeric, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from .core_models import utcnow


class AppendOnlyError(Exception):
    """An attempt to change or delete a row of the access log."""


# What a read was (``channel``), in the data-protection officer's words.
CHANNELS = {
    "show": "Detailseite",
    "rest": "REST-API (GET)",
    "export": "Export",
    "letter": "Brief / Ausdruck",
    "overview": "Übersicht Betreuung",
    "subject_access": "Auskunft Art. 15",
    "research": "Recherchemodul",
}


class AccessLog(Model):
    """One read of one record of a sensitive page: who, when, which record, on which path."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_record", "entity", "record_id", "at"),
                      Index("ix_access_log_user_at", "username", "at"),
                      Index("ix_access_log_at", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the log outlives a deleted account
    username: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(48))
    record_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(200))

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)


class RetentionRun(Model):
    """One ``fachstelle retention --apply`` (or dry run, when stored): when, by whom, how many."""

    __tablename__ = "retention_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_by: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[str] = mapped_column(String(10))  # the day the periods were counted to (ISO)
    applied: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str | None] = mapped_column(Text)


class RetentionProtocol(Model):
    """What one run did to one record: erased, anonymised, kept (and why). Names no personal data."""

    __tablename__ = "retention_protocol"
    __table_args__ = (Index("ix_retention_protocol_record", "entity", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("retention_run.id"), index=True)
    entity: Mapped[str] = mapped_column(String(48))
    record_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # erase, anonymise, keep
    reason: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int | None] = mapped_column(Integer)


class RetentionAggregate(Model):
    """Statistics frozen before erasure: how many records of an entity, unit and year (of the period's
    start date) were erased, so counts of past years stay right after the records are gone."""

    __tablename__ = "retention_aggregate"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("retention_run.id"), index=True)
    entity: Mapped[str] = mapped_column(String(48))
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(String(48))  # e.g. the case's status code
    count: Mapped[int] = mapped_column(Integer)
    # Figures the reports read back for erased records (``app/services/success_measures.py``): the day the
    # figure counts on, a detail (service name, loan kind), the erased case's id (distinct case counts), an
    # amount and a second count (e.g. prevented housing losses). No personal data.
    day: Mapped[date | None] = mapped_column(Date, index=True)
    detail: Mapped[str | None] = mapped_column(String(200))
    record_id: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    extra: Mapped[int | None] = mapped_column(Integer)


@event.listens_for(AccessLog, "before_update")
@event.listens_for(AccessLog, "before_delete")
def _refuse_change(mapper, connection, target) -> None:
    raise AppendOnlyError("Das Zugriffsprotokoll kann nicht geändert oder gelöscht werden.")


APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'access_log is append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS access_log_append_only ON access_log;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
"""


def install_append_only(connection) -> None:
    """On PostgreSQL the database itself refuses UPDATE and DELETE of the access log (also outside the app)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(APPEND_ONLY_SQL)
