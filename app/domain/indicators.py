"""Quality indicators QS 1.1–1.5 of the Berlin agreement on eviction prevention (Zielvereinbarung, 2.2).

The definitions, as agreed for Fachstelle (German with examples: ``docs/indikatoren.md``):

- "Within N working days of day D": the working days after D up to and including the day of action
  number at most N (the day of receipt itself does not count). So action on day A is in time iff
  working_days_between(D, A) <= N. An action on D itself counts as in time (0 working days); an action
  on a weekend day or holiday counts by the working days passed.
- QS 1.1 (and 1.3 with the bailiff's notice): cases whose notice was received in the period. Met: the
  standard letter went out within 3 working days. Pending: no letter yet and the deadline lies after
  the report date (reported separately, in neither numerator nor denominator). Otherwise not met.
  (A letter dated after the report date is not seen: see as-of rule.)
- QS 1.2: lawsuit-notice cases received in the period whose standard letter went out and that got no
  reaction: no contact after the dispatch, before the first home visit, and by the 10th working day
  after the dispatch. A home visit alone is not a contact; a contact after the first visit does not
  remove the case. Met: a home visit took place within 10 working days after the dispatch. Pending:
  that deadline lies after the report date and neither a contact nor a visit has happened yet.
- QS 1.4: forced evictions dated in the period and on or before the report date, with no contact
  before the eviction date. Met: the office attended the eviction.
- QS 1.5: the seven access standards per district, each yes/no with the date last confirmed; percent
  fulfilled = fulfilled / 7.
- A report as of date R sees only what is dated on or before R, so it gives the same figures when rerun
  later.
- Percent = numerator / denominator × 100, one decimal (Decimal, ROUND_HALF_UP); None ("–") where the
  denominator is 0.

Decisions where the agreement is silent (each one tested in ``tests/unit/test_indicators.py``):

1. Counting unit is the notice, not the case ("Gesamtanzahl der Mitteilungen"). A case with several
   notices of one kind has each notice evaluated with the letters dated on or after it and before the
   next notice of the same kind (its first such letter counts); a letter before the first notice
   belongs to none. Two notices of one kind on the same day are one notice.
2. The lawsuit chain (klage_*) and the bailiff chain (zr_*) are separate: a lawsuit letter never
   answers a bailiff's notice. Contacts and home visits belong to the case, not to a notice.
3. QS 1.2: the dispatch is the notice's first standard letter, in time or late. A contact on the
   dispatch day is not a reaction (it cannot answer a letter sent that day); a contact on the day of
   the first visit counts as that visit's result, not as a reaction. Visits before the dispatch do
   not count; a visit on the dispatch day does.
4. QS 1.4: "before" means any contact in the case dated before the eviction date; attendance counts
   when an ``zr_anwesenheit`` event is dated on the eviction date. Each distinct ``zr_termin`` date is
   one eviction. 1.4 has no pending cases: evictions after the report date are not seen. The
   "fachliche Einschätzung" whether attendance was needed is not recorded and not filtered on.
5. QS 1.5: each standard takes its latest confirmation on or before the report date; two on the same
   day disagreeing count as not fulfilled; a standard never confirmed counts as not fulfilled. Every
   district in the report has the denominator 7.
6. "The deadline lies after the report date" is ``add_working_days(D, N) > R``. An action on the
   weekend right after the deadline day still counts as in time once it is seen by a later report.
7. "In pairs" (Anlage 2) is counted for met cases of 1.2 (first visit) and 1.4 (attendance); it
   changes no rate.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from app.domain.calendar import WorkingCalendar

# Measurement point codes: fixed, shared by the data model, the CSV import and this module.
KLAGE_EINGANG = "klage_eingang"                  # court's notice of an eviction lawsuit received
KLAGE_ANSCHREIBEN = "klage_anschreiben"          # standard letter after the lawsuit notice sent
KONTAKT = "kontakt"                              # contact with the client
HAUSBESUCH = "hausbesuch"                        # home visit
ZR_MITTEILUNG_EINGANG = "zr_mitteilung_eingang"  # bailiff's notice of a forced eviction received
ZR_ANSCHREIBEN = "zr_anschreiben"                # standard letter after the bailiff's notice sent
ZR_TERMIN = "zr_termin"                          # the forced eviction date itself
ZR_ANWESENHEIT = "zr_anwesenheit"                # the office attended the forced eviction
MEASUREMENT_POINTS = frozenset({
    KLAGE_EINGANG, KLAGE_ANSCHREIBEN, KONTAKT, HAUSBESUCH,
    ZR_MITTEILUNG_EINGANG, ZR_ANSCHREIBEN, ZR_TERMIN, ZR_ANWESENHEIT,
})

LETTER_WORKING_DAYS = 3   # QS 1.1 and 1.3: "sofort (= innerhalb von drei Arbeitstagen)"
VISIT_WORKING_DAYS = 10   # QS 1.2: "innerhalb von 10 Arbeitstagen nach Postausgang"

INDICATORS = ("1.1", "1.2", "1.3", "1.4", "1.5")

# QS 1.5, the seven standards of "einheitlicher Zugang" in the agreement's order, with their labels.
ACCESS_STANDARDS: dict[str, str] = {
    "shared_email": "Einheitliche Sammel-Mailadresse",
    "shared_phone": "Sammel-Telefonnummer",
    "open_consultation": "Angebot der offenen Sprechstunde",
    "open_consultation_hours": "Offene Sprechstunde Di und Do 9–12 Uhr",
    "phone_consultation_hours": "Telefonische Sprechstunde Mo–Do 9–15 Uhr und Fr 9–13 Uhr",
    "uniform_website": "Einheitliche Gestaltung des Internetauftritts",
    "uniform_flyer": "Einheitlicher Informationsflyer",
}

_TENTH = Decimal("0.1")
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Event:
    """One measurement point of a case on a date; ``in_pairs`` for visits and attendance."""

    point: str
    on: date
    in_pairs: bool | None = None

    def __post_init__(self) -> None:
        if self.point not in MEASUREMENT_POINTS:
            raise ValueError(f"Unknown measurement point {self.point!r}.")


@dataclass(frozen=True, slots=True)
class Case:
    """A case file's org unit, id and measurement events, in any order."""

    org_unit: str
    case_id: int | str
    events: tuple[Event, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))


