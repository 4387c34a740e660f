"""The appointment an invitation letter offers: the case's next one, or a proposed free slot of the clerk."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import clock
from ..core_models import CatalogueValue
from ..domain.appointments import propose_slot
from ..metamodel.build_models import built_registry
from ..actor import Actor
from ..scoping import scope_query
from .documentation import working_calendar


def upcoming(session: Session, case, today: date | None = None, actor: Actor | None = None) -> object | None:
    appointment = built_registry().model("appointment")
    query = (select(appointment).where(appointment.case_id == case.id, appointment.starts_on >= (today or clock.today()))
             .order_by(appointment.starts_on, appointment.starts_at))
    return session.scalars(scope_query(query, appointment, actor=actor)).first()


def propose(session: Session, case, staff_id: int | None, today: date, spec):
    """Create an office appointment in the staff member's first free slot (not yet committed)."""
    registry = built_registry()
    appointment = registry.model("appointment")
    busy = set()
    if staff_id is not None:
        rows = session.execute(select(appointment.starts_on, appointment.starts_at).where(
            appointment.starts_on >= today,
            or_(appointment.staff_id == staff_id, appointment.second_staff_id == staff_id)))
        busy = {(on, at) for on, at in rows}
    day, slot = propose_slot(busy, today, working_calendar(spec))
    office = session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "appointment_place",
                                                          CatalogueValue.code == "office")).first()
    proposed = appointment(case=case, starts_on=day, starts_at=slot, place=office, staff_id=staff_id,
                           info="Mit dem Einladungsschreiben vorgeschlagen")
    proposed.org_unit_id = case.org_unit_id
    session.add(proposed)
    session.flush()
    return proposed


def upcoming_or_proposed(session: Session, case, staff_id: int | None, today: date, spec,
                         actor: Actor | None = None):
    return upcoming(session, case, today, actor) or propose(session, case, staff_id, today, spec)
