"""Partners: the duplicate check and the merge of two partners into one."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..core_models import ChangeLog, utcnow
from ..domain.phonetics import WARN_SCORE, birth_dates_near, duplicate_score, phonetic
from ..errors import DomainError
from ..metamodel.build_models import built_registry, column_name
from ..actor import Actor
from ..metamodel.kinds import kind_of, points_to
from ..scoping import can_see_record, scope_query
from .history import current_actor, merged_from_text, shown

CANDIDATES = 200


@dataclass(frozen=True)
class Duplicate:
    partner: object
    score: int


def _near_dates(birth: date) -> list[date]:
    """Every date one typo away (one digit, two neighbours swapped, day and month swapped): an IN list for the index."""
    digits = birth.strftime("%d%m%Y")
    texts = {digits[:i] + d + digits[i + 1:] for i in range(8) for d in "0123456789"}
    texts |= {digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:] for i in range(7)}
    found = set()
    for text in texts:
        try:
            found.add(date(int(text[4:]), int(text[2:4]), int(text[:2])))
        except ValueError:
            continue
    if birth.day <= 12:
        try:
            found.add(birth.replace(month=birth.day, day=birth.month))
        except ValueError:
            pass
    found.discard(birth)
    return sorted(d for d in found if birth_dates_near(birth, d) and d.year > 1850)


def find_duplicates(session: Session, surname: str | None, first_name: str | None, birth_date: date | None,
                    exclude_id: int | None = None, limit: int = 10, actor: Actor | None = None) -> list[Duplicate]:
    """Likely duplicates the current user may see, best first.

    Candidates come from three indexed look-ups, each capped, and are then scored by
    ``duplicate_score``. Only these can reach the warning threshold (see the score's table):
    1. the same birth date, whatever the names (typos, swapped names, double names, empty first name);
    2. surname and first name that sound alike (Kölner Phonetik), when birth dates differ or are missing;
    3. a birth date one typo away with a surname that sounds alike.
    """
    if not (surname or "").strip():
        return []
    model = built_registry().model("partner")
    codes = phonetic(surname).split()
    surname_keys = sorted({phonetic(surname), *codes} - {""})
    first_code = phonetic(first_name)
    lookups = []
    if birth_date:
        lookups.append(model.birth_date == birth_date)
        if surname_keys:
            lookups.append(model.surname_phon.in_(surname_keys) & model.birth_date.in_(_near_dates(birth_date)))
    if surname_keys and first_code:
        lookups.append(model.surname_phon.in_(surname_keys) & (model.first_name_phon == first_code))
    seen: dict[int, object] = {}
    for condition in lookups:
        query = scope_query(select(model).where(condition), model, actor=actor)
        if exclude_id:
            query = query.where(model.id != exclude_id)
        for row in session.scalars(query.order_by(model.id).limit(CANDIDATES)):
            seen[row.id] = row
    scored = [Duplicate(p, duplicate_score(surname, first_name, birth_date, p.surname, p.first_name, p.birth_date))
              for p in seen.values()]
    scored = [d for d in scored if d.score >= WARN_SCORE]
    scored.sort(key=lambda d: (-d.score, d.partner.id))
    return scored[:limit]


# --- merge ----------------------------------------------------------------------------------------

@dataclass
class MergeResult:
    moved: dict[str, int] = field(default_factory=dict)    # per page label: references moved to the survivor
    dropped: dict[str, int] = field(default_factory=dict)  # rows the survivor already had (same role twice)
    filled: list[str] = field(default_factory=list)        # field labels the survivor took over

    @property
    def total(self) -> int:
        return sum(self.moved.values())


@dataclass(frozen=True)
class Reference:
    label: str       # "Adressen" or "Beziehungen – steht in Beziehung zu"
    count: int


def _partner_refs(registry):
    for em in registry:
        refs = [f for f in em.spec.fields if points_to(f, "partner")]
        if refs:
            yield em, refs


def _ref_label(em, f, refs) -> str:
    return em.spec.plural if len(refs) == 1 else f"{em.spec.plural} – {f.label}"


def partner_references(session: Session, partner_id: int) -> list[Reference]:
    """How many records of each kind refer to the partner (what a merge would move), in config order."""
    found = []
    for em, refs in _partner_refs(built_registry()):
        for f in refs:
            column = getattr(em.model, column_name(f))
            count = session.scalar(select(func.count()).select_from(em.model).where(column == partner_id))
            if count:
                found.append(Reference(_ref_label(em, f, refs), count))
    return found


def fillable_fields(survivor, duplicate) -> list:
    """Fields empty at the survivor that the duplicate knows (taken over by the merge)."""
    entity = built_registry().entity("partner")
    return [f for f in entity.fields
            if kind_of(f).merge_fills
            and getattr(survivor, f.name, None) in (None, "") and getattr(duplicate, f.name, None) not in (None, "")]


def load_pair(session: Session, survivor_id: int | None, duplicate_id: int | None, actor: Actor | None = None):
    """Both partners, if the current user may see them; a German DomainError otherwise."""
    if not survivor_id or not duplicate_id:
        raise DomainError("Bitte den bleibenden Partner und den Doppelsatz auswählen.")
    if survivor_id == duplicate_id:
        raise DomainError("Ein Partner kann nicht mit sich selbst zusammengeführt werden.")
    model = built_registry().model("partner")
    survivor, duplicate = session.get(model, survivor_id), session.get(model, duplicate_id)
    for label, record, number in (("Bleibender Partner", survivor, survivor_id),
                                  ("Doppelsatz", duplicate, duplicate_id)):
        if record is None or not can_see_record(record, actor):
            raise DomainError(f"{label}: Partner Nr. {number} nicht gefunden.")
    return survivor, duplicate


def merge_partners(session: Session, survivor_id: int, duplicate_id: int, actor: Actor | None = None) -> MergeResult:
    """Move every reference from the duplicate to the survivor, then delete the duplicate.

    1. Every record that refers to the duplicate (addresses, contacts, roles, relationships on both
       sides, cases, household members, social situation …) refers to the survivor afterwards.
    2. Rows the survivor already has by a unique rule (the same role twice) are dropped, and so is a
       relationship between the two merged partners (it would relate the survivor to itself).
    3. Fields empty at the survivor are filled from the duplicate.
    4. The change log keeps both: the duplicate's own entries stay, every moved record logs its
       change, and both partners get a "merge" entry that names the other and lists the duplicate's data.
    The caller commits (or rolls back: nothing is half-merged).
    """
    survivor, duplicate = load_pair(session, survivor_id, duplicate_id, actor)
    registry = built_registry()
    result = MergeResult()
    for em, refs in _partner_refs(registry):
        columns = {f.name: getattr(em.model, column_name(f)) for f in refs}
        rows = list(session.scalars(select(em.model).where(or_(*(c == duplicate_id for c in columns.values())))
                                    .order_by(em.model.id)))
        for row in rows:
            if _clashes(session, em, refs, row, survivor_id, duplicate_id):
                session.delete(row)
                result.dropped[em.spec.plural] = result.dropped.get(em.spec.plural, 0) + 1
                continue
            for f in refs:
                if getattr(row, column_name(f)) == duplicate_id:
                    setattr(row, f.name, survivor)
                    label = _ref_label(em, f, refs)
                    result.moved[label] = result.moved.get(label, 0) + 1
            session.flush()  # the next row's unique check must see this one moved
    entity = registry.entity("partner")
    for f in fillable_fields(survivor, duplicate):
        setattr(survivor, f.name, getattr(duplicate, f.name))
        result.filled.append(f.label)
    actor, now = current_actor(), utcnow()
    summary = "; ".join(f"{f.label}: {shown(getattr(duplicate, f.name), f)}" for f in entity.fields
                        if kind_of(f).storage != "multiple" and not kind_of(f).refers_to_record and getattr(duplicate, f.name, None) not in (None, ""))
    moved = ", ".join(f"{count} × {label}" for label, count in result.moved.items()) or "keine Verweise"
    session.add_all([
        ChangeLog(entity="partner", record_id=survivor_id, action="merge", field=None,
                  old_value=merged_from_text(duplicate_id, summary),
                  new_value=f"übernommen: {moved}", changed_by=actor, changed_at=now),
        ChangeLog(entity="partner", record_id=duplicate_id, action="merge", field=None, old_value=summary,
                  new_value=f"zusammengeführt in Partner Nr. {survivor_id} ({survivor})",
                  changed_by=actor, changed_at=now),
    ])
    session.flush()
    session.delete(duplicate)
    session.flush()
    return result


def _clashes(session, em, refs, row, survivor_id: int, duplicate_id: int) -> bool:
    after = {f.name: (survivor_id if getattr(row, column_name(f)) == duplicate_id else getattr(row, column_name(f)))
             for f in refs}
    # A relationship of a partner page that would point from the survivor to the survivor.
    if em.spec.parent == "partner" and len(refs) > 1 and list(after.values()).count(survivor_id) > 1:
        return True
    for unique in em.spec.unique:
        if not any(name in after and getattr(row, column_name(em.spec.field(name))) == duplicate_id
                   for name in unique.fields):
            continue
        conditions = []
        for name in unique.fields:
            f = em.spec.field(name)
            value = after.get(name, getattr(row, column_name(f)))
            conditions.append(getattr(em.model, column_name(f)) == value)
        if session.scalar(select(em.model.id).where(*conditions, em.model.id != row.id).limit(1)) is not None:
            return True
    return False
