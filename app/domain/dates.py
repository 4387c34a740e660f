"""Dates and times as German clerks type and read them: one parser, one printer, for every page and file.

Accepted dates (``parse_date``):

1. TT.MM.JJJJ, also with one digit for day or month: "01.03.2025", "1.3.2025";
2. TT.MM.JJ with a two-digit year, read by the pivot rule below: "1.3.25";
3. ISO JJJJ-MM-TT (scripts, the browser's date input, CSV exports): "2025-03-01", also "2025-3-1".

Two-digit years (rule 2): "JJ" is 20JJ if 20JJ is at most ten years after today's year, else 19JJ. In 2026
"30" is 2030 (a hearing date, a deadline) and "37" is 1937 (a birth date). Python's own ``%y`` pivots at
69 and makes a birth year "60" 2060.

Accepted times (``parse_time``): "10:30", "9:30", "9.30", each also with " Uhr", and "10 Uhr" for the full
hour. A bare "10" is refused: it could be a duration as well.

Every refusal is a ValueError whose German message quotes the text:
``'31.02.1980' ist kein gültiges Datum (TT.MM.JJJJ)``. Pure Python: no Flask, no session.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from ..clock import today as berlin_today

BERLIN = ZoneInfo("Europe/Berlin")
PIVOT_YEARS_AHEAD = 10

_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^([01]?\d|2[0-3])(?:[:.]([0-5]\d))?$")


class DateInputError(ValueError):
    """A date or time that could not be read; ``text`` is what was typed (stripped).

    ``impossible`` is True when the form was right but the calendar has no such day ("31.02.2025"), so an
    import can say "gibt es nicht" instead of "weder TT.MM.JJJJ noch JJJJ-MM-TT".
    """

    def __init__(self, message: str, text: str, impossible: bool = False):
        super().__init__(message)
        self.text = text
        self.impossible = impossible


def date_message(text: str) -> str:
    """The one German message for an unreadable date (pages and tests rely on its wording)."""
    return f"'{text}' ist kein gültiges Datum (TT.MM.JJJJ)"


def century_of(two_digits: int, today: date) -> int:
    """The full year of a two-digit year: 20JJ up to ten years ahead of ``today``, else 19JJ."""
    year = 2000 + two_digits
    return year if year <= today.year + PIVOT_YEARS_AHEAD else year - 100


def parse_date(text: str | None, *, today: date | None = None, two_digit_years: bool = True) -> date:
    """A date typed as TT.MM.JJJJ, TT.MM.JJ or JJJJ-MM-TT (see the module docstring).

    1. Surrounding blanks are ignored; an empty text is an error like any other.
    2. ``today`` sets the pivot of two-digit years; None means today in Berlin (``app.clock``).
    3. ``two_digit_years=False`` refuses TT.MM.JJ (import files, where "25" is more likely a typo).
    Raises DateInputError (a ValueError) with ``date_message``.
    """
    value = (text or "").strip()
    if m := _GERMAN.match(value):
        day, month, year_text = int(m.group(1)), int(m.group(2)), m.group(3)
        if len(year_text) == 2:
            if not two_digit_years:
                raise DateInputError(date_message(value), value)
            if today is None:
                today = berlin_today()
            year = century_of(int(year_text), today)
        else:
            year = int(year_text)
    elif m := _ISO.match(value):
        year, month, day = (int(g) for g in m.groups())
    else:
        raise DateInputError(date_message(value), value)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateInputError(date_message(value), value, impossible=True) from None


def try_parse_date(text: str | None, **kwargs) -> date | None:
    """``parse_date`` or None for anything unreadable (search boxes, optional filters)."""
    try:
        return parse_date(text, **kwargs)
    except ValueError:
        return None


def parse_time(text: str | None) -> time:
    """"10:30", "9.30", "10:30 Uhr" or "10 Uhr" as a time; DateInputError with a German message otherwise."""
    value = (text or "").strip()
    core = value[:-3].strip() if value.lower().endswith("uhr") else value
    m = _TIME.match(core)
    if not m or (m.group(2) is None and core == value):
        raise DateInputError(f"'{value}' ist keine gültige Uhrzeit (SS:MM, z. B. 09:30)", value)
    return time(int(m.group(1)), int(m.group(2) or 0))


def format_date(value: date | datetime | None) -> str:
    """TT.MM.JJJJ; a datetime is shown as its day in Berlin; None is empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_berlin(value).date()
    return value.strftime("%d.%m.%Y")


def format_time(value: time | None) -> str:
    """HH:MM (24 hours); None is empty."""
    return "" if value is None else value.strftime("%H:%M")


def to_berlin(value: datetime) -> datetime:
    """Times are stored in UTC (a naive value is UTC as well) and shown in Europe/Berlin."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BERLIN)


def format_datetime(value: datetime | None) -> str:
    """TT.MM.JJJJ HH:MM in Berlin time; None is empty."""
    return "" if value is None else to_berlin(value).strftime("%d.%m.%Y %H:%M")
