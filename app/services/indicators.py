"""QS 1.1–1.5 from the database: documentation entries at measurement points -> domain cases -> report.

The events are the ``doc_entry`` rows with a measurement point (the snapshot taken when the entry was
made): case, the case's org unit, point code, entry date, "in pairs". Two queries read them:

1. the entries dated from the start of the period up to the report date (as-of rule: nothing later is
   seen), joined with their case;
2. per case with an eviction in the period, its earliest contact before the period (QS 1.4 asks for
   "no contact before the eviction", however long ago).

Nothing else before the period can change a figure: letters, visits and later contacts are only read
on or after the notice they answer, and notices before the period are not counted. So the report equals
one computed from the whole history (``complete=True`` loads it, for the test that proves it).

Every read goes through ``scope_query`` with the caller's ``actor``: a web user sees the figures and cases
of their own org units; the CLI passes ``Actor.system()`` and sees all.
"""
from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, null, select
from sqlalchemy.orm import Session, aliased

from ..core_models import CatalogueValue, OrgUnit
from ..domain.calendar import working_calendar
from ..domain.indicators import (ACCESS_STANDARDS, INDICATORS, KONTAKT, MEASUREMENT_POINTS, ZR_TERMIN,
                                 AccessConfirmation, Case, CaseRef, Event, Report, compute_report, percent)
from ..domain.periods import months_of, Period
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..actor import Actor
from ..prevention_models import AccessStandard
from ..scoping import scope_query, visible_org_unit_ids


@dataclass(frozen=True)
class UnitReport:
    """A report and the org units it covers (by name, as the report keys them)."""

    report: Report
    units: dict[str, OrgUnit]


def report_units(session: Session, only: Iterable[int] | None = None, *, actor: Actor | None = None) -> list[OrgUnit]:
    """The org units the actor may see (CLI: all), optionally only ``only``, in configured order."""
    query = select(OrgUnit).order_by(OrgUnit.id)
    ids = visible_org_unit_ids(actor)
    if ids is not None:
        query = query.where(OrgUnit.id.in_(ids or [-1]))
    if only is not None:
        query = query.where(OrgUnit.id.in_(list(only) or [-1]))
    return list(session.scalars(query))


def find_units(session: Session, names: Iterable[str], *, actor: Actor | None = None) -> list[OrgUnit]:
    """Org units by code or name (case-insensitive); an unknown one is a German DomainError naming it."""
    units = report_units(session, actor=actor)
    found = []
    for name in names:
        wanted = name.strip().casefold()
        unit = next((u for u in units if wanted in (u.code.casefold(), u.name.casefold())), None)
        if unit is None:
            raise DomainError(f"Dienststelle '{name}' gibt es nicht. Vorhanden: {', '.join(u.code for u in units)}")
        if unit not in found:
            found.append(unit)
    return found


def _point_ids(session: Session) -> dict[int, str]:
    rows = session.execute(select(CatalogueValue.id, CatalogueValue.code).where(
        CatalogueValue.catalogue == "measurement_point", CatalogueValue.code.in_(sorted(MEASUREMENT_POINTS))))
    return dict(rows.all())


def _scoped(query, entry, case, unit_ids: list[int], *, by_case: bool, actor: Actor | None = None):
    """Join the case, keep the units' cases, and apply ``scope_query`` to case and entry.

    ``by_case`` also names the units' cases as ``case_id IN (…)``: the database then walks the entries
    case by case along the (case, entry_date) index instead of a whole date range, about three times
    faster for a city and far faster for one district.
    """
    registry = built_registry()
    entry_model, case_model = registry.model("doc_entry"), registry.model("case")
    query = query.join(case, case.id == entry.case_id).where(case.org_unit_id.in_(unit_ids or [-1]))
    if by_case:
        inner = aliased(case_model)
        cases = select(inner.id).where(inner.org_unit_id.in_(unit_ids or [-1]))
        query = query.where(entry.case_id.in_(scope_query(cases, inner, shared=case_model.__org_scope__ == "shared",
                                                          actor=actor)))
    query = scope_query(query, case, shared=case_model.__org_scope__ == "shared", actor=actor)
    return scope_query(query, entry, shared=entry_model.__org_scope__ == "shared", actor=actor)


