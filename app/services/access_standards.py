"""QS 1.5: record a district's confirmations of the seven access standards; show what counts on a date.

Each confirmation is a new row (the history stays); what counts is decided by the domain's rule (the
latest confirmation on or before the date; two disagreeing ones on that day: not fulfilled).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core_models import OrgUnit
from ..domain.calendar import working_calendar
from ..domain.indicators import ACCESS_STANDARDS, compute_report
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..prevention_models import AccessStandard
from ..actor import Actor
from ..scoping import can_see_record, scope_query
from .indicators import load_confirmations


def current_states(session: Session, units: list[OrgUnit], on: date,
                   actor: Actor | None = None) -> dict[str, dict[str, tuple[bool, date | None]]]:
    """Per unit name and standard: (fulfilled, date of the confirmation that counts) as of ``on``."""
    settings = built_registry().spec.settings
    report = compute_report((), on, on, on, working_calendar(settings.holiday_subdivision, settings.closure_days),
                            load_confirmations(session, on, units, actor), org_units=[u.name for u in units])
    return {unit: {**{r.standard: (True, r.confirmed_on) for r in results["1.5"].met},
                   **{r.standard: (False, r.confirmed_on) for r in results["1.5"].not_met}}
            for unit, results in report.org_units.items()}


def history(session: Session, unit: OrgUnit, actor: Actor | None = None) -> list[AccessStandard]:
    """Every confirmation of the unit, newest first."""
    query = scope_query(select(AccessStandard).where(AccessStandard.org_unit_id == unit.id), AccessStandard,
                        actor=actor)
    return list(session.scalars(query.order_by(AccessStandard.confirmed_on.desc(), AccessStandard.id.desc())))


def record_confirmations(session: Session, unit: OrgUnit, states: dict[str, bool], confirmed_on: date,
                         confirmed_by: str, note: str | None, today: date,
                         actor: Actor | None = None) -> list[AccessStandard]:
    """One new row per stated standard; nothing is overwritten. Raises a German DomainError on bad input."""
    if not can_see_record(AccessStandard(org_unit_id=unit.id), actor):
        raise DomainError("Für diese Dienststelle dürfen Sie keine Angaben machen.")
    unknown = [code for code in states if code not in ACCESS_STANDARDS]
    if unknown:
        raise DomainError(f"Unbekannter Standard: {', '.join(unknown)}.")
    if not states:
        raise DomainError("Bitte mindestens einen Standard mit „erfüllt“ oder „nicht erfüllt“ angeben.")
    if confirmed_on > today:
        raise DomainError(f"Das Bestätigungsdatum {confirmed_on:%d.%m.%Y} liegt in der Zukunft.")
    note = (note or "").strip() or None
    if note and len(note) > 500:
        raise DomainError("Die Bemerkung darf höchstens 500 Zeichen lang sein.")
    rows = [AccessStandard(org_unit_id=unit.id, standard=code, fulfilled=fulfilled, confirmed_on=confirmed_on,
                           confirmed_by=confirmed_by, note=note)
            for code, fulfilled in states.items()]
    session.add_all(rows)
    session.flush()
    return rows
