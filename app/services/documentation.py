"""Rules a documentation entry (Doku-Eintrag) triggers, on every path that saves one: form, REST, import.

When a new entry is flushed:
1. it keeps its service's measurement point and "counts as contact" as they are now, so a later change
   of the catalogue never changes what old entries mean (and the indicators computed from them);
2. open tasks of the case that this measurement point completes are done (``closed_by``), and a
   contact cancels the tasks that were only needed without one (``cancel_on_contact``);
3. the service's follow-up rule creates a task due N working days after the entry's date.

An entry dated before the entry that triggered a task does not complete it (back-dated or imported
history is no answer to a later notice). An import of past events sets ``session.info[FOLLOW_UPS_NOT_BEFORE]``
to a date: follow-ups due before it are not created, so old events do not flood the worklist with overdue tasks.

The rules run in ``before_flush`` (before the history listener, so the tasks get their history too).
"""
from __future__ import annotations

from datetime import date, timedelta, timezone

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .. import clock
from ..core_models import CatalogueValue, ChangeLog, utcnow
from ..domain.calendar import working_calendar as calendar_for
from ..domain.entry_rules import follow_up_due, snapshot, task_outcome
from ..metamodel.build_models import built_registry
from .history import acting_actor, change_row, current_actor
from .seed import catalogue_value

# session.info key: follow-ups due before this date are not created (app/integrations/events_import.py).
FOLLOW_UPS_NOT_BEFORE = "fachstelle.follow_ups_not_before"


def working_calendar(spec):
    """The configured Land's working days, minus office closure days (settings.yaml)."""
    return calendar_for(spec.settings.holiday_subdivision, tuple(spec.settings.closure_days))


def _acting_user_id() -> int | None:
    return acting_actor().user_id


def _entry_service(session: Session, registry, entry):
    service = entry.__dict__.get("service")
    if service is None and entry.service_id is not None:
        service = session.get(registry.model("service"), entry.service_id)
    return service


def _entry_case(session: Session, registry, entry):
    case = entry.__dict__.get("case")
    if case is None and entry.case_id is not None:
        case = session.get(registry.model("case"), entry.case_id)
    return case


def apply_entry_rules(session: Session, entry, spec) -> list:
    """Snapshot, close/cancel and follow up for one new entry; returns the tasks it created."""
    registry = built_registry()
    service = _entry_service(session, registry, entry)
    case = _entry_case(session, registry, entry)
    if service is None or case is None:
        return []
    point = service.__dict__.get("measurement_point") or (
        session.get(CatalogueValue, service.measurement_point_id) if service.measurement_point_id else None)
    entry.measurement_point = point
    if entry.provider_id is None and entry.__dict__.get("provider") is None:
        # The clerk who records it, unless another is named. Set the relationship, not the key: a form
        # that sent an empty choice has set ``provider`` to None, which would overwrite the key on flush.
        user_id = _acting_user_id()
        if user_id is not None:
            from flask_appbuilder.security.sqla.models import User
            entry.provider = session.get(User, user_id)
    _point_id, entry.counts_as_contact = snapshot(service)
    task_model = registry.model("task")
    on = entry.entry_date or clock.today()
    state = {code: catalogue_value(session, "task_state", code) for code in ("open", "done", "cancelled")}
    open_tasks = list(session.scalars(select(task_model).where(task_model.case_id == case.id,
                                                               task_model.state_id == state["open"].id))) \
        if case.id is not None and state["open"] is not None else []
    # Tasks created earlier in the same flush (an import books several events of a case at once).
    open_tasks += [obj for obj in session.new if isinstance(obj, task_model) and obj not in open_tasks
                   and obj.__dict__.get("case") is case and obj.state is state["open"]]
    for task in open_tasks:
        source = task.source_entry
        outcome = task_outcome(closed_by_id=task.closed_by_id, cancel_on_contact=bool(task.cancel_on_contact),
                               source_date=source.entry_date if source is not None and source is not entry else None,
                               point_id=point.id if point is not None else None,
                               counts_as_contact=entry.counts_as_contact, on=on)
        if outcome is not None:
            task.state, task.done_on = state[outcome], on
    created = []
    due = follow_up_due(on, service.follow_up_days, service.follow_up_title, working_calendar(spec),
                        session.info.get(FOLLOW_UPS_NOT_BEFORE))
    if due is not None:
        closed_by = service.__dict__.get("follow_up_closed_by") or (
            session.get(CatalogueValue, service.follow_up_closed_by_id) if service.follow_up_closed_by_id else None)
        provider = entry.__dict__.get("provider")
        # The relationship when the entry has one (it wins on flush), else the key (REST, import).
        who = {"assignee": provider} if provider is not None else {"assignee_id": entry.provider_id}
        task = task_model(case=case, title=service.follow_up_title, due_on=due, state=state["open"],
                          closed_by=closed_by, cancel_on_contact=bool(service.follow_up_cancel_on_contact),
                          source_entry=entry, **who)
        task.org_unit_id = case.org_unit_id
        session.add(task)
        created.append(task)
    return created


# An entry is documentation: changed after this time, the change is marked as a late edit in its history.
LATE_EDIT_AFTER = timedelta(hours=24)


def _late_edits(session: Session) -> None:
    now = utcnow()
    for obj in session.dirty:
        if getattr(type(obj), "__entity__", None) != "doc_entry" or not session.is_modified(obj):
            continue
        created = obj.created_at
        if created is None:
            continue
        created = created.replace(tzinfo=timezone.utc) if created.tzinfo is None else created
        if now - created > LATE_EDIT_AFTER:
            session.add(ChangeLog(entity="doc_entry", record_id=obj.id, action="late_edit", field=None,
                                  old_value=created.isoformat(timespec="minutes"),
                                  new_value="Eintrag mehr als 24 Stunden nach dem Anlegen geändert",
                                  changed_by=current_actor(), changed_at=now))


def _before_flush(session: Session, flush_context, instances) -> None:
    registry = built_registry()
    if registry is None or "doc_entry" not in registry.entities:
        return
    _late_edits(session)
    entries = [obj for obj in session.new if getattr(type(obj), "__entity__", None) == "doc_entry"]
    if not entries:
        return
    spec = registry.spec
    with session.no_autoflush:
        for entry in sorted(entries, key=lambda e: (e.entry_date or date.min)):
            apply_entry_rules(session, entry, spec)


def _after_flush(session: Session, flush_context) -> None:
    """Entries are part of the case's history: their recording and deletion appear on the case too
    (a deleted entry's own history has no page any more)."""
    from sqlalchemy import insert

    rows = []
    now, actor = utcnow(), None
    for action, objects in (("entry_added", session.new), ("entry_deleted", session.deleted)):
        for obj in objects:
            if getattr(type(obj), "__entity__", None) != "doc_entry" or obj.case_id is None:
                continue
            actor = actor or current_actor()
            with session.no_autoflush:
                text = str(obj)
            rows.append(change_row("case", obj.case_id, action, actor, now, "doc_entry",
                                   text if action == "entry_deleted" else None,
                                   text if action == "entry_added" else None))
    if rows:
        session.connection().execute(insert(ChangeLog.__table__), rows)


def install(session_class=Session) -> None:
    """Listen on every Session of the process, once; call before ``history.install``."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