@dataclass(frozen=True, slots=True)
class AccessConfirmation:
    """A district's statement on one QS 1.5 standard: fulfilled or not, as confirmed on a date."""

    org_unit: str
    standard: str
    fulfilled: bool
    confirmed_on: date

    def __post_init__(self) -> None:
        if self.standard not in ACCESS_STANDARDS:
            raise ValueError(f"Unknown access standard {self.standard!r}.")


class CaseRef(NamedTuple):
    """One counted notice or eviction, for drill-down: ``on`` is the receipt or eviction date."""

    org_unit: str
    case_id: int | str
    on: date


class StandardRef(NamedTuple):
    """One QS 1.5 standard of a district, with the date of the confirmation that counted."""

    org_unit: str
    standard: str
    confirmed_on: date | None


Ref = CaseRef | StandardRef


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator × 100 with one decimal, rounded half up; None when denominator is 0."""
    if denominator == 0:
        return None
    return (Decimal(numerator) * _HUNDRED / Decimal(denominator)).quantize(_TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class IndicatorResult:
    """The refs behind one indicator: numerator = met, denominator = met + not met, pending apart.

    ``in_pairs`` counts met refs whose visit or attendance was done by two people (Anlage 2 zu 1.4).
    """

    met: tuple[Ref, ...] = ()
    not_met: tuple[Ref, ...] = ()
    pending: tuple[Ref, ...] = ()
    in_pairs: int = 0

    @property
    def numerator(self) -> int:
        return len(self.met)

    @property
    def denominator(self) -> int:
        return len(self.met) + len(self.not_met)

    @property
    def pending_count(self) -> int:
        return len(self.pending)

    @property
    def percent(self) -> Decimal | None:
        return percent(self.numerator, self.denominator)

    def to_json(self) -> dict[str, int | float | None]:
        value = self.percent
        return {"numerator": self.numerator, "denominator": self.denominator,
                "percent": None if value is None else float(value), "pending": self.pending_count}


def aggregate(results_per_unit: Iterable[Mapping[str, IndicatorResult]]) -> dict[str, IndicatorResult]:
    """The total over units: per indicator the refs are joined, so numerators and denominators add up.

    Percentages are never averaged: 1 of 1 and 1 of 4 give 2 of 5 = 40.0 %.
    """
    joined: dict[str, list[IndicatorResult]] = {code: [] for code in INDICATORS}
    for results in results_per_unit:
        for code, result in results.items():
            joined.setdefault(code, []).append(result)
    return {code: IndicatorResult(
        met=tuple(ref for r in parts for ref in r.met),
        not_met=tuple(ref for r in parts for ref in r.not_met),
        pending=tuple(ref for r in parts for ref in r.pending),
        in_pairs=sum(r.in_pairs for r in parts),
    ) for code, parts in joined.items()}


@dataclass(frozen=True)
class Report:
    """Indicators per org unit and in total for a period, as seen on ``as_of``."""

    period_from: date
    period_to: date
    as_of: date
    org_units: dict[str, dict[str, IndicatorResult]]
    total: dict[str, IndicatorResult]

    def to_json(self) -> dict:
        """A JSON-ready dict (ISO dates, percent a float with one decimal or None)."""
        return {
            "period": {"from": self.period_from.isoformat(), "to": self.period_to.isoformat()},
            "as_of": self.as_of.isoformat(),
            "org_units": {unit: {code: r.to_json() for code, r in results.items()}
                          for unit, results in self.org_units.items()},
            "total": {code: r.to_json() for code, r in self.total.items()},
        }


def in_time(calendar: WorkingCalendar, received: date, acted: date, working_days: int) -> bool:
    """True if ``acted`` lies within ``working_days`` working days of ``received`` (same day: yes)."""
    return calendar.working_days_between(received, acted) <= working_days


class _Acc:
    """Refs collected for one org unit while the cases are walked."""

    __slots__ = ("lists", "pairs")

    def __init__(self) -> None:
        # per indicator: [met, not_met, pending]
        self.lists: dict[str, tuple[list, list, list]] = {c: ([], [], []) for c in INDICATORS[:4]}
        self.pairs = {c: 0 for c in INDICATORS[:4]}

    def result(self, code: str) -> IndicatorResult:
        met, not_met, pending = self.lists[code]
        return IndicatorResult(tuple(met), tuple(not_met), tuple(pending), self.pairs[code])


class _Window(NamedTuple):
    period_from: date
    seen_to: date           # min(period_to, as_of): the last receipt or eviction date counted
    as_of_ordinal: int
    ordinals: dict[date, int]


def compute_report(
    cases: Iterable[Case],
    period_from: date,
    period_to: date,
    as_of: date,
    calendar: WorkingCalendar,
    access_standards: Iterable[AccessConfirmation] = (),
    *,
    org_units: Iterable[str] = (),
) -> Report:
    """QS 1.1–1.5 per org unit and in total for notices and evictions dated in the period, as of ``as_of``.

    1. Only events, notices and confirmations dated on or before ``as_of`` are seen.
    2. ``org_units`` lists units to show even without data (their rates are None, 1.5 is 0 of 7);
       they come first in that order, other units follow sorted by name.
    """
    if period_to < period_from:
        raise ValueError("period_to lies before period_from.")
    ordinals = calendar.ordinals(period_from, as_of)
    window = _Window(period_from, min(period_to, as_of), calendar.ordinal(as_of), ordinals)
    accs: dict[str, _Acc] = {name: _Acc() for name in org_units}
    listed = len(accs)
    for case in cases:
        acc = accs.get(case.org_unit)
        if acc is None:
            acc = accs[case.org_unit] = _Acc()
        _evaluate_case(case, acc, window, as_of)
    latest = _latest_confirmations(access_standards, as_of)
    for unit, _standard in latest:
        if unit not in accs:
            accs[unit] = _Acc()
    names = list(accs)[:listed] + sorted(list(accs)[listed:])
    per_unit = {}
    for name in names:
        results = {code: accs[name].result(code) for code in INDICATORS[:4]}
        results["1.5"] = _access_result(name, latest)
        per_unit[name] = results
    return Report(period_from, period_to, as_of, per_unit, aggregate(per_unit.values()))


def _evaluate_case(case: Case, acc: _Acc, window: _Window, as_of: date) -> None:
    klage: list[date] = []
    klage_letters: list[date] = []
    zr: list[date] = []
    zr_letters: list[date] = []
    contacts: list[date] = []
    visits: list[Event] = []
    evictions: list[date] = []
    attendances: list[Event] = []
    for event in case.events:
        on = event.on
        if on > as_of:
            continue
        point = event.point
        if point == KONTAKT:
            contacts.append(on)
        elif point == HAUSBESUCH:
            visits.append(event)
        elif point == KLAGE_EINGANG:
            klage.append(on)
        elif point == KLAGE_ANSCHREIBEN:
            klage_letters.append(on)
        elif point == ZR_MITTEILUNG_EINGANG:
            zr.append(on)
        elif point == ZR_ANSCHREIBEN:
            zr_letters.append(on)
        elif point == ZR_TERMIN:
            evictions.append(on)
        else:
            attendances.append(event)
    contacts.sort()
    if klage:
        for ref, sent in _letter_indicator(case, klage, klage_letters, acc.lists["1.1"], window):
            _visit_indicator(ref, sent, contacts, visits, acc, window)
    if zr:
        _letter_indicator(case, zr, zr_letters, acc.lists["1.3"], window)
    if evictions:
        _attendance_indicator(case, evictions, contacts, attendances, acc, window)


def _letter_indicator(
    case: Case, notices: list[date], letters: list[date], lists: tuple[list, list, list], window: _Window,
) -> list[tuple[CaseRef, date]]:
    """QS 1.1 / 1.3 for each notice in the window; returns (ref, first letter) of notices with a letter."""
    met, not_met, pending = lists
    sent: list[tuple[CaseRef, date]] = []
    if len(notices) > 1:
        notices = sorted(set(notices))
    letters.sort()
    ordinals = window.ordinals
    for i, received in enumerate(notices):
        if received < window.period_from or received > window.seen_to:
            continue
        ref = CaseRef(case.org_unit, case.case_id, received)
        j = bisect_left(letters, received)
        letter = letters[j] if j < len(letters) else None
        if letter is not None and i + 1 < len(notices) and letter >= notices[i + 1]:
            letter = None  # that letter answers the next notice
        start = ordinals[received]
        if letter is None:
            (pending if window.as_of_ordinal - start < LETTER_WORKING_DAYS else not_met).append(ref)
            continue
        (met if ordinals[letter] - start <= LETTER_WORKING_DAYS else not_met).append(ref)
        sent.append((ref, letter))
    return sent


def _visit_indicator(
    ref: CaseRef, sent: date, contacts: list[date], visits: list[Event], acc: _Acc, window: _Window,
) -> None:
    """QS 1.2 for one lawsuit notice whose standard letter went out on ``sent``."""
    ordinals = window.ordinals
    start = ordinals[sent]
    first_visit = min((v.on for v in visits if v.on >= sent), default=None)
    k = bisect_right(contacts, sent)
    if k < len(contacts):
        contact = contacts[k]
        if (first_visit is None or contact < first_visit) and ordinals[contact] - start <= VISIT_WORKING_DAYS:
            return  # the client reacted: not part of 1.2
    met, not_met, pending = acc.lists["1.2"]
    if first_visit is not None and ordinals[first_visit] - start <= VISIT_WORKING_DAYS:
        met.append(ref)
        if any(v.in_pairs for v in visits if v.on == first_visit):
            acc.pairs["1.2"] += 1
    elif first_visit is None and window.as_of_ordinal - start < VISIT_WORKING_DAYS:
        pending.append(ref)
    else:
        not_met.append(ref)


def _attendance_indicator(
    case: Case, evictions: list[date], contacts: list[date], attendances: list[Event], acc: _Acc,
    window: _Window,
) -> None:
    """QS 1.4 for each eviction date in the window without an earlier contact."""
    met, not_met, _pending = acc.lists["1.4"]
    first_contact = contacts[0] if contacts else None
    for on in sorted(set(evictions)):
        if on < window.period_from or on > window.seen_to:
            continue
        if first_contact is not None and first_contact < on:
            continue  # there was contact before: not part of 1.4
        ref = CaseRef(case.org_unit, case.case_id, on)
        present = [a for a in attendances if a.on == on]
        if present:
            met.append(ref)
            if any(a.in_pairs for a in present):
                acc.pairs["1.4"] += 1
        else:
            not_met.append(ref)


_Latest = dict[tuple[str, str], tuple[date, bool]]  # (org unit, standard) -> (confirmed on, fulfilled)


def _latest_confirmations(confirmations: Iterable[AccessConfirmation], as_of: date) -> _Latest:
    latest: _Latest = {}
    for c in confirmations:
        if c.confirmed_on > as_of:
            continue
        key = (c.org_unit, c.standard)
        seen = latest.get(key)
        if seen is None or c.confirmed_on > seen[0]:
            latest[key] = (c.confirmed_on, c.fulfilled)
        elif c.confirmed_on == seen[0]:
            latest[key] = (seen[0], seen[1] and c.fulfilled)  # disagreement on one day: not fulfilled
    return latest


def _access_result(unit: str, latest: _Latest) -> IndicatorResult:
    met, not_met = [], []
    for standard in ACCESS_STANDARDS:
        confirmed_on, fulfilled = latest.get((unit, standard), (None, False))
        (met if fulfilled else not_met).append(StandardRef(unit, standard, confirmed_on))
    return IndicatorResult(tuple(met), tuple(not_met))
