"""The clerk's worklist: open tasks (mine and my team's unassigned ones), appointments, the due count.

Every query goes through ``scope_query``: a clerk never sees another unit's tasks, not even as a count.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..actor import Actor
from ..core_models import CatalogueValue
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..scoping import can_see_record, scope_query

LIMIT = 500  # a worklist longer than this is a team problem, not a page to scroll


def _state_id(session: Session, code: str) -> int | None:
    return session.scalar(select(CatalogueValue.id).where(CatalogueValue.catalogue == "task_state",
                                                         CatalogueValue.code == code))


def _state_id_subquery(code: str):
    # The header's count runs on every page: the state's id inside the count, one statement instead of two.
    return (select(CatalogueValue.id).where(CatalogueValue.catalogue == "task_state", CatalogueValue.code == code)
            .scalar_subquery())


def _mine(task_model, user_id: int):
    # "Mine": assigned to me, or to nobody in particular (the team of the case's unit).
    return or_(task_model.assignee_id == user_id, task_model.assignee_id.is_(None))


def open_tasks(session: Session, user_id: int, *, team: bool = False, limit: int = LIMIT,
               actor: Actor | None = None) -> list:
    """Open tasks, earliest due first: the user's own and unassigned ones, or (team) all of their units."""
    registry = built_registry()
    task, case = registry.model("task"), registry.model("case")
    query = select(task).where(task.state_id == _state_id(session, "open"))
    if not team:
        query = query.where(_mine(task, user_id))
    query = (scope_query(query, task, actor=actor).order_by(task.due_on, task.id).limit(limit)
             .options(selectinload(task.case).selectinload(case.client), selectinload(task.assignee)))
    return list(session.scalars(query))


def due_count(session: Session, user_id: int, today: date, actor: Actor | None = None) -> int:
    """How many of the user's open tasks are due today or overdue (the number in the header)."""
    task = built_registry().model("task")
    query = (select(func.count()).select_from(task)
             .where(task.state_id == _state_id_subquery("open"), task.due_on <= today, _mine(task, user_id)))
    return session.scalar(scope_query(query, task, actor=actor)) or 0


def upcoming_appointments(session: Session, user_id: int, today: date, days: int = 7,
                          actor: Actor | None = None) -> list:
    registry = built_registry()
    appointment, case = registry.model("appointment"), registry.model("case")
    query = (select(appointment)
             .where(appointment.starts_on >= today, appointment.starts_on <= today + timedelta(days=days),
                    or_(appointment.staff_id == user_id, appointment.second_staff_id == user_id))
             .order_by(appointment.starts_on, appointment.starts_at, appointment.id).limit(LIMIT)
             .options(selectinload(appointment.case).selectinload(case.client)))
    return list(session.scalars(scope_query(query, appointment, actor=actor)))


def complete_task(session: Session, task_id: int, today: date, actor: Actor | None = None):
    """Mark an open task done by hand (the worklist's "erledigt"); raises DomainError if it cannot be."""
    task_model = built_registry().model("task")
    task = session.get(task_model, task_id)
    if task is None or not can_see_record(task, actor):
        raise DomainError("Aufgabe nicht gefunden.")
    if task.state_id != _state_id(session, "open"):
        raise DomainError(f"Die Aufgabe „{task.title}“ ist nicht mehr offen.")
    task.state_id = _state_id(session, "done")
    task.done_on = today
    return task
