"""Soziale Betreuung and Hilfeplan (#15): the rules on every save path, new versions, reviews, the print.

On every path that saves (form, REST, these functions) a flush listener keeps the worklist in step:
1. a new plan gets the next version number of its Betreuung;
2. a plan's review date (Fortschreibung) makes a reminder task a week ahead (moved when the date moves);
3. a measure with a due date is a task of the social worker on the worklist; done measure, done task;
4. closing the Betreuung (an end date) marks the open tasks of its measures and reviews "entfallen".
A Betreuung with an end date but no result is refused (``on_saving``), on the form and in REST.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from .. import clock
from ..actor import Actor
from ..core_models import CatalogueValue
from ..domain import care as rules
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from . import save_hooks
from .seed import catalogue_value


def _model(name: str):
    registry = built_registry()
    return registry.model(name) if registry is not None and name in registry.entities else None


def _code(value) -> str | None:
    return getattr(value, "code", None)


@save_hooks.on_saving("care")
def check_closing(item) -> None:
    result = item.__dict__.get("result")
    if result is None and getattr(item, "result_id", None) is not None:
        result = item.result_id
    problem = rules.closing_problem(started_on=item.started_on, ended_on=item.ended_on, result=result)
    if problem:
        raise DomainError(problem)


# --- the chain measure -> goal -> plan -> care -> case ---------------------------------------------------

def _get(session: Session, obj, relation: str, entity: str):
    value = obj.__dict__.get(relation)
    if value is None:
        key = getattr(obj, f"{relation}_id", None)
        if key is not None:
            value = session.get(_model(entity), key)
    return value


def care_of_plan(session: Session, plan):
    return _get(session, plan, "care", "care")


def case_of_care(session: Session, care):
    return _get(session, care, "case", "case")


def plan_of_goal(session: Session, goal):
    return _get(session, goal, "plan", "help_plan")


def _worker_id(care) -> int | None:
    worker = care.__dict__.get("social_worker")
    return worker.id if worker is not None else care.social_worker_id


def _new_task(session: Session, case, *, title: str, due: date, assignee_id: int | None):
    task_model = _model("task")
    task = task_model(case=case, title=title[:200], due_on=due, state=catalogue_value(session, "task_state", "open"),
                      assignee_id=assignee_id)
    task.org_unit_id = case.org_unit_id
    session.add(task)
    return task


def _set_task_state(session: Session, task, state: str, on: date | None) -> None:
    value = catalogue_value(session, "task_state", state)
    if task.state_id != value.id:
        task.state = value
        task.done_on = on if state != "open" else None


def _plan_rules(session: Session, plan, today: date) -> None:
    care = care_of_plan(session, plan)
    if care is None:
        return
    if plan.plan_version is None:
        model = type(plan)
        newest = session.scalar(select(func.max(model.plan_version)).where(model.care_id == care.id)) if care.id else None
        pending = [p.plan_version or 0 for p in session.new if isinstance(p, model) and p is not plan
                   and care_of_plan(session, p) is care]
        plan.plan_version = max([newest or 0, *pending]) + 1
    task = _get(session, plan, "review_task", "task")
    superseded = _state_code(session, plan) in ("superseded", "closed")
    if plan.review_on is None or superseded:
        if task is not None and task.state_id == catalogue_value(session, "task_state", "open").id:
            _set_task_state(session, task, "cancelled", today)
        return
    due = rules.reminder_due(plan.review_on, today)
    title = f"Fortschreibung Hilfeplan (Version {plan.plan_version}) am {plan.review_on:%d.%m.%Y}"
    if task is None:
        case = case_of_care(session, care)
        if case is None:
            return
        plan.review_task = _new_task(session, case, title=title, due=due, assignee_id=_worker_id(care))
    elif task.due_on != due or task.title != title:
        task.due_on, task.title = due, title
        _set_task_state(session, task, "open", None)


def _state_code(session: Session, plan) -> str | None:
    state = plan.__dict__.get("state")
    if state is None and plan.state_id is not None:
        state = session.get(CatalogueValue, plan.state_id)
    return _code(state)


def _party_label(session: Session, measure) -> str | None:
    party = measure.__dict__.get("responsible")
    if party is None and measure.responsible_id is not None:
        party = session.get(CatalogueValue, measure.responsible_id)
    institution = _get(session, measure, "partner_institution", "partner")
    if institution is not None:
        return str(institution.surname)
    return party.label if party is not None else None


def _measure_rules(session: Session, measure, today: date) -> None:
    task = _get(session, measure, "task", "task")
    title = rules.measure_task_title(measure.action or "", _party_label(session, measure))
    if task is None:
        if measure.due_on is None or measure.done_on is not None:
            return
        goal = _get(session, measure, "goal", "help_goal")
        plan = plan_of_goal(session, goal) if goal is not None else None
        care = care_of_plan(session, plan) if plan is not None else None
        case = case_of_care(session, care) if care is not None else None
        if case is None:
            return
        measure.task = _new_task(session, case, title=title, due=measure.due_on, assignee_id=_worker_id(care))
        return
    if measure.due_on is not None and task.due_on != measure.due_on:
        task.due_on = measure.due_on
    if task.title != title:
        task.title = title
    goal = _get(session, measure, "goal", "help_goal")
    plan = plan_of_goal(session, goal) if goal is not None else None
    care = care_of_plan(session, plan) if plan is not None else None
    closed = care is not None and care.ended_on is not None
    state = rules.task_change(rules.MeasureState(measure.due_on, measure.done_on), care_closed=closed)
    _set_task_state(session, task, state, measure.done_on or (care.ended_on if closed else None))


def _care_rules(session: Session, care, today: date) -> None:
    """A closed Betreuung leaves nothing open on the worklist: its measures' tasks and its plans' review
    reminders that are still open become "entfallen" (on the end date)."""
    if care.ended_on is None or care.id is None:
        return
    open_id = catalogue_value(session, "task_state", "open").id
    plans = session.scalars(select(_model("help_plan")).where(_model("help_plan").care_id == care.id)).all()
    goal_ids = [g.id for p in plans for g in goals_of(session, p)]
    tasks = [_get(session, p, "review_task", "task") for p in plans]
    tasks += [_get(session, m, "task", "task") for m in measures_of(session, goal_ids) if m.done_on is None]
    for task in tasks:
        if task is not None and task.state_id == open_id:
            _set_task_state(session, task, "cancelled", care.ended_on)


def _before_flush(session: Session, flush_context, instances) -> None:
    registry = built_registry()
    if registry is None or "help_plan" not in registry.entities:
        return
    touched = [obj for obj in (*session.new, *session.dirty)
               if getattr(type(obj), "__entity__", None) in ("help_plan", "help_measure", "care")]
    if not touched:
        return
    today = clock.today()
    with session.no_autoflush:
        for obj in touched:
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if type(obj).__entity__ == "care":
                _care_rules(session, obj, today)
            elif type(obj).__entity__ == "help_plan":
                _plan_rules(session, obj, today)
            else:
                _measure_rules(session, obj, today)


def install(session_class=Session) -> None:
    """Listen on every Session of the process, once (``create_app``, before ``history.install``)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


