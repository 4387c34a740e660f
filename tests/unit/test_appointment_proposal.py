from datetime import date

import pytest

from app.domain.appointments import propose_slot
from app.domain.calendar import WorkingCalendar

BERLIN = WorkingCalendar("BE")


@pytest.mark.parametrize(("today", "busy", "expected"), [
    (date(2026, 11, 30), set(), (date(2026, 12, 7), "09:00")),  # Mon + 5 working days = next Mon
    (date(2026, 11, 30), {(date(2026, 12, 7), "09:00")}, (date(2026, 12, 7), "10:00")),  # first slot taken
    (date(2026, 11, 30), {(date(2026, 12, 7), s) for s in ("09:00", "10:00", "11:00", "13:00", "14:00")},
     (date(2026, 12, 8), "09:00")),  # the whole day taken: next working day
    (date(2026, 12, 21), set(), (date(2026, 12, 29), "09:00")),  # 22, 23, 24 (no holiday), 28, 29: 25/26 Dec skipped
    (date(2027, 3, 1), set(), (date(2027, 3, 9), "09:00")),  # Berlin's 8 March is a holiday
], ids=["plain", "slot-taken", "day-full", "christmas", "womens-day-berlin"])
def test_propose_slot(today, busy, expected):
    assert propose_slot(busy, today, BERLIN) == expected


def test_no_slot_at_all():
    with pytest.raises(ValueError):
        propose_slot(set(), date(2026, 11, 30), BERLIN, slots=(), search_days=3)
