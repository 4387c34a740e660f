"""Need and offer (#12): which free rooms fit a household, ranked, each with its reasons.

A candidate is a room (or flat) with its offer attributes and the number of its places free for the whole
requested period (occupancies and other households' reservations already taken out by the caller). Hard
requirements decide whether a room fits; soft criteria rank the fitting ones. Every result says why, and
an unsuitable room says what is wrong ("nur Frauen", "nicht barrierefrei").

Pure functions: no Flask, no SQLAlchemy.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Member:
    sex: str | None  # catalogue code of ``sex``: male, female, diverse, unknown, or None
    age: int | None
    role: str | None = None  # household_role code


@dataclass(frozen=True)
class Need:
    members: tuple[Member, ...]
    size: int  # household size (at least the members given)
    rooms: int = 1
    required: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    preferred_area: str | None = None

    @property
    def has_children(self) -> bool:
        return any(m.age is not None and m.age < 18 for m in self.members) or any(
            m.role == "kind" for m in self.members)

    @property
    def sexes(self) -> set[str | None]:
        return {m.sex for m in self.members}


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__ (5× slower
class Candidate:        # for the city's 960 rooms per search); read-only by convention
    room_id: int
    room_label: str
    shelter_id: int
    shelter_name: str
    district: str | None
    attributes: frozenset[str]
    places: int  # places of the room
    free_place_ids: tuple[int, ...]  # free for the whole period
    shelter_type: str | None = None


@dataclass(slots=True)
class Match:
    candidate: Candidate
    fits: bool
    score: int = 0
    reasons: list[str] = field(default_factory=list)  # why it fits / what is good
    problems: list[str] = field(default_factory=list)  # why not (hard), German
    place_ids: tuple[int, ...] = ()  # the places to reserve for the household (fits only)
    extra_rooms: tuple[int, ...] = ()  # further rooms of the same shelter when the need asks for more rooms
    extra_labels: tuple[str, ...] = ()


_RESTRICTING = frozenset({"nur_frauen", "nur_maenner", "mehrbettzimmer"})


def _label(labels: Mapping[str, str], code: str) -> str:
    return labels.get(code, code)


def hard_problems(need: Need, cand: Candidate, labels: Mapping[str, str], sexes: set | None = None,
                  children: bool | None = None) -> list[str]:
    """What rules the room out, as the clerk reads it (``sexes``/``children``: the need's, computed once)."""
    problems = []
    attributes = cand.attributes
    if need.required and not need.required <= attributes:
        problems.extend(f"nicht {_label(labels, code)}" for code in sorted(need.required - attributes))
    if need.excluded and need.excluded & attributes:
        problems.extend(f"{_label(labels, code)} (ausgeschlossen)" for code in sorted(need.excluded & attributes))
    if not attributes & _RESTRICTING:
        return problems
    sexes = need.sexes if sexes is None else sexes
    children = need.has_children if children is None else children
    if "nur_frauen" in cand.attributes and sexes - {"female"}:
        problems.append("nur Frauen")
    if "nur_maenner" in cand.attributes and sexes - {"male"}:
        problems.append("nur Männer")
    if children and "familiengeeignet" not in cand.attributes and (
            "nur_frauen" in cand.attributes or "nur_maenner" in cand.attributes or "mehrbettzimmer" in cand.attributes):
        problems.append("nicht für Familien mit Kindern")
    return problems


@dataclass(frozen=True, slots=True)
class Prefilter:
    """What the database may decide before ``match``: rooms lacking a required attribute, having an excluded
    one, or with fewer than ``min_free`` free places can never fit ``need``."""
    required: frozenset[str]
    excluded: frozenset[str]
    min_free: int


def sql_prefilter(need: Need) -> Prefilter:
    """The hard rules of ``need`` a query can apply on its own: every rule here rules a room out in
    ``hard_problems`` or ``match`` too, so the rooms it keeps are a superset of the suitable ones (the rest of
    the rules — families in multi-bed rooms — stay with ``hard_problems``)."""
    excluded = set(need.excluded)
    sexes = need.sexes
    if sexes - {"female"}:
        excluded.add("nur_frauen")
    if sexes - {"male"}:
        excluded.add("nur_maenner")
    # one room must hold the household; of several rooms each must have a free place
    return Prefilter(frozenset(need.required), frozenset(excluded), need.size if need.rooms <= 1 else 1)


def match(need: Need, candidates: Iterable[Candidate], labels: Mapping[str, str] | None = None,
          show_unsuitable: bool = True) -> list[Match]:
    """Rank the rooms for ``need``: fitting ones first (best score first), then — if asked — the unsuitable
    ones with their reasons. For a need of several rooms, a room fits together with further suitable rooms
    of the same shelter whose free places make up the household."""
    labels = labels or {}
    candidates = list(candidates)
    by_shelter: dict[int, list[Candidate]] = {}
    checked: dict[int, list[str]] = {}
    sexes, children = need.sexes, need.has_children
    by_attributes: dict[frozenset, list[str]] = {}  # the hard rules read only the attributes: rooms share sets
    for cand in candidates:
        found = by_attributes.get(cand.attributes)
        if found is None:
            found = by_attributes[cand.attributes] = hard_problems(need, cand, labels, sexes, children)
        checked[cand.room_id] = found
        if not checked[cand.room_id] and cand.free_place_ids:
            by_shelter.setdefault(cand.shelter_id, []).append(cand)
    results: list[Match] = []
    for cand in candidates:
        problems = list(checked[cand.room_id])
        free = len(cand.free_place_ids)
        m = Match(cand, fits=False, problems=problems)
        if not problems:
            if need.rooms <= 1:
                if free >= need.size:
                    m.fits, m.place_ids = True, cand.free_place_ids[:need.size]
                else:
                    problems.append(f"nur {free} von {need.size} benötigten Plätzen frei" if free else
                                    "kein Platz frei im gewünschten Zeitraum")
            else:
                others = sorted((c for c in by_shelter.get(cand.shelter_id, ()) if c.room_id != cand.room_id),
                                key=lambda c: (-len(c.free_place_ids), c.room_label))
                group = [cand, *others[:need.rooms - 1]]
                total = sum(len(c.free_place_ids) for c in group)
                if not free:
                    problems.append("kein Platz frei im gewünschten Zeitraum")
                elif len(group) < need.rooms:
                    problems.append(f"nur {len(group)} von {need.rooms} Räumen frei in dieser Unterkunft")
                elif total < need.size:
                    problems.append(f"nur {total} von {need.size} benötigten Plätzen frei in {need.rooms} Räumen")
                else:
                    m.fits, m.place_ids = True, spread(group, need.size)
                    m.extra_rooms = tuple(c.room_id for c in group[1:])
                    m.extra_labels = tuple(c.room_label for c in group[1:])
        if m.fits:
            _score(need, cand, m, labels)
            results.append(m)
        elif show_unsuitable:
            results.append(m)
    # Fitting first, best score first; rooms of one shelter stay together by name; unsuitable ones last.
    results.sort(key=lambda r: (not r.fits, -r.score, r.candidate.shelter_name, r.candidate.room_label))
    if need.rooms > 1:  # one line per shelter group: a room already used as an extra room is not listed again
        seen: set[int] = set()
        kept = []
        for r in results:
            if r.fits:
                if r.candidate.room_id in seen:
                    continue
                seen.update((r.candidate.room_id, *r.extra_rooms))
            kept.append(r)
        results = kept
    return results


def spread(group: list[Candidate], size: int) -> tuple[int, ...]:
    """``size`` free places taken from the rooms in turn, so each room of a several-room need gets people."""
    queues = [list(c.free_place_ids) for c in group]
    ids: list[int] = []
    while len(ids) < size and any(queues):
        for q in queues:
            if q and len(ids) < size:
                ids.append(q.pop(0))
    return tuple(ids)


def _score(need: Need, cand: Candidate, m: Match, labels: Mapping[str, str]) -> None:
    free = len(cand.free_place_ids)
    if need.required:
        m.reasons.append("erfüllt: " + ", ".join(_label(labels, c) for c in sorted(need.required)))
    else:
        m.reasons.append("keine besonderen Anforderungen")
    if need.excluded:
        m.reasons.append("ohne: " + ", ".join(_label(labels, c) for c in sorted(need.excluded)))
    m.reasons.append(f"{len(m.place_ids)} Platz frei" if len(m.place_ids) == 1 else f"{len(m.place_ids)} Plätze frei"
                     + (f" in {1 + len(m.extra_rooms)} Räumen" if m.extra_rooms else ""))
    score = 100
    if need.preferred_area and cand.district and need.preferred_area.strip().lower() == cand.district.strip().lower():
        score += 30
        m.reasons.append(f"im bevorzugten Gebiet {cand.district}")
    if need.has_children and "familiengeeignet" in cand.attributes:
        score += 20
        m.reasons.append("für Familien geeignet")
    if "qualitaetsgeprueft" in cand.attributes:
        score += 10
        m.reasons.append("qualitätsgeprüft")
    if need.size == 1 and "einzelzimmer" in cand.attributes:
        score += 10
        m.reasons.append("Einzelzimmer")
    if not m.extra_rooms:
        spare = free - need.size
        score -= min(spare, 10) * 3  # a tight fit keeps big rooms for big households
        if spare == 0:
            m.reasons.append("passt genau (keine Plätze bleiben leer)")
    m.score = score
