"""Created/updated by/at on every record, and a change log of every field, kept on flush.

The listener runs for every generated entity, whatever path changed it (form, REST, import, merge),
so no view has to remember it. Values are logged as the user saw them (labels, TT.MM.JJJJ).
"""
from __future__ import annotations

import contextvars
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from ..core_models import ChangeLog, utcnow
from ..domain.phonetics import phonetic
from ..metamodel.build_models import PHONETIC_FIELDS, built_registry, lc_name, searchable_lc_fields
from ..web.filters import normalise

# Who acts outside a web request (CLI, import, demo): set with ``acting_as``.
_actor: contextvars.ContextVar[str] = contextvars.ContextVar("fachstelle_actor", default="system")


class acting_as:
    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.token = _actor.set(self.name)

    def __exit__(self, *exc):
        _actor.reset(self.token)


def current_actor() -> str:
    if has_request_context():
        from flask_login import current_user
        if getattr(current_user, "is_authenticated", False):
            return current_user.username
    return _actor.get()


def shown(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, (list, tuple, set)):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


def derive_columns(obj, entity) -> None:
    """Lower-cased search twins and Kölner Phonetik codes follow the typed value."""
    for name in searchable_lc_fields(entity):
        setattr(obj, lc_name(name), normalise(getattr(obj, name, None)) or None)
    for name in PHONETIC_FIELDS.get(entity.name, ()):
        setattr(obj, f"{name}_phon", phonetic(getattr(obj, name, None)) or None)


def _field_changes(obj, entity) -> list[tuple[str, str | None, str | None]]:
    state = inspect(obj)
    changes = []
    for f in entity.fields:
        if f.name not in state.attrs:
            continue
        hist = state.attrs[f.name].history
        if not hist.has_changes():
            continue
        if f.type == "multichoice":
            old = [*hist.unchanged, *hist.deleted]
            new = [*hist.unchanged, *hist.added]
        else:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
        if shown(old) != shown(new):
            changes.append((f.name, shown(old), shown(new)))
    return changes


def _before_flush(session: Session, flush_context, instances) -> None:
    registry = built_registry()
    if registry is None:
        return
    actor, now = current_actor(), utcnow()
    pending = session.info.setdefault("fs_changes", [])
    for obj in session.new:
        entity_name = getattr(type(obj), "__entity__", None)
        if entity_name is None:
            continue
        entity = registry.entity(entity_name)
        obj.created_at, obj.created_by, obj.updated_at, obj.updated_by = now, actor, now, actor
        derive_columns(obj, entity)
        pending.append(("create", obj, None, None, None, actor, now))
    for obj in session.dirty:
        entity_name = getattr(type(obj), "__entity__", None)
        if entity_name is None or not session.is_modified(obj):
            continue
        entity = registry.entity(entity_name)
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
    rows = [{"entity": type(obj).__entity__, "record_id": obj.id, "action": action, "field": field,
             "old_value": old, "new_value": new, "changed_by": actor, "changed_at": when}
            for action, obj, field, old, new, actor, when in pending]
    session.connection().execute(insert(ChangeLog.__table__), rows)


def install(session_class=Session) -> None:
    """Listen on every Session of the process (forms, REST, CLI and tests alike), once."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
