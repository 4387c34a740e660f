"""The clerk's worklist: which bucket a due date falls into, as of a given day.

1. ``overdue``: due before today (shown red), ``today``, ``soon``: within the next ``soon_days`` days,
   ``later``: after that.
2. Pure: the caller passes ``today`` (services take it from the clock, tests from the table).
"""
from __future__ import annotations

from datetime import date, timedelta

BUCKETS = ("overdue", "today", "soon", "later")
BUCKET_LABELS = {"overdue": "Überfällig", "today": "Heute fällig", "soon": "In den nächsten Tagen",
                 "later": "Später"}


def bucket(due_on: date, today: date, soon_days: int = 7) -> str:
    """The worklist section of a task due on ``due_on``."""
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "today"
    if due_on <= today + timedelta(days=soon_days):
        return "soon"
    return "later"


def group_by_bucket(items, due_of, today: date, soon_days: int = 7) -> dict[str, list]:
    """Items in the order given, sorted into the four sections (every section present, maybe empty)."""
    out: dict[str, list] = {name: [] for name in BUCKETS}
    for item in items:
        out[bucket(due_of(item), today, soon_days)].append(item)
    return out
