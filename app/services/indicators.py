"""QS 1.1–1.5 from the database: documentation entries at measurement points -> domain cases -> report.

The events are the ``doc_entry`` rows with a measurement point (the snapshot taken when the entry was
made): case, the case's org unit, point code, entry date, "in pairs". One query reads them:

1. entries dated from the start of the period up to the report date (as-of rule: nothing later is seen);
2. plus, per case with an eviction in the period, its earliest contact before the period (QS 1.4 asks
   for "no contact before the eviction", however long ago).

Nothing else before the period can change a figure: letters, visits and later contacts are only read
on or after the notice they answer, and notices before the period are not counted. So the report equals
one computed from the whole history (``complete=True`` loads it, for the test that proves it).

Every read goes through ``scope_query``: a web user sees the figures and cases of their own org units;
the CLI (no request) sees all.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Boolean, Integer, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased

from ..core_models import CatalogueValue, OrgUnit
from ..domain.calendar import working_calendar
from ..domain.indicators import (ACCESS_STANDARDS, INDICATORS, KONTAKT, MEASUREMENT_POINTS, ZR_TERMIN,
                                 AccessConfirmation, Case, CaseRef, Event, Report, compute_report, percent)
from ..domain.periods import months_of, Period
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..prevention_models import AccessStandard
from ..scoping import scope_query, visible_org_unit_ids


@dataclass(frozen=True)
class UnitReport:
    """A report and the org units it covers (by name, as the report keys them)."""

    report: Report
    units: dict[str, OrgUnit]


def report_units(session: Session, only: Iterable[int] | None = None) -> list[OrgUnit]:
    """The org units the current user may see (CLI: all), optionally only ``only``, in configured order."""
    query = select(OrgUnit).order_by(OrgUnit.id)
    ids = visible_org_unit_ids()
    if ids is not None:
        query = query.where(OrgUnit.id.in_(ids or [-1]))
    if only is not None:
        query = query.where(OrgUnit.id.in_(list(only) or [-1]))
    return list(session.scalars(query))


def find_units(session: Session, names: Iterable[str]) -> list[OrgUnit]:
    """Org units by code or name (case-insensitive); an unknown one is a German DomainError naming it."""
    units = report_units(session)
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


def event_query(session: Session, period_from: date, period_to: date, as_of: date, unit_ids: list[int],
                *, complete: bool = False):
    """The one SELECT of (case id, org unit id, point id, date, in pairs) rows behind a report.

    The cases of the units are also given as ``case_id IN (…)``: the database then walks the entries
    case by case along the (case, entry_date) index instead of the whole date range, which is about three
    times faster for a city and far faster for one district.
    """
    registry = built_registry()
    entry, case = registry.model("doc_entry"), registry.model("case")
    codes = _point_ids(session)
    ids = {code: id_ for id_, code in codes.items()}

    def scope(query, alias, model):
        return scope_query(query, alias, shared=model.__org_scope__ == "shared")

    def scoped(query, entry_alias=entry, case_alias=case, by_case=True):
        query = (query.join(case_alias, case_alias.id == entry_alias.case_id)
                 .where(case_alias.org_unit_id.in_(unit_ids or [-1])))
        if by_case:
            inner = aliased(case)
            query = query.where(entry_alias.case_id.in_(
                scope(select(inner.id).where(inner.org_unit_id.in_(unit_ids or [-1])), inner, case)))
        return scope(scope(query, case_alias, case), entry_alias, entry)

    main = scoped(select(entry.case_id, case.org_unit_id, entry.measurement_point_id, entry.entry_date,
                         entry.in_pairs)
                  .where(entry.measurement_point_id.in_(list(codes) or [-1]), entry.entry_date <= as_of))
    if complete:
        return main
    main = main.where(entry.entry_date >= period_from)
    if KONTAKT not in ids or ZR_TERMIN not in ids:
        return main
    evicted_entry, evicted_case = aliased(entry), aliased(case)
    evicted = scoped(select(evicted_entry.case_id).where(evicted_entry.measurement_point_id == ids[ZR_TERMIN],
                                                         evicted_entry.entry_date >= period_from,
                                                         evicted_entry.entry_date <= min(period_to, as_of)),
                     evicted_entry, evicted_case, by_case=False)  # few rows: by measurement point
    earliest = scoped(select(entry.case_id, case.org_unit_id, literal(ids[KONTAKT], Integer),
                             func.min(entry.entry_date), cast(null(), Boolean))
                      .where(entry.measurement_point_id == ids[KONTAKT], entry.entry_date < period_from,
                             entry.case_id.in_(evicted))
                      .group_by(entry.case_id, case.org_unit_id), by_case=False)
    return union_all(main, earliest)


def load_cases(session: Session, period_from: date, period_to: date, as_of: date, units: list[OrgUnit],
               *, complete: bool = False) -> list[Case]:
    """The domain cases (events grouped per case) for a report over ``units``.

    A two-year report of a city reads some 170,000 rows: they are taken straight from the driver's
    cursor (no row objects, no per-row type conversion), and equal events share one immutable Event.
    """
    codes = _point_ids(session)
    names = {u.id: u.name for u in units}
    query = event_query(session, period_from, period_to, as_of, list(names), complete=complete)
    result = session.connection().execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    events: dict[tuple, Event] = {}  # (point id, date as the driver gives it, in pairs) -> Event
    grouped: dict[int, tuple[int, list[Event]]] = {}
    for case_id, unit_id, point_id, on, pairs in rows:
        key = (point_id, on, pairs)
        event = events.get(key)
        if event is None:
            day = on if isinstance(on, date) else date.fromisoformat(on)  # SQLite gives ISO text
            event = events[key] = Event(codes[point_id], day, None if pairs is None else bool(pairs))
        item = grouped.get(case_id)
        if item is None:
            item = grouped[case_id] = (unit_id, [])
        item[1].append(event)
    return [Case(names[unit_id], case_id, events) for case_id, (unit_id, events) in grouped.items()]


def load_confirmations(session: Session, as_of: date, units: list[OrgUnit]) -> list[AccessConfirmation]:
    """QS 1.5 statements of ``units`` dated on or before ``as_of`` (the domain picks the latest)."""
    names = {u.id: u.name for u in units}
    query = scope_query(select(AccessStandard.org_unit_id, AccessStandard.standard, AccessStandard.fulfilled,
                               AccessStandard.confirmed_on)
                        .where(AccessStandard.org_unit_id.in_(list(names) or [-1]),
                               AccessStandard.confirmed_on <= as_of,
                               AccessStandard.standard.in_(list(ACCESS_STANDARDS))), AccessStandard)
    return [AccessConfirmation(names[unit_id], standard, bool(fulfilled), on)
            for unit_id, standard, fulfilled, on in session.execute(query)]


def indicator_report(session: Session, period_from: date, period_to: date, as_of: date,
                     units: list[OrgUnit] | None = None, *, complete: bool = False) -> UnitReport:
    """QS 1.1–1.5 per org unit (the visible ones, or ``units``) and in total, as of ``as_of``."""
    if period_to < period_from:
        raise DomainError(f"Das Ende des Zeitraums ({period_to:%d.%m.%Y}) liegt vor seinem Beginn "
                          f"({period_from:%d.%m.%Y}).")
    if as_of < period_from:
        raise DomainError(f"Der Stichtag ({as_of:%d.%m.%Y}) liegt vor dem Beginn des Zeitraums "
                          f"({period_from:%d.%m.%Y}).")
    if units is None:
        units = report_units(session)
    settings = built_registry().spec.settings
    calendar = working_calendar(settings.holiday_subdivision, settings.closure_days)
    cases = load_cases(session, period_from, period_to, as_of, units, complete=complete)
    confirmations = load_confirmations(session, as_of, units)
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


def case_rows(session: Session, refs: list[CaseRef]) -> dict[int, object]:
    """The case records behind drill-down refs that the user may see (scoped again), by id."""
    model = built_registry().model("case")
    ids = sorted({ref.case_id for ref in refs})
    if not ids:
        return {}
    query = scope_query(select(model).where(model.id.in_(ids)), model)
    return {record.id: record for record in session.scalars(query)}
