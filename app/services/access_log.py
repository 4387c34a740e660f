"""The access log of sensitive pages (#15; Art. 5 (2), 32 DSGVO, § 76 BDSG): who read which record when.

A page is sensitive when the YAML marks it (``sensitive: true`` on the entity or on one of its fields:
Soziale Situation, Hilfeplan, health fields). Every read of one of its records is one row: the page
(``show``), REST ``GET`` (``rest``), an export (``export``, ``subject_access``), a letter or print that uses
it (``letter``), the care overview (``overview``). Lists are not reads; they mask sensitive fields for
profiles that may list but not read. The log is append-only (``app/privacy_models.py``).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..core_models import utcnow
from ..domain.dates import format_datetime, to_berlin
from ..metamodel.build_models import built_registry
from ..privacy_models import CHANNELS, AccessLog

MASK = "••• (vertraulich)"


def is_sensitive(entity_name: str) -> bool:
    registry = built_registry()
    entity = registry.spec.entity(entity_name) if registry is not None else None
    return bool(entity is not None and entity.is_sensitive)


def sensitive_entities() -> list[str]:
    registry = built_registry()
    return [e.name for e in registry.spec.entities if e.is_sensitive] if registry is not None else []


def log_reads(session: Session, actor: Actor, entity_name: str, records: Iterable, channel: str,
              detail: str | None = None) -> int:
    """One row per record read, only for a sensitive page; returns how many. The caller commits."""
    if not is_sensitive(entity_name):
        return 0
    if channel not in CHANNELS:
        raise ValueError(f"unknown access channel {channel!r}")
    now = utcnow()
    rows = [{"at": now, "user_id": actor.user_id, "username": actor.name[:64], "entity": entity_name,
             "record_id": int(getattr(r, "id", r)), "channel": channel,
             "org_unit_id": getattr(r, "org_unit_id", None), "detail": (detail or "")[:200] or None}
            for r in records]
    if rows:
        session.execute(insert(AccessLog.__table__), rows)
    return len(rows)


def _start(day: date) -> datetime:
    """Berlin midnight of ``day`` in UTC, as the column stores it (SQLite keeps the digits and drops the zone:
    a Berlin bound compared as text would miss the hour(s) before midnight)."""
    from zoneinfo import ZoneInfo
    return datetime.combine(day, time.min, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(timezone.utc)


def search(session: Session, *, user: str | None = None, entity: str | None = None, record_id: int | None = None,
           date_from: date | None = None, date_to: date | None = None, limit: int | None = None) -> list[AccessLog]:
    """The log, newest first, narrowed by user name, page (and record), and Berlin dates (inclusive)."""
    query = select(AccessLog)
    if user:
        query = query.where(AccessLog.username == user)
    if entity:
        query = query.where(AccessLog.entity == entity)
    if record_id is not None:
        query = query.where(AccessLog.record_id == record_id)
    if date_from is not None:
        query = query.where(AccessLog.at >= _start(date_from))
    if date_to is not None:
        query = query.where(AccessLog.at < _start(date_to + timedelta(days=1)))
    query = query.order_by(AccessLog.at.desc(), AccessLog.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


FIELDS = ("id", "at", "user", "entity", "record_id", "channel", "org_unit_id", "detail")


def as_dicts(rows: Iterable[AccessLog]) -> list[dict]:
    """JSON keys and CSV columns: id, at (ISO, Europe/Berlin), user, entity, record_id, channel, org_unit_id, detail."""
    return [{"id": r.id, "at": to_berlin(r.at).isoformat(timespec="seconds"), "user": r.username, "entity": r.entity,
             "record_id": r.record_id, "channel": r.channel, "org_unit_id": r.org_unit_id, "detail": r.detail}
            for r in rows]


def write_json(rows: Iterable[AccessLog]) -> str:
    return json.dumps(as_dicts(rows), ensure_ascii=False, indent=2) + "\n"


def write_csv(rows: Iterable[AccessLog]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(as_dicts(rows))
    return out.getvalue()


def shown_time(row: AccessLog) -> str:
    return format_datetime(row.at)
