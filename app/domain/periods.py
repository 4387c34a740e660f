"""Report periods: a month, a quarter, a year or a free range of dates, and the months they span.

Dates are typed as TT.MM.JJJJ (German) or JJJJ-MM-TT (ISO, for scripts); both are accepted everywhere a
report period is asked for (report page, ``fachstelle indicators``).
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date
from typing import NamedTuple

from . import dates
MONTH_NAMES = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
               "Oktober", "November", "Dezember")
MONTH_ABBR = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")


class Period(NamedTuple):
    start: date
    end: date


def parse_date(text: str, today: date | None = None) -> date:
    """TT.MM.JJJJ or JJJJ-MM-TT (and whatever else ``dates.parse_date`` reads); German ValueError naming the text."""
    try:
        return dates.parse_date(text, today=today)
    except ValueError:
        value = (text or "").strip()
        raise ValueError(f"„{value}“ ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT).") from None


def month_period(year: int, month: int) -> Period:
    return Period(date(year, month, 1), date(year, month, monthrange(year, month)[1]))


def quarter_period(year: int, quarter: int) -> Period:
    if not 1 <= quarter <= 4:
        raise ValueError(f"Quartal {quarter} gibt es nicht (1 bis 4).")
    first = 3 * (quarter - 1) + 1
    return Period(date(year, first, 1), month_period(year, first + 2).end)


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31))


def range_period(start: date, end: date) -> Period:
    if end < start:
        raise ValueError(f"Das Ende des Zeitraums ({end:%d.%m.%Y}) liegt vor seinem Beginn ({start:%d.%m.%Y}).")
    return Period(start, end)


def months_of(period: Period) -> list[tuple[int, int]]:
    """(year, month) of every month the period touches, in order."""
    out = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def describe(period: Period) -> str:
    """German label: "März 2025", "2. Quartal 2025", "2025" or "01.03.2025 – 15.04.2025"."""
    start, end = period
    if start.day == 1 and end == month_period(end.year, end.month).end and start.year == end.year:
        if start.month == end.month:
            return f"{MONTH_NAMES[start.month - 1]} {start.year}"
        if start.month % 3 == 1 and end.month == start.month + 2:
            return f"{(start.month - 1) // 3 + 1}. Quartal {start.year}"
        if start.month == 1 and end.month == 12:
            return str(start.year)
    return f"{start:%d.%m.%Y} – {end:%d.%m.%Y}"
