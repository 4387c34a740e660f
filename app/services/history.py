"""Created/updated by/at on every record, and a change log of every field, kept on flush.

The listener runs for every generated entity, whatever path changed it (form, REST, import, merge),
so no view has to remember it. Values are logged as the user saw them (labels, TT.MM.JJJJ).
"""
from __future__ import annotations

import contextvars
import re
from datetime import datetime, timezone
from types import SimpleNamespace

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from ..actor import Actor, request_actor
from ..core_models import ChangeLog, utcnow
from ..domain.phonetics import phonetic
from ..domain.text import normalise
from ..metamodel.build_models import (PHONETIC_FIELDS, VERSION_COLUMN, built_registry, column_name, lc_name,
                                      searchable_lc_fields)
from ..metamodel.kinds import kind_of, plain_text

# Who acts outside a web request (CLI, import, demo, tests): set with ``acting_as`` at that edge. The flush
# listeners cannot take arguments, so they read it here; a web request's actor always wins.
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("fachstelle_actor", default=Actor(name="system"))


class acting_as:
    """``with acting_as(Actor.system("import")):`` — an Actor, or just the name for the history."""

    def __init__(self, who: Actor | str):
        self.actor = who if isinstance(who, Actor) else Actor(name=who)

    def __enter__(self):
        self.token = _actor.set(self.actor)
        return self.actor

    def __exit__(self, *exc):
        _actor.reset(self.token)


def acting_actor() -> Actor:
    """The signed-in user of this request, else the actor set with ``acting_as`` (default: "system")."""
    found = request_actor()
    if found is not None and found.user_id is not None:
        return found
    return _actor.get()


def current_actor() -> str:
    """The name written to the history as "changed by"."""
    return acting_actor().name


def audit_values(actor: str, now: datetime) -> dict:
    """The audit columns of a new record (bulk imports write them as the flush listener below does)."""
    return {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}


def change_row(entity: str, record_id: int, action: str, actor: str, now: datetime, field: str | None = None,
               old: str | None = None, new: str | None = None) -> dict:
    """One change-log row, for ``insert(ChangeLog.__table__)``."""
    return {"entity": entity, "record_id": record_id, "action": action, "field": field, "old_value": old,
            "new_value": new, "changed_by": actor, "changed_at": now}


def shown(value, field=None) -> str | None:
    """A value as the user reads it: TT.MM.JJJJ, Berlin time, ja/nein, 1.234,50 €, labels and titles.

    With a field, its kind decides (an IBAN in groups of four, a per-cent value with "%")."""
    if field is not None:
        return kind_of(field).history_text(value)
    return plain_text(value)


def normalise_values(obj, entity) -> None:
    """Every path stores the kind's normal form (a compact IBAN, an e-mail domain in lower case)."""
    loaded = inspect(obj).dict  # what is loaded or set: reading it never queries
    for f in entity.fields:
        kind = kind_of(f)
        if not kind.normalises:
            continue
        value = loaded.get(f.name)
        if value is not None:
            normal = kind.normalise(value)
            if normal != value:
                setattr(obj, f.name, normal)


def derive_columns(obj, entity) -> None:
    """Lower-cased search twins and Kölner Phonetik codes follow the typed value."""
    for name in searchable_lc_fields(entity):
        setattr(obj, lc_name(name), normalise(getattr(obj, name, None)) or None)
    for name in PHONETIC_FIELDS.get(entity.name, ()):
        setattr(obj, f"{name}_phon", phonetic(getattr(obj, name, None)) or None)


def _old_reference(obj, f, state, hist):
    """The value a reference or choice had before: FAB and the REST API may set the relationship without
    loading it first, and merges move references; the foreign key still holds the committed id."""
    if hist.deleted:
        return hist.deleted[0]
    fk = state.attrs[column_name(f)]
    old_id = fk.history.deleted[0] if fk.history.deleted else fk.value
    if old_id is None:
        return None
    target = type(obj).__mapper__.relationships[f.name].mapper.class_
    with state.session.no_autoflush:
        return state.session.get(target, old_id)


def _ref_title(record, other) -> str | None:
    # Two records may read alike (a merged duplicate): then the number tells them apart.
    text = shown(record)
    if record is not None and other is not None and text == shown(other) and record is not other:
        text = f"{text} (Nr. {record.id})"
    return text


