"""The one clock: today and now in Europe/Berlin.

Servers run in UTC; a clerk's "today" is Berlin's. In the first hour or two after midnight Berlin is already
on the next day while ``date.today()`` in a UTC container is still on the previous one (entry defaults,
overdue buckets, the due count). Every module asks this one for the date; tests freeze it with ``frozen``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current moment as an aware datetime in Europe/Berlin."""
    if _source is not None:
        return _source().astimezone(BERLIN)
    return datetime.now(BERLIN)


def today() -> date:
    """Today's date in Berlin."""
    return now().date()


def utcnow() -> datetime:
    """The current moment as an aware datetime in UTC, for the ``DateTime(timezone=True)`` columns."""
    return now().astimezone(timezone.utc)


def now_naive() -> datetime:
    """Berlin wall-clock time without tzinfo, for the naive DateTime columns of the database."""
    return now().replace(tzinfo=None)


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (None: the system's). A naive datetime is read as Berlin time."""
    global _source
    if source is None:
        _source = None
        return

    def aware() -> datetime:
        value = source()
        return value if value.tzinfo else value.replace(tzinfo=BERLIN)
    _source = aware


@contextmanager
def frozen(moment: datetime | date) -> Iterator[None]:
    """Tests: the clock stands still at ``moment`` (a date means noon in Berlin) inside the block."""
    global _source
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, 12, 0)
    previous = _source
    set_source(lambda: moment)
    try:
        yield
    finally:
        _source = previous