def event_query(session: Session, period_from: date, as_of: date, unit_ids: list[int], *, complete: bool = False,
                actor: Actor | None = None):
    """(case id, org unit id, point id, date, in pairs) of the entries at measurement points in the window."""
    registry = built_registry()
    entry, case = registry.model("doc_entry"), registry.model("case")
    query = select(entry.case_id, case.org_unit_id, entry.measurement_point_id, entry.entry_date, entry.in_pairs)
    query = query.where(entry.measurement_point_id.in_(list(_point_ids(session)) or [-1]), entry.entry_date <= as_of)
    if not complete:
        query = query.where(entry.entry_date >= period_from)
    return _scoped(query, entry, case, unit_ids, by_case=True, actor=actor)


def earliest_contact_query(session: Session, before: date, case_ids: list[int], unit_ids: list[int],
                           actor: Actor | None = None):
    """Per case of ``case_ids``: its first contact dated before ``before`` (same columns as the events)."""
    registry = built_registry()
    entry, case = registry.model("doc_entry"), registry.model("case")
    kontakt = next((i for i, code in _point_ids(session).items() if code == KONTAKT), -1)
    query = (select(entry.case_id, case.org_unit_id, entry.measurement_point_id, func.min(entry.entry_date),
                    null())
             .where(entry.measurement_point_id == kontakt, entry.entry_date < before, entry.case_id.in_(case_ids))
             .group_by(entry.case_id, case.org_unit_id, entry.measurement_point_id))
    return _scoped(query, entry, case, unit_ids, by_case=False, actor=actor)


# --- erased cases (retention, #15): their events frozen in ``retention_aggregate`` --------------------------
FROZEN_EVENT = "indicator_event"


def frozen_case_key(run_id: int, case_id: int) -> int:
    """An erased case's key in the report: negative, so it never meets a live case's id."""
    return -(run_id * 1_000_000_000 + case_id)


def freeze_events(session: Session, registry, entry_ids) -> list[dict]:
    """The measurement-point events of doc entries about to be erased, as ``retention_aggregate`` rows (no
    personal data: unit, day, point code, in pairs, the case's id): the report counts them afterwards."""
    from .retention import _chunks
    entry, case = registry.model("doc_entry"), registry.model("case")
    codes = _point_ids(session)
    rows = []
    for chunk in _chunks(entry_ids):
        for case_id, unit_id, point_id, on, pairs in session.execute(
                select(entry.case_id, case.org_unit_id, entry.measurement_point_id, entry.entry_date, entry.in_pairs)
                .join(case, case.id == entry.case_id)
                .where(entry.id.in_(chunk), entry.measurement_point_id.in_(list(codes) or [-1]))):
            rows.append(dict(entity=FROZEN_EVENT, org_unit_id=unit_id, day=on, year=on.year, result=codes[point_id],
                             record_id=case_id, extra=None if pairs is None else int(bool(pairs)), count=1))
    return rows


def _frozen_query(unit_ids: list[int], actor: Actor | None):
    from ..privacy_models import RetentionAggregate as A
    query = select(A.run_id, A.record_id, A.org_unit_id, A.result, A.day, A.extra).where(
        A.entity == FROZEN_EVENT, A.org_unit_id.in_(unit_ids or [-1]))
    if actor is not None and not actor.sees_all:
        query = query.where(A.org_unit_id.in_(actor.units or [-1]))
    return A, query


def _frozen_events(session: Session, codes: dict[int, str], period_from: date, as_of: date, unit_ids: list[int],
                   *, complete: bool, actor: Actor | None) -> list[tuple]:
    """The frozen events in the report's window, as ``event_query`` gives the live ones."""
    ids = {code: i for i, code in codes.items()}
    A, query = _frozen_query(unit_ids, actor)
    query = query.where(A.day <= as_of)
    if not complete:
        query = query.where(A.day >= period_from)
    return [(frozen_case_key(run, case), unit, ids[code], day, None if pairs is None else bool(pairs))
            for run, case, unit, code, day, pairs in session.execute(query) if code in ids]