def _field_changes(obj, entity) -> list[tuple[str, str | None, str | None]]:
    state = inspect(obj)
    changes = []
    for f in entity.fields:
        if f.name not in state.attrs:
            continue
        hist = state.attrs[f.name].history
        if not hist.has_changes():
            # A reference or choice changed by its id (REST, merge) shows up on the foreign key only.
            fk = column_name(f)
            if kind_of(f).storage == "reference" and fk in state.attrs and state.attrs[fk].history.has_changes():
                fk_hist = state.attrs[fk].history
                old_id = fk_hist.deleted[0] if fk_hist.deleted else None
                new_id = fk_hist.added[0] if fk_hist.added else None
                if old_id != new_id:
                    target = type(obj).__mapper__.relationships[f.name].mapper.class_
                    with state.session.no_autoflush:
                        old = state.session.get(target, old_id) if old_id is not None else None
                        new = state.session.get(target, new_id) if new_id is not None else None
                    changes.append((f.name, _ref_title(old, new), _ref_title(new, old)))
            continue
        storage = kind_of(f).storage
        if storage == "multiple":
            old = [*hist.unchanged, *hist.deleted]
            new = [*hist.unchanged, *hist.added]
        elif storage == "reference":
            old = _old_reference(obj, f, state, hist)
            new = hist.added[0] if hist.added else None
            if old is not new and (old is None or new is None or old.id != new.id):
                changes.append((f.name, _ref_title(old, new), _ref_title(new, old)))
            continue
        else:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
        if shown(old, f) != shown(new, f):
            changes.append((f.name, shown(old, f), shown(new, f)))
    return changes


def _before_flush(session: Session, flush_context, instances) -> None:
    registry = built_registry()
    if registry is None:
        return
    actor, now = current_actor(), utcnow()
    # A flush that failed left its entries here; they were never written and must not be now.
    pending = session.info["fs_changes"] = []
    for obj in session.new:
        entity_name = getattr(type(obj), "__entity__", None)
        if entity_name is None:
            continue
        entity = registry.entity(entity_name)
        for name, value in audit_values(actor, now).items():
            setattr(obj, name, value)
        normalise_values(obj, entity)
        derive_columns(obj, entity)
        pending.append(("create", obj, None, None, None, actor, now))
    for obj in session.dirty:
        entity_name = getattr(type(obj), "__entity__", None)
        if entity_name is None or not session.is_modified(obj):
            continue
        entity = registry.entity(entity_name)
        normalise_values(obj, entity)
        changes = _field_changes(obj, entity)
        if not changes:
            continue
        obj.updated_at, obj.updated_by = now, actor
        derive_columns(obj, entity)
        pending.extend(("update", obj, name, old, new, actor, now) for name, old, new in changes)
    for obj in session.deleted:
        entity_name = getattr(type(obj), "__entity__", None)
        if entity_name is not None:
            pending.append(("delete", obj, None, shown(obj), None, actor, now))


def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop("fs_changes", [])
    if not pending:
        return
    rows = [{**change_row(type(obj).__entity__, obj.id, action, actor, when, field, old, new),
             "record_version": getattr(obj, VERSION_COLUMN, None)}
            for action, obj, field, old, new, actor, when in pending]
    session.connection().execute(insert(ChangeLog.__table__), rows)


# The survivor's merge entry starts with the duplicate's number, so its page can show the duplicate's history.
MERGED_FROM = re.compile(r"^Nr\. (\d+): ")


def merged_from_text(duplicate_id: int, summary: str) -> str:
    return f"Nr. {duplicate_id}: {summary}"


def record_history(session: Session, entity_name: str, record_id: int, limit: int = 200) -> list:
    """The change log of a record, newest first, with the history of the duplicates merged into it.

    Entries of a merged duplicate name it in the field column ("Name (Doppelsatz Nr. 12)"), so the
    page shows whose change it was.
    """
    def entries_of(rid: int) -> list[ChangeLog]:
        query = (select(ChangeLog).where(ChangeLog.entity == entity_name, ChangeLog.record_id == rid)
                 .order_by(ChangeLog.changed_at.desc(), ChangeLog.id.desc()).limit(limit))
        return list(session.scalars(query))

    entity = built_registry().entity(entity_name)
    own = entries_of(record_id)
    rows: list = list(own)
    todo = [int(m.group(1)) for e in own if e.action == "merge" and (m := MERGED_FROM.match(e.old_value or ""))]
    seen = {record_id}
    while todo and len(seen) < 20:  # a chain of merges, bounded
        rid = todo.pop()
        if rid in seen:
            continue
        seen.add(rid)
        for e in entries_of(rid):
            if e.action == "merge" and (m := MERGED_FROM.match(e.old_value or "")):
                todo.append(int(m.group(1)))
            label = entity.field(e.field).label if e.field and entity.field(e.field) else (e.field or "")
            rows.append(SimpleNamespace(id=e.id, entity=e.entity, record_id=e.record_id, action=e.action,
                                        field=f"{label} (Doppelsatz Nr. {rid})".strip(), old_value=e.old_value,
                                        new_value=e.new_value, changed_by=e.changed_by, changed_at=e.changed_at))
    rows.sort(key=lambda e: (_aware(e.changed_at), e.id), reverse=True)
    return rows[:limit]


def _aware(value: datetime) -> datetime:
    # SQLite gives naive UTC times back, PostgreSQL aware ones.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def install(session_class=Session) -> None:
    """Listen on every Session of the process (forms, REST, CLI and tests alike), once."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
