"""What a new documentation entry does to the case's tasks, as plain values (no session).

Both paths that save entries call these: the flush listener of ``app/services/documentation.py`` (form,
REST, letters) and the bulk import of ``app/integrations/events_import.py``, so the rules live once.
"""
from __future__ import annotations

from datetime import date

DONE, CANCELLED = "done", "cancelled"


def snapshot(service) -> tuple[int | None, bool]:
    """What a new entry keeps of its service as it is now (measurement point id, counts as contact), so a
    later change of the catalogue never changes what old entries mean."""
    return service.measurement_point_id, bool(service.counts_as_contact)


def task_outcome(*, closed_by_id: int | None, cancel_on_contact: bool, source_date: date | None,
                 point_id: int | None, counts_as_contact: bool, on: date) -> str | None:
    """The new state of an open task when an entry at ``point_id`` dated ``on`` is recorded, or None.

    1. a task triggered by a later entry (``source_date > on``) stays open: back-dated or imported history
       is no answer to a later notice;
    2. the measurement point that the task waits for completes it (``done``);
    3. else a contact cancels a task that was only needed without one (``cancelled``).
    """
    if source_date is not None and source_date > on:
        return None
    if point_id is not None and closed_by_id == point_id:
        return DONE
    if counts_as_contact and cancel_on_contact:
        return CANCELLED
    return None


def follow_up_due(on: date, days: int | None, title: str | None, calendar, not_before: date | None) -> date | None:
    """The due date of the service's follow-up task for an entry dated ``on``, or None when there is none.

    1. a service without days or title has no follow-up;
    2. due ``days`` working days after the entry's date (the Land's holidays and closure days);
    3. none when it would be due before ``not_before`` (an import of past events, app/services/documentation.py).
    """
    if days is None or not title:
        return None
    due = calendar.add_working_days(on, days)
    if not_before is not None and due < not_before:
        return None
    return due
