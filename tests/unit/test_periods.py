"""Report periods: month, quarter, year, free range, their months and German labels; date input."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.periods import (Period, describe, month_period, months_of, parse_date, quarter_period,
                                range_period, year_period)


@pytest.mark.parametrize(("period", "expected", "label"), [
    (month_period(2024, 2), Period(date(2024, 2, 1), date(2024, 2, 29)), "Februar 2024"),  # leap year
    (quarter_period(2025, 4), Period(date(2025, 10, 1), date(2025, 12, 31)), "4. Quartal 2025"),
    (year_period(2025), Period(date(2025, 1, 1), date(2025, 12, 31)), "2025"),
    (range_period(date(2025, 4, 1), date(2025, 5, 31)), Period(date(2025, 4, 1), date(2025, 5, 31)),
     "01.04.2025 – 31.05.2025"),  # two months are no quarter
], ids=["leap-month", "quarter", "year", "range"])
def test_periods_and_labels(period, expected, label):
    assert period == expected and describe(period) == label


def test_months_of_a_period_across_a_year_end():
    assert months_of(Period(date(2024, 11, 15), date(2025, 2, 1))) == [(2024, 11), (2024, 12), (2025, 1), (2025, 2)]


@pytest.mark.parametrize(("text", "expected"), [
    ("15.04.2025", date(2025, 4, 15)), ("2025-04-15", date(2025, 4, 15)), (" 01.01.2025 ", date(2025, 1, 1)),
], ids=["german", "iso", "spaces"])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31.04.2025", "15/04/2025", "", "2025-4-31"])
def test_bad_dates_are_german_messages(text):
    with pytest.raises(ValueError, match="ist kein gültiges Datum"):
        parse_date(text)


def test_reversed_range_and_bad_quarter():
    with pytest.raises(ValueError, match="liegt vor seinem Beginn"):
        range_period(date(2025, 2, 1), date(2025, 1, 31))
    with pytest.raises(ValueError, match="Quartal 5 gibt es nicht"):
        quarter_period(2025, 5)
