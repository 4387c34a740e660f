from datetime import date

import pytest

from app.domain.worklist import bucket, group_by_bucket

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("due", "expected"), [
    (date(2026, 11, 30), "overdue"),  # yesterday
    (date(2025, 1, 1), "overdue"),    # long ago
    (date(2026, 12, 1), "today"),
    (date(2026, 12, 2), "soon"),      # tomorrow
    (date(2026, 12, 8), "soon"),      # the 7th day ahead is still "next days"
    (date(2026, 12, 9), "later"),
], ids=["yesterday", "long-ago", "today", "tomorrow", "seventh-day", "eighth-day"])
def test_bucket(due, expected):
    assert bucket(due, TODAY) == expected


def test_group_keeps_order_and_all_sections():
    items = [date(2026, 12, 3), date(2026, 11, 1), date(2026, 12, 1), date(2026, 11, 20)]
    grouped = group_by_bucket(items, lambda d: d, TODAY)
    assert grouped == {"overdue": [date(2026, 11, 1), date(2026, 11, 20)], "today": [date(2026, 12, 1)],
                       "soon": [date(2026, 12, 3)], "later": []}