def _frozen_earliest_contacts(session: Session, codes: dict[int, str], before: date, keys: set[int],
                              unit_ids: list[int], actor: Actor | None) -> list[tuple]:
    ids = {code: i for i, code in codes.items()}
    if KONTAKT not in ids:
        return []
    A, query = _frozen_query(unit_ids, actor)
    first: dict[int, tuple] = {}
    for run, case, unit, _code, day, _pairs in session.execute(query.where(A.result == KONTAKT, A.day < before)):
        key = frozen_case_key(run, case)
        if key in keys and (key not in first or day < first[key][3]):
            first[key] = (key, unit, ids[KONTAKT], day, None)
    return list(first.values())


_IDS_PER_QUERY = 5000  # bound parameters per statement stay well below SQLite's limit


def fetch_rows(session: Session, query) -> list[tuple]:
    """The rows as the driver gives them (dates may be ISO text on SQLite).

    A two-year report of a city reads some 170,000 rows: no row object and no type conversion per row.
    """
    result = session.connection().execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def load_cases(session: Session, period_from: date, period_to: date, as_of: date, units: list[OrgUnit],
               *, complete: bool = False, actor: Actor | None = None) -> list[Case]:
    """The domain cases (events grouped per case) for a report over ``units``.

    1. The events dated from ``period_from`` to ``as_of`` (``complete``: from the beginning).
    2. For the cases with an eviction counted in the report, their earliest contact before the period.
    Equal events share one immutable Event.
    """
    codes = _point_ids(session)
    names = {u.id: u.name for u in units}
    unit_ids = list(names)
    events: dict[tuple, Event] = {}  # (point id, date as the driver gives it, in pairs) -> Event
    grouped: dict[int, list[Event]] = {}
    unit_of: dict[int, int] = {}
    evicted: set[int] = set()
    seen_to = min(period_to, as_of)

    def add(rows: list[tuple]) -> None:
        event_of, group_of = events.get, grouped.get
        for case_id, unit_id, point_id, on, pairs in rows:
            event = event_of((point_id, on, pairs))
            if event is None:
                day = on if isinstance(on, date) else date.fromisoformat(on)  # SQLite gives ISO text
                event = Event(codes[point_id], day, None if pairs is None else bool(pairs))
                events[(point_id, on, pairs)] = event
            if event.point == ZR_TERMIN and period_from <= event.on <= seen_to:
                evicted.add(case_id)
            group = group_of(case_id)
            if group is None:
                grouped[case_id] = [event]
                unit_of[case_id] = unit_id
            else:
                group.append(event)

    add(fetch_rows(session, event_query(session, period_from, as_of, unit_ids, complete=complete, actor=actor)))
    add(_frozen_events(session, codes, period_from, as_of, unit_ids, complete=complete, actor=actor))
    if not complete and evicted:
        frozen = sorted(i for i in evicted if i < 0)
        if frozen:
            add(_frozen_earliest_contacts(session, codes, period_from, set(frozen), unit_ids, actor))
        ids = sorted(i for i in evicted if i > 0)
        for i in range(0, len(ids), _IDS_PER_QUERY):
            add(fetch_rows(session, earliest_contact_query(session, period_from, ids[i:i + _IDS_PER_QUERY], unit_ids,
                                                           actor)))
    return [Case(names[unit_of[case_id]], case_id, tuple(group)) for case_id, group in grouped.items()]


def load_confirmations(session: Session, as_of: date, units: list[OrgUnit],
                       actor: Actor | None = None) -> list[AccessConfirmation]:
    """QS 1.5 statements of ``units`` dated on or before ``as_of`` (the domain picks the latest)."""
    names = {u.id: u.name for u in units}
    query = scope_query(select(AccessStandard.org_unit_id, AccessStandard.standard, AccessStandard.fulfilled,
                               AccessStandard.confirmed_on)
                        .where(AccessStandard.org_unit_id.in_(list(names) or [-1]),
                               AccessStandard.confirmed_on <= as_of,
                               AccessStandard.standard.in_(list(ACCESS_STANDARDS))), AccessStandard, actor=actor)
    return [AccessConfirmation(names[unit_id], standard, bool(fulfilled), on)
            for unit_id, standard, fulfilled, on in session.execute(query)]


