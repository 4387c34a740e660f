"""app/domain/dates.py: every date and time format clerks type, one message when it is none of them."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from app.clock import frozen
from app.domain.dates import (century_of, format_date, format_datetime, format_time, parse_date, parse_time,
                              try_parse_date)

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(("text", "expected"), [
    ("13.05.1969", date(1969, 5, 13)),    # TT.MM.JJJJ
    ("1.3.2025", date(2025, 3, 1)),       # one-digit day and month
    (" 01.01.2025 ", date(2025, 1, 1)),   # blanks around
    ("2025-04-15", date(2025, 4, 15)),    # ISO (scripts, exports)
    ("2025-4-5", date(2025, 4, 5)),       # ISO with one digit, as strptime accepted
    ("29.02.2024", date(2024, 2, 29)),    # leap day
    ("03.11.25", date(2025, 11, 3)),      # two digits: this century
    ("01.01.36", date(2036, 1, 1)),       # two digits: ten years ahead is still this century
    ("01.01.37", date(1937, 1, 1)),       # two digits: eleven years ahead is the last century
    ("13.05.69", date(1969, 5, 13)),      # a birth year; Python's %y would give 2069
], ids=["german", "short", "blanks", "iso", "iso-short", "leap", "yy-now", "yy-plus-10", "yy-plus-11", "yy-birth"])
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", [
    "31.02.1980",   # no such day
    "29.02.2025",   # not a leap year
    "15/04/2025",   # slashes
    "",             # nothing
    "2025-4-31",    # ISO, no such day
    "1.1.025",      # three-digit year
    "heute",        # a word
    "15.04.2025x",  # trailing garbage
], ids=["feb-31", "feb-29", "slashes", "empty", "iso-bad", "three-digit-year", "word", "trailing"])
def test_bad_dates_have_the_one_german_message(text):
    with pytest.raises(ValueError) as caught:
        parse_date(text, today=TODAY)
    assert str(caught.value) == f"'{text.strip()}' ist kein gültiges Datum (TT.MM.JJJJ)"
    assert try_parse_date(text, today=TODAY) is None


def test_exact_message_for_an_impossible_day():
    with pytest.raises(ValueError, match=r"^'31\.02\.1980' ist kein gültiges Datum \(TT\.MM\.JJJJ\)$"):
        parse_date("31.02.1980")


@pytest.mark.parametrize(("text", "impossible"), [
    ("31.02.2025", True),    # the right form, no such day: an import says "gibt es nicht"
    ("2025-13-01", True),    # ISO form, no 13th month
    ("31/02/2025", False),   # not a form we read at all
], ids=["no-such-day", "no-such-month", "wrong-form"])
def test_errors_tell_an_impossible_day_from_a_wrong_form(text, impossible):
    with pytest.raises(ValueError) as caught:
        parse_date(text, two_digit_years=False)
    assert caught.value.impossible is impossible and caught.value.text == text


def test_two_digit_years_can_be_refused():
    with pytest.raises(ValueError, match="kein gültiges Datum"):
        parse_date("03.11.25", two_digit_years=False)


def test_pivot_follows_the_berlin_clock_without_today():
    with frozen(date(2030, 6, 1)):
        assert parse_date("01.01.40") == date(2040, 1, 1)
        assert parse_date("01.01.41") == date(1941, 1, 1)
    assert century_of(36, TODAY) == 2036 and century_of(37, TODAY) == 1937


@pytest.mark.parametrize(("text", "expected"), [
    ("10:30", time(10, 30)), ("9:05", time(9, 5)), ("9.30", time(9, 30)), ("10:30 Uhr", time(10, 30)),
    ("10 Uhr", time(10, 0)), ("23:59", time(23, 59)), ("00:00", time(0, 0)), ("8.15uhr", time(8, 15)),
], ids=["colon", "one-digit-hour", "dot", "uhr", "full-hour-uhr", "last-minute", "midnight", "uhr-glued"])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", [
    "10",      # a bare number could be a duration
    "24:00",   # no such hour
    "10:60",   # no such minute
    "10:5",    # minutes have two digits
    "",        # nothing
    "halb elf",
], ids=["bare", "hour-24", "minute-60", "one-digit-minute", "empty", "words"])
def test_bad_times(text):
    with pytest.raises(ValueError, match="ist keine gültige Uhrzeit"):
        parse_time(text)


def test_formatting():
    assert format_date(date(2025, 3, 1)) == "01.03.2025"
    assert format_date(None) == ""
    # 23:30 UTC on 31 Dec is already New Year in Berlin.
    assert format_date(datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)) == "01.01.2026"
    assert format_datetime(datetime(2025, 7, 1, 8, 0)) == "01.07.2025 10:00"  # naive = UTC, summer time
    assert format_time(time(9, 5)) == "09:05"
