"""Rules every generated record follows on save and delete: org unit, visible references, history."""
from __future__ import annotations

from sqlalchemy import func, select

from ..actor import Actor
from ..core_models import ChangeLog
from ..errors import DomainError, NoHomeUnitError
from ..extensions import db
from ..letters.models import Letter
from ..metamodel.build_models import built_registry, column_name
from ..metamodel.kinds import kind_of, points_to
from ..scoping import can_see_record, home_org_unit_id, scope_query


def can_see(record, actor: Actor | None = None) -> bool:
    return can_see_record(record, actor)


def _parent(entity, item):
    if not entity.parent:
        return None
    return getattr(item, entity.parent_field or entity.parent, None)


def assign_org_unit(entity, item, actor: Actor | None = None) -> None:
    """A new record belongs to its parent's org unit, else to the actor's home unit; shared institutions to none.

    An actor without a home unit (an account with no org unit) gets ``NoHomeUnitError``: the record is
    not saved rather than filed into some other unit, where the clerk could not even see it.
    """
    check_refs_visible(entity, item, actor)
    if entity.org_scope == "none":
        return
    parent = _parent(entity, item)
    if parent is not None and hasattr(parent, "org_unit_id"):
        item.org_unit_id = parent.org_unit_id
        return
    kind = getattr(item, "kind", None)
    if entity.org_scope == "shared" and getattr(kind, "code", None) == "institution":
        item.org_unit_id = None
        return
    if getattr(item, "org_unit_id", None) is None:
        item.org_unit_id = home_org_unit_id(actor)
    if item.org_unit_id is None:
        # Also on shared entities: a person without a unit would be visible to every unit.
        raise NoHomeUnitError()


def check_refs_visible(entity, item, actor: Actor | None = None) -> None:
    for f in entity.fields:
        if kind_of(f).refers_to_record:
            target = getattr(item, f.name, None)
            if target is not None and not can_see_record(target, actor):
                raise DomainError(f"„{f.label}“: Datensatz nicht gefunden.")


def referrers(entity_name: str, record_id: int) -> list[tuple[str, int]]:
    """Which other entities still refer to this record, and how often."""
    registry = built_registry()
    found = []
    for em in registry:
        for f in em.spec.fields:
            if points_to(f, entity_name):
                column = getattr(em.model, column_name(f))
                count = db.session.scalar(select(func.count()).select_from(em.model).where(column == record_id))
                if count:
                    found.append((em.spec.plural, count))
    return found


def check_deletable(entity, item) -> None:
    from .save_hooks import before_delete
    before_delete(entity.name, item)
    refs = referrers(entity.name, item.id)
    if entity.name in ("case", "doc_entry"):
        # Archived letters are immutable and keep their case and entry.
        column = Letter.case_id if entity.name == "case" else Letter.doc_entry_id
        letters = db.session.scalar(select(func.count()).select_from(Letter).where(column == item.id))
        if letters:
            refs.append(("archivierte Briefe", letters))
    if refs:
        listing = ", ".join(f"{count} × {label}" for label, count in refs)
        raise DomainError(f"{entity.label} kann nicht gelöscht werden: es verweisen noch {listing} darauf.")


def history_of(entity_name: str, record_id: int, limit: int = 200) -> list[ChangeLog]:
    query = (select(ChangeLog).where(ChangeLog.entity == entity_name, ChangeLog.record_id == record_id)
             .order_by(ChangeLog.changed_at.desc(), ChangeLog.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def visible(model, query, actor: Actor | None = None):
    return scope_query(query, model, actor=actor)
