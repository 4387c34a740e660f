"""Optimistic locking: a save based on an older version of a record is refused, with what changed since.

Every generated entity has a ``version`` column that each UPDATE checks and counts up (SQLAlchemy's
``version_id_col``, see build_models). A form or REST client sends back the version it read; when the
record has moved on, the save is refused and the clerk sees who changed what in between (from the
change log, whose entries carry the record's version) instead of silently undoing it (issue #10).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import BERLIN
from ..core_models import ChangeLog
from ..metamodel.build_models import VERSION_COLUMN, built_registry


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str | None
    new: str | None
    changed_by: str
    changed_at: datetime

    def __str__(self) -> str:
        return f"{self.label}: {_value(self.old)} → {_value(self.new)}"


@dataclass(frozen=True)
class Conflict:
    """The record moved from ``seen_version`` to ``current_version`` since the client read it."""
    entity: str
    record_id: int
    seen_version: int
    current_version: int
    changed_by: str                 # who saved last (name as the history shows it)
    changed_at: datetime | None     # when, UTC
    changes: list[FieldChange] = field(default_factory=list)

    def headline(self) -> str:
        when = ""
        if self.changed_at is not None:
            local = _aware(self.changed_at).astimezone(BERLIN)
            when = f" am {local:%d.%m.%Y} um {local:%H:%M}"
        return f"Dieser Datensatz wurde inzwischen von {self.changed_by}{when} geändert."

    def lines(self) -> list[str]:
        """One line per changed field; with several saves in between, each says whose and when."""
        saves = {(c.changed_by, c.changed_at) for c in self.changes}
        if len(saves) <= 1:
            return [str(c) for c in self.changes]
        return [f"{c} ({c.changed_by}, {_aware(c.changed_at).astimezone(BERLIN):%d.%m.%Y %H:%M})"
                for c in self.changes]

    def message(self) -> str:
        """The German text for REST clients and logs (the form shows the same as HTML)."""
        lines = [self.headline()]
        if self.changes:
            lines.append("Geändert wurde: " + "; ".join(self.lines()) + ".")
        lines.append(ADVICE)
        return " ".join(lines)

    def as_json(self) -> dict:
        return {"message": self.message(), "version": self.current_version,
                "changes": [{"field": c.field, "label": c.label, "old": c.old, "new": c.new,
                             "changed_by": c.changed_by, "changed_at": _aware(c.changed_at).isoformat()}
                            for c in self.changes]}


ADVICE = ("Ihre Eingaben wurden nicht gespeichert. Bitte prüfen Sie sie gegen die Änderungen und speichern Sie "
          "erneut, wenn Ihre Werte gelten sollen.")


def parse_version(value) -> int | None:
    """The version a form or JSON body sent: a whole number ≥ 1, else None (not sent, or unusable)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def expect_version(record, seen_version: int | None) -> None:
    """The record's UPDATE succeeds only if the database still holds ``seen_version``.

    ``find_conflict`` answers before the save, with the changes; between that check and the commit another
    worker may save. With the client's version as the one the ORM "read", its ``UPDATE … WHERE version =
    seen`` matches no row then and the flush fails (StaleDataError) instead of overwriting."""
    if seen_version is not None:
        set_committed_value(record, VERSION_COLUMN, seen_version)


def find_conflict(session: Session, entity_name: str, record, seen_version: int | None) -> Conflict | None:
    """None if the client read the current version (or sent none: saved as before, last write wins)."""
    current = getattr(record, VERSION_COLUMN)
    if seen_version is None or current is None or seen_version == current:
        return None
    entity = built_registry().entity(entity_name)
    entries = list(session.scalars(
        select(ChangeLog).where(ChangeLog.entity == entity_name, ChangeLog.record_id == record.id,
                                ChangeLog.action == "update", ChangeLog.record_version > seen_version)
        .order_by(ChangeLog.id)))
    changes = [FieldChange(e.field or "", _label(entity, e.field), e.old_value, e.new_value, e.changed_by,
                           e.changed_at) for e in entries]
    last_by = changes[-1].changed_by if changes else (record.updated_by or "unbekannt")
    last_at = changes[-1].changed_at if changes else record.updated_at
    return Conflict(entity_name, record.id, seen_version, current, display_name(session, last_by), last_at, changes)


def display_name(session: Session, username: str) -> str:
    """ "Vorname Nachname" of a staff login, else the name as the history has it (system, import, demo)."""
    from flask_appbuilder.security.sqla.models import User
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        return username
    full = " ".join(part for part in (user.first_name, user.last_name) if part)
    return f"{full} ({username})" if full else username


def _label(entity, name: str | None) -> str:
    f = entity.field(name) if name else None
    return f.label if f is not None else (name or "")


def _value(text: str | None) -> str:
    return f"„{text}“" if text not in (None, "") else "(leer)"


def _aware(value: datetime) -> datetime:
    # SQLite gives naive UTC times back, PostgreSQL aware ones.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
