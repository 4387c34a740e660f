"""Proposing an appointment for an invitation letter (QS 1.1: the letter offers a fixed appointment).

1. The first day is ``lead_days`` working days after today, so the letter arrives first.
2. The first free slot of the staff member wins: slots in order, day by day, working days only.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date

DEFAULT_SLOTS = ("09:00", "10:00", "11:00", "13:00", "14:00")
LEAD_WORKING_DAYS = 5


def propose_slot(busy: Collection[tuple[date, str]], today: date, calendar, *, lead_days: int = LEAD_WORKING_DAYS,
                 slots: tuple[str, ...] = DEFAULT_SLOTS, search_days: int = 40) -> tuple[date, str]:
    """The first (day, "HH:MM") not in ``busy``; raises ValueError if none within ``search_days`` working days."""
    day = calendar.add_working_days(today, lead_days)
    for _ in range(search_days):
        for slot in slots:
            if (day, slot) not in busy:
                return day, slot
        day = calendar.add_working_days(day, 1)
    raise ValueError("kein freier Termin gefunden")
