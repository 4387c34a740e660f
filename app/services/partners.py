"""Partners: the duplicate check and the merge of two partners into one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..core_models import ChangeLog, utcnow
from ..domain.phonetics import WARN_SCORE, duplicate_score, phonetic
from ..errors import DomainError
from ..metamodel.build_models import built_registry, column_name
from ..scoping import scope_query
from .history import current_actor, shown

CANDIDATES = 200


@dataclass(frozen=True)
class Duplicate:
    partner: object
    score: int


def find_duplicates(session: Session, surname: str, first_name: str, birth_date: date | None,
                    exclude_id: int | None = None, limit: int = 10) -> list[Duplicate]:
    """Likely duplicates the current user may see, best first.

    Candidates come from two indexed look-ups (same Kölner Phonetik of the surname; same birth date),
    so typos in the name are still found when the birth date agrees, and the check stays fast at
    city size. Each candidate is then scored by ``duplicate_score``.
    """
    if not (surname or "").strip():
        return []
    model = built_registry().model("partner")
    code = phonetic(surname)
    lookups = []
    if code:
        lookups.append(select(model).where(model.surname_phon == code))
    if birth_date:
        lookups.append(select(model).where(model.birth_date == birth_date))
    seen: dict[int, object] = {}
    for query in lookups:
        query = scope_query(query, model).limit(CANDIDATES)
        if exclude_id:
            query = query.where(model.id != exclude_id)
        for row in session.scalars(query):
            seen[row.id] = row
    scored = [Duplicate(p, duplicate_score(surname, first_name, birth_date, p.surname, p.first_name, p.birth_date))
              for p in seen.values()]
    scored = [d for d in scored if d.score >= WARN_SCORE]
    scored.sort(key=lambda d: (-d.score, d.partner.id))
    return scored[:limit]


def merge_partners(session: Session, survivor_id: int, duplicate_id: int) -> dict[str, int]:
    """Move every reference from the duplicate to the survivor, then delete the duplicate.

    1. Rows that would break a unique constraint on the survivor (the same role twice) are dropped.
    2. The change log keeps both: the duplicate's own entries stay, and both get a "merge" entry
       that names the other and lists the duplicate's data.
    Returns how many references were moved per entity.
    """
    if survivor_id == duplicate_id:
        raise DomainError("Ein Partner kann nicht mit sich selbst zusammengeführt werden.")
    registry = built_registry()
    model = registry.model("partner")
    survivor, duplicate = session.get(model, survivor_id), session.get(model, duplicate_id)
    if survivor is None or duplicate is None:
        raise DomainError("Partner nicht gefunden.")
    moved: dict[str, int] = {}
    for em in registry:
        refs = [f for f in em.spec.fields if f.type == "ref" and f.ref == "partner"]
        for f in refs:
            column = getattr(em.model, column_name(f))
            for unique in em.spec.unique:
                if f.name in unique.fields:
                    others = [getattr(em.model, column_name(em.spec.field(n))) for n in unique.fields if n != f.name]
                    keep = select(*others).where(column == survivor_id)
                    if others:
                        clash = select(em.model.id).where(column == duplicate_id,
                                                          (others[0]).in_(keep) if len(others) == 1 else False)
                        session.execute(delete(em.model).where(em.model.id.in_(clash)))
            result = session.execute(update(em.model).where(column == duplicate_id).values({column_name(f): survivor_id}))
            if result.rowcount:
                moved[em.spec.plural] = moved.get(em.spec.plural, 0) + result.rowcount
    actor, now = current_actor(), utcnow()
    summary = "; ".join(f"{f.label}: {shown(getattr(duplicate, f.name))}" for f in registry.entity("partner").fields
                        if f.type not in ("multichoice",) and getattr(duplicate, f.name, None) not in (None, ""))
    session.add_all([
        ChangeLog(entity="partner", record_id=survivor_id, action="merge", field=None,
                  old_value=f"Partner {duplicate_id}: {summary}", new_value=f"zusammengeführt in {survivor_id}",
                  changed_by=actor, changed_at=now),
        ChangeLog(entity="partner", record_id=duplicate_id, action="merge", field=None, old_value=summary,
                  new_value=f"zusammengeführt in Partner {survivor_id}", changed_by=actor, changed_at=now),
    ])
    session.flush()
    session.expire_all()
    session.delete(session.get(model, duplicate_id))
    session.flush()
    return moved