@contextmanager
def paused_cyclic_gc() -> Iterator[None]:
    """Build a report's some 500,000 small objects without the cycle collector running over them.

    They hold no reference cycles (tuples and frozen dataclasses), so reference counting frees them
    all; each collector pass during the build would only walk the growing heap again (measured: about a
    third of a two-year city report). Process-wide but short, and restored as it was.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def indicator_report(session: Session, period_from: date, period_to: date, as_of: date,
                     units: list[OrgUnit] | None = None, *, complete: bool = False,
                     actor: Actor | None = None) -> UnitReport:
    """QS 1.1–1.5 per org unit (the visible ones, or ``units``) and in total, as of ``as_of``."""
    if period_to < period_from:
        raise DomainError(f"Das Ende des Zeitraums ({period_to:%d.%m.%Y}) liegt vor seinem Beginn "
                          f"({period_from:%d.%m.%Y}).")
    if as_of < period_from:
        raise DomainError(f"Der Stichtag ({as_of:%d.%m.%Y}) liegt vor dem Beginn des Zeitraums "
                          f"({period_from:%d.%m.%Y}).")
    if units is None:
        units = report_units(session, actor=actor)
    settings = built_registry().spec.settings
    calendar = working_calendar(settings.holiday_subdivision, settings.closure_days)
    with paused_cyclic_gc():
        cases = load_cases(session, period_from, period_to, as_of, units, complete=complete, actor=actor)
        confirmations = load_confirmations(session, as_of, units, actor)
        report = compute_report(cases, period_from, period_to, as_of, calendar, confirmations,
                                org_units=[u.name for u in units])
    return UnitReport(report, {u.name: u for u in units})


@dataclass(frozen=True)
class MonthFigures:
    """QS 1.1–1.4 of one month of the period (notices received / evictions dated in that month)."""

    year: int
    month: int
    figures: dict[str, tuple[int, int]]  # code -> (numerator, denominator)

    def percent(self, code: str):
        return percent(*self.figures[code])


def monthly(report: Report, period: Period, unit: str | None = None) -> list[MonthFigures]:
    """The report's QS 1.1–1.4 split by the month of each notice or eviction (``unit`` None: total).

    A notice's result does not depend on the period it is reported in, only on the report date, so the
    split adds up to the report's figures.
    """
    results = report.total if unit is None else report.org_units[unit]
    months = months_of(period)
    counts = {(y, m): {code: [0, 0] for code in INDICATORS[:4]} for y, m in months}
    for code in INDICATORS[:4]:
        for refs, met in ((results[code].met, True), (results[code].not_met, False)):
            for ref in refs:
                cell = counts[(ref.on.year, ref.on.month)][code]
                cell[1] += 1
                cell[0] += met
    return [MonthFigures(y, m, {code: (n, d) for code, (n, d) in counts[(y, m)].items()}) for y, m in months]


def drill_down(report: Report, unit: str | None, code: str, kind: str) -> list:
    """The refs behind one number: ``kind`` met, not_met, pending or all (met + not met)."""
    results = report.total if unit is None else report.org_units[unit]
    result = results[code]
    if kind == "all":
        return [*result.met, *result.not_met]
    return list(getattr(result, kind))


def case_rows(session: Session, refs: list[CaseRef], actor: Actor | None = None) -> dict[int, object]:
    """The case records behind drill-down refs that the user may see (scoped again), by id."""
    model = built_registry().model("case")
    ids = sorted({ref.case_id for ref in refs})
    if not ids:
        return {}
    query = scope_query(select(model).where(model.id.in_(ids)), model, actor=actor)
    return {record.id: record for record in session.scalars(query)}
