"""Working days: weekdays minus the Land's public holidays minus closure days (no DB, no app)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.calendar import WorkingCalendar, working_calendar

BERLIN = working_calendar("BE")
NRW = working_calendar("NW")
# Musterhausen's closure days (config/cities/musterhausen/settings.yaml) on NRW holidays.
MUSTERHAUSEN = working_calendar("NW", [date(2025, 12, 24), date(2025, 12, 31), date(2026, 2, 16)])
CALENDARS = {"BE": BERLIN, "NW": NRW, "NW+closure": MUSTERHAUSEN}


@pytest.mark.parametrize(("calendar", "day", "working"), [
    ("BE", date(2025, 6, 2), True),      # an ordinary Monday
    ("BE", date(2025, 3, 1), False),     # Saturday
    ("BE", date(2025, 3, 2), False),     # Sunday
    ("BE", date(2024, 3, 8), False),     # Internationaler Frauentag, Berlin only (Friday)
    ("NW", date(2024, 3, 8), True),      # ... an ordinary Friday in NRW
    ("BE", date(2019, 3, 8), False),     # first Frauentag holiday in Berlin, 2019
    ("BE", date(2018, 3, 8), True),      # before the 2019 law: a working Thursday
    ("BE", date(2025, 5, 8), False),     # one-off: 80th anniversary of liberation, Berlin 2025
    ("NW", date(2025, 5, 8), True),      # ... not in NRW
    ("BE", date(2020, 5, 8), False),     # one-off: 75th anniversary, Berlin 2020
    ("BE", date(2026, 5, 8), True),      # one-off means one-off: 2026 is a working Friday
    ("BE", date(2025, 4, 18), False),    # Good Friday
    ("BE", date(2025, 4, 21), False),    # Easter Monday
    ("BE", date(2025, 5, 29), False),    # Ascension Day
    ("BE", date(2025, 6, 9), False),     # Whit Monday
    ("BE", date(2025, 6, 19), True),     # Corpus Christi is no holiday in Berlin
    ("NW", date(2025, 6, 19), False),    # ... but in NRW
    ("NW", date(2025, 11, 1), False),    # All Saints' Day NRW (a Saturday anyway)
    ("BE", date(2025, 10, 3), False),    # German Unity Day
    ("BE", date(2025, 12, 24), True),    # Christmas Eve is no public holiday
    ("NW+closure", date(2025, 12, 24), False),  # ... but a closure day in Musterhausen
    ("NW+closure", date(2026, 2, 16), False),   # Rosenmontag closure
    ("NW", date(2026, 2, 16), True),     # ... a working day without the closure
    ("BE", date(2025, 12, 25), False),   # Christmas Day
    ("BE", date(2025, 12, 26), False),   # Second Day of Christmas
    ("BE", date(2026, 1, 1), False),     # New Year's Day
    ("BE", date(2026, 1, 2), True),      # the Friday after New Year
], ids=lambda v: v.isoformat() if isinstance(v, date) else str(v))
def test_is_working_day(calendar, day, working):
    assert CALENDARS[calendar].is_working_day(day) is working


@pytest.mark.parametrize(("calendar", "start", "n", "expected"), [
    ("BE", date(2025, 6, 2), 0, date(2025, 6, 2)),     # zero days: the start itself
    ("BE", date(2025, 3, 1), 0, date(2025, 3, 1)),     # ... even on a Saturday
    ("BE", date(2025, 6, 2), 1, date(2025, 6, 3)),     # Monday + 1 = Tuesday
    ("BE", date(2025, 6, 13), 1, date(2025, 6, 16)),   # Friday + 1 = Monday
    ("BE", date(2025, 3, 1), 1, date(2025, 3, 3)),     # received Saturday: Monday is the 1st
    ("BE", date(2025, 3, 1), 3, date(2025, 3, 5)),     # ... and Wednesday the 3rd
    ("BE", date(2025, 3, 2), 3, date(2025, 3, 5)),     # received Sunday: the same
    ("BE", date(2025, 3, 6), 3, date(2025, 3, 11)),    # 8 March 2025 is a Saturday: no effect
    ("BE", date(2024, 3, 6), 3, date(2024, 3, 12)),    # Frauentag Fri 8 March 2024 skipped
    ("NW", date(2024, 3, 6), 3, date(2024, 3, 11)),    # ... not in NRW
    ("BE", date(2025, 4, 17), 1, date(2025, 4, 22)),   # Maundy Thursday to the Tuesday after Easter
    ("BE", date(2025, 5, 6), 3, date(2025, 5, 12)),    # 8 May 2025 skipped in Berlin
    ("NW", date(2025, 5, 6), 3, date(2025, 5, 9)),     # ... not in NRW
    ("BE", date(2025, 12, 22), 3, date(2025, 12, 29)),  # 25/26 Dec, then a weekend
    ("NW+closure", date(2025, 12, 22), 3, date(2025, 12, 30)),  # and the closure on 24 Dec
    ("BE", date(2025, 12, 30), 2, date(2026, 1, 2)),   # over New Year into the next year
    ("NW+closure", date(2025, 12, 30), 2, date(2026, 1, 5)),  # closure on 31 Dec too
    ("BE", date(2025, 6, 2), 10, date(2025, 6, 17)),   # Whit Monday inside ten days
    ("BE", date(2025, 6, 10), -1, date(2025, 6, 6)),   # backwards over Whit Monday and a weekend
    ("BE", date(2025, 3, 9), -1, date(2025, 3, 7)),    # backwards from a Sunday: the Friday before
    ("BE", date(2025, 1, 2), -2, date(2024, 12, 30)),  # backwards over New Year into the last year
], ids=lambda v: v.isoformat() if isinstance(v, date) else str(v))
def test_add_working_days(calendar, start, n, expected):
    assert CALENDARS[calendar].add_working_days(start, n) == expected


@pytest.mark.parametrize(("start", "end", "expected"), [
    (date(2025, 6, 2), date(2025, 6, 2), 0),    # same day: nothing passed
    (date(2025, 6, 2), date(2025, 6, 5), 3),    # Mon to Thu: Tue, Wed, Thu
    (date(2025, 3, 1), date(2025, 3, 5), 3),    # Sat to Wed: Mon, Tue, Wed
    (date(2025, 6, 6), date(2025, 6, 7), 0),    # Fri to Sat: no working day passed
    (date(2025, 6, 6), date(2025, 6, 9), 0),    # Fri to Whit Monday: still none
    (date(2025, 6, 6), date(2025, 6, 10), 1),   # Fri to Tue after Whitsun: one
    (date(2025, 5, 7), date(2025, 5, 9), 1),    # 8 May 2025 does not count in Berlin
    (date(2025, 12, 23), date(2026, 1, 2), 5),  # 24, 29, 30, 31 Dec and 2 Jan
    (date(2025, 6, 5), date(2025, 6, 2), -3),   # end before start: negative
], ids=["same-day", "mon-thu", "saturday-start", "fri-sat", "fri-whit-monday", "fri-tue",
        "8-may-2025", "christmas-new-year", "backwards"])
def test_working_days_between_berlin(start, end, expected):
    assert BERLIN.working_days_between(start, end) == expected


def _naive_add(calendar: WorkingCalendar, start: date, n: int) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


@pytest.mark.parametrize("calendar", sorted(CALENDARS))
def test_ordinals_agree_with_day_by_day_counting(calendar):
    cal = CALENDARS[calendar]
    start = date(2024, 12, 1)
    for offset in range(0, 120, 7):
        day = start + timedelta(days=offset)
        for n in (1, 3, 10):
            assert cal.add_working_days(day, n) == _naive_add(cal, day, n)
            assert cal.working_days_between(day, _naive_add(cal, day, n)) == n


def test_ordinals_keep_their_values_when_the_table_widens():
    cal = WorkingCalendar("BE")
    before = cal.ordinal(date(2025, 6, 2))
    cal.ordinal(date(2031, 1, 1))  # widens the table into later years ...
    cal.ordinal(date(2015, 1, 1))  # ... and earlier ones
    assert cal.ordinal(date(2025, 6, 2)) == before
    assert cal.working_days_between(date(2015, 1, 1), date(2031, 1, 1)) > 0
    assert cal.ordinals(date(2025, 6, 6), date(2025, 6, 10)) == {
        date(2025, 6, 6): before + 4, date(2025, 6, 7): before + 4, date(2025, 6, 8): before + 4,
        date(2025, 6, 9): before + 4, date(2025, 6, 10): before + 5}


def test_factory_shares_one_calendar_per_land_and_closure_days():
    assert working_calendar("BE") is BERLIN
    assert working_calendar("NW", [date(2026, 2, 16), date(2025, 12, 31), date(2025, 12, 24)]) is MUSTERHAUSEN
    assert working_calendar("NW") is not MUSTERHAUSEN


def test_closure_day_on_a_weekend_changes_nothing():
    cal = WorkingCalendar("BE", [date(2025, 6, 7)])  # a Saturday
    assert cal.add_working_days(date(2025, 6, 5), 3) == BERLIN.add_working_days(date(2025, 6, 5), 3)


@pytest.mark.parametrize(("subdivision", "day"), [
    ("XX", date(2025, 1, 1)),   # no such Land
    ("BE", date(1989, 12, 31)),  # before the German holiday rules of the package
    ("BE", date(2200, 1, 1)),   # a typo in the year, not a real deadline
], ids=["unknown-land", "too-early", "too-late"])
def test_bad_input_is_refused(subdivision, day):
    with pytest.raises(ValueError):
        WorkingCalendar(subdivision).is_working_day(day)
