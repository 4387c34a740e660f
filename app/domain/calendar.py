"""Working days of one office: Monday to Friday, minus the Land's public holidays, minus closure days.

A working day is Monday to Friday and not a public holiday of the configured Land (the ``holidays``
package: Berlin ``BE``, Nordrhein-Westfalen ``NW``, ...); office closure days from config are also not
working days (default none). Deadlines count working days after a start day; the start day itself never
counts, so a notice received on a Saturday has its first working day on the Monday.

Berlin holidays worth knowing, all provided by ``holidays`` (checked in ``tests/unit/test_calendar.py``):
Internationaler Frauentag on 8 March since 2019 (Berliner Feiertagsgesetz, § 1, as amended in 2019), and the
one-off days of liberation on 8 May 2020 and 8 May 2025 (one-off amendments of the same law).

Counting is done with working-day ordinals: ``ordinal(d)`` is the number of working days up to and
including ``d`` (relative to a fixed anchor), so "working days after ``a`` up to ``b``" is a subtraction.
The table behind it is built lazily, whole years at a time, and widened when a date outside it is asked.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

# The German holiday rules in ``holidays`` start with reunification; far-future dates are typos.
MIN_YEAR = 1990
MAX_YEAR = 2199

# How many years around a requested year are loaded at once, so that a report over two years
# builds the table once.
_YEARS_AROUND = 1


class _Table:
    """Working-day ordinals for every day from ``first`` to ``last`` (inclusive), immutable once built."""

    __slots__ = ("first_year", "last_year", "base", "cum", "working_ords", "non_working")

    def __init__(self, first_year: int, last_year: int, non_working: frozenset[date], anchor: int):
        first = date(first_year, 1, 1)
        last = date(last_year, 12, 31)
        self.first_year = first_year
        self.last_year = last_year
        self.base = first.toordinal()
        cum: list[int] = []
        working_ords: list[int] = []  # proleptic ordinals of the working days, ascending
        count = 0
        day = first
        one = timedelta(days=1)
        while day <= last:
            if day.weekday() < 5 and day not in non_working:
                count += 1
                working_ords.append(day.toordinal())
            cum.append(count)
            day += one
        # Shift so that the anchor day keeps the same ordinal whichever years are loaded.
        shift = cum[anchor - self.base] if anchor >= self.base else 0
        self.cum = [c - shift for c in cum]
        self.working_ords = working_ords
        self.non_working = non_working

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year


class WorkingCalendar:
    """The working days of one office: weekdays minus public holidays of ``subdivision`` minus closure days.

    1. ``is_working_day(d)``: Monday to Friday, no public holiday of the Land, no closure day.
    2. ``add_working_days(start, n)``: the n-th working day after ``start``; ``start`` never counts.
    3. ``working_days_between(start, end)``: the working days ``d`` with ``start < d <= end``
       (negative when ``end`` lies before ``start``), so a Saturday ``end`` counts the days passed.
    """

    def __init__(self, subdivision: str, closure_days: Iterable[date] = ()):
        if subdivision not in holidays.Germany.subdivisions:
            raise ValueError(f"Unknown German subdivision {subdivision!r} for public holidays.")
        self.subdivision = subdivision
        self.closure_days = frozenset(closure_days)
        self._lock = threading.Lock()
        self._table: _Table | None = None
        self._anchor: int | None = None

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.subdivision!r}, closure_days={len(self.closure_days)})"

    # -- public API -----------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is Monday to Friday and neither a public holiday nor a closure day."""
        table = self._table_for(day)
        return day.weekday() < 5 and day not in table.non_working

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself does not count); n < 0 goes back.

        ``n == 0`` returns ``start`` unchanged, even on a weekend.
        """
        if n == 0:
            return start
        target = self.ordinal(start) + n
        if n < 0:
            # ordinal(start) counts start itself when it is a working day: step back one more.
            target += 1 if not self.is_working_day(start) else 0
        return self.day_of_ordinal(target)

    def working_days_between(self, start: date, end: date) -> int:
        """Count of working days ``d`` with ``start < d <= end``; negative if ``end < start``."""
        return self.ordinal(end) - self.ordinal(start)

    def ordinal(self, day: date) -> int:
        """Working days up to and including ``day``, counted from a fixed anchor.

        1. ``ordinal(b) - ordinal(a)`` is ``working_days_between(a, b)``.
        2. A non-working day has the ordinal of the working day before it.
        3. Values never change for the lifetime of the calendar (widening the table keeps them).
        """
        table = self._table_for(day)
        return table.cum[day.toordinal() - table.base]

    def ordinals(self, first: date, last: date) -> dict[date, int]:
        """``{day: ordinal(day)}`` for every day from ``first`` to ``last``: one lookup per date later."""
        if last < first:
            return {}
        self._table_for(first)
        table = self._table_for(last)
        cum, base = table.cum, table.base
        result: dict[date, int] = {}
        day, one = first, timedelta(days=1)
        while day <= last:
            result[day] = cum[day.toordinal() - base]
            day += one
        return result

    def day_of_ordinal(self, value: int) -> date:
        """The working day whose ordinal is ``value`` (the table widens as far as needed)."""
        while True:
            table = self._table
            assert table is not None  # ordinal() built it
            ords = table.working_ords
            i = value - table.cum[ords[0] - table.base]
            if 0 <= i < len(ords):
                return date.fromordinal(ords[i])
            if i < 0:
                self._table_for(date(table.first_year - 1, 12, 31))
            else:
                self._table_for(date(table.last_year + 1, 1, 1))

    # -- table ----------------------------------------------------------------------------------

    def _table_for(self, day: date) -> _Table:
        table = self._table
        if table is not None and table.covers(day):
            return table
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValueError(f"{day.isoformat()} lies outside the calendar's years {MIN_YEAR}–{MAX_YEAR}.")
        with self._lock:
            table = self._table
            if table is not None and table.covers(day):
                return table
            first = max(MIN_YEAR, day.year - _YEARS_AROUND)
            last = min(MAX_YEAR, day.year + _YEARS_AROUND)
            if table is not None:
                first, last = min(first, table.first_year), max(last, table.last_year)
            if self._anchor is None:
                self._anchor = date(first, 1, 1).toordinal()
            public = holidays.Germany(subdiv=self.subdivision, years=range(first, last + 1))
            non_working = frozenset(public.keys()) | self.closure_days
            table = _Table(first, last, non_working, self._anchor)
            self._table = table  # one assignment: readers see the old or the new table, never half
            return table


@lru_cache(maxsize=64)
def _cached(subdivision: str, closure_days: tuple[date, ...]) -> WorkingCalendar:
    return WorkingCalendar(subdivision, closure_days)


def working_calendar(subdivision: str, closure_days: Iterable[date] = ()) -> WorkingCalendar:
    """The shared calendar for a Land and its closure days (same arguments, same object)."""
    return _cached(subdivision, tuple(sorted(set(closure_days))))


__all__ = ["MIN_YEAR", "MAX_YEAR", "WorkingCalendar", "working_calendar"]