# --- use cases: review, new version, overview, print ------------------------------------------------------

def visible(session: Session, entity: str, record_id: int, actor: Actor):
    model = _model(entity)
    record = session.scalars(scope_query(select(model).where(model.id == record_id), model, actor=actor)).first()
    if record is None:
        raise DomainError("Datensatz nicht gefunden (oder Sie haben keinen Zugriff darauf).")
    return record


def goals_of(session: Session, plan) -> list:
    model = _model("help_goal")
    return list(session.scalars(select(model).where(model.plan_id == plan.id).order_by(model.id)))


def measures_of(session: Session, goal_ids: list[int]) -> list:
    model = _model("help_measure")
    if not goal_ids:
        return []
    return list(session.scalars(select(model).where(model.goal_id.in_(goal_ids)).order_by(model.due_on, model.id)))


def record_review(session: Session, plan, *, reviewed_on: date, results: dict[int, str], summary: str | None,
                  next_review_on: date | None, actor: Actor):
    """One review (Fortschreibung) of ``plan``: a result per goal (``erreicht`` …), the next review date.
    Refused with German messages naming the goals when a result is missing or unknown."""
    goals = goals_of(session, plan)
    problems = rules.review_problems([g.id for g in goals], results)
    if problems:
        text = " ".join(problems)
        for g in goals:  # the goal's words, not its number
            text = text.replace(f"Ziel {g.id}:", f"Ziel „{g.goal}“:")
        raise DomainError(text)
    review_model, result_model = _model("help_review"), _model("help_goal_result")
    review = review_model(plan=plan, reviewed_on=reviewed_on, summary=summary or None, next_review_on=next_review_on)
    review.org_unit_id = plan.org_unit_id
    session.add(review)
    for goal in goals:
        value = catalogue_value(session, "goal_result", results[goal.id])
        row = result_model(review=review, goal=goal, result=value)
        row.org_unit_id = plan.org_unit_id
        session.add(row)
        goal.result = value
    plan.review_on = next_review_on
    task = _get(session, plan, "review_task", "task")
    if task is not None:
        _set_task_state(session, task, "done", reviewed_on)
        plan.review_task = None  # the next date gets a reminder of its own
    session.flush()
    return review


def new_version(session: Session, plan, *, valid_from: date, actor: Actor):
    """The next version of a plan (Fortschreibung): goals not reached or dropped go on with their open
    measures (and their tasks); the old version is marked superseded."""
    care = care_of_plan(session, plan)
    if care.ended_on is not None:
        raise DomainError("Die Betreuung ist abgeschlossen; ihr Hilfeplan wird nicht mehr fortgeschrieben.")
    plan_model, goal_model, measure_model = _model("help_plan"), _model("help_goal"), _model("help_measure")
    new = plan_model(care=care, valid_from=valid_from, review_on=None, info=plan.info,
                     state=catalogue_value(session, "help_plan_state", "draft"))
    new.org_unit_id = plan.org_unit_id
    session.add(new)
    goals = goals_of(session, plan)
    keep = set(rules.carried_over({g.id: _code(g.result) for g in goals}))
    measures = measures_of(session, sorted(keep))
    for goal in goals:
        if goal.id not in keep:
            continue
        copy = goal_model(plan=new, area=goal.area, goal=goal.goal)
        copy.org_unit_id = plan.org_unit_id
        session.add(copy)
        for m in measures:
            if m.goal_id == goal.id and m.done_on is None:
                moved = measure_model(goal=copy, action=m.action, responsible=m.responsible,
                                      partner_institution=m.partner_institution, due_on=m.due_on, task=m.task)
                moved.org_unit_id = plan.org_unit_id
                m.task = None  # the open task goes with the measure into the new version
                session.add(moved)
    plan.state = catalogue_value(session, "help_plan_state", "superseded")
    session.flush()
    return new


@dataclass
class Overview:
    """What the case page shows of the social care: the Betreuung, its current plan, open measures, review."""

    care: object | None = None
    plan: object | None = None
    goals: list = field(default_factory=list)
    measures: list = field(default_factory=list)
    open_measures: list = field(default_factory=list)
    next_review: date | None = None
    cares: list = field(default_factory=list)


def current_plan(session: Session, care):
    model = _model("help_plan")
    return session.scalars(select(model).where(model.care_id == care.id)
                           .order_by(model.plan_version.desc(), model.id.desc())).first()


def case_overview(session: Session, case, actor: Actor) -> Overview:
    care_model = _model("care")
    cares = list(session.scalars(scope_query(select(care_model).where(care_model.case_id == case.id)
                                             .order_by(care_model.started_on.desc(), care_model.id.desc()),
                                             care_model, actor=actor)))
    view = Overview(cares=cares)
    if not cares:
        return view
    view.care = next((c for c in cares if c.ended_on is None), cares[0])
    view.plan = current_plan(session, view.care)
    if view.plan is None:
        return view
    view.goals = goals_of(session, view.plan)
    view.measures = measures_of(session, [g.id for g in view.goals])
    view.open_measures = [m for m in view.measures if m.done_on is None]
    view.next_review = rules.next_review([view.plan.review_on], actor.today)
    return view


def plan_print_data(session: Session, plan) -> dict:
    """The ``plan`` group of the letter context: goals by area, measures with who and by when."""
    care = care_of_plan(session, plan)
    goals = goals_of(session, plan)
    measures = measures_of(session, [g.id for g in goals])
    goal_lines = [f"{g.area.label}: {g.goal}" for g in goals]
    measure_lines = []
    for m in measures:
        who = m.partner_institution.surname if m.partner_institution is not None else (
            m.responsible.label if m.responsible is not None else "")
        due = f" – bis {m.due_on:%d.%m.%Y}" if m.due_on else ""
        done = f" (erledigt {m.done_on:%d.%m.%Y})" if m.done_on else ""
        measure_lines.append(f"{m.action} – {who}{due}{done}")
    worker = care.social_worker
    return {"version": plan.plan_version, "valid_from": plan.valid_from, "review_on": plan.review_on,
            "social_worker": " ".join(p for p in (getattr(worker, "first_name", ""), getattr(worker, "last_name", ""))
                                      if p) if worker else "",
            "goal_lines": goal_lines, "measure_lines": measure_lines, "agreements": plan.info or ""}


def print_plan(session: Session, plan, *, user, actor: Actor):
    """The plan as a .docx letter to the client for signature (template ``hilfeplan``), archived with a
    documentation entry; the signed scan is later attached to that entry (``plan.signed_entry``)."""
    from ..letters.archive import generate_letter
    from ..letters.entries import entry_for_letter
    from ..letters.sources import case_letter_context
    care = care_of_plan(session, plan)
    case = case_of_care(session, care)
    today = actor.today
    context = case_letter_context(session, case, user=user, today=today, actor=actor,
                                  plan=plan_print_data(session, plan))
    entry = entry_for_letter(session, case, "hilfeplan", user, today)
    if entry is not None:
        entry.info = f"Hilfeplan Version {plan.plan_version} zur Unterschrift"
        plan.signed_entry = entry
    letter = generate_letter(session, "hilfeplan", context, case=case, doc_entry_id=entry.id if entry else None,
                             user=user)
    return letter
