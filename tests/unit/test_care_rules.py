"""Soziale Betreuung and Hilfeplan rules (#15) as tables."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.care import (MeasureState, carried_over, closing_problem, is_overdue, measure_task_title,
                             next_review, reminder_due, review_problems, task_change)


@pytest.mark.parametrize(("started", "ended", "result", "ok"), [
    (date(2026, 1, 5), None, None, True),                       # still running: no result needed
    (date(2026, 1, 5), date(2026, 6, 30), None, False),         # closing needs a result
    (date(2026, 1, 5), date(2026, 6, 30), "", False),           # an empty choice is no result
    (date(2026, 1, 5), date(2026, 6, 30), "ziele_erreicht", True),
    (date(2026, 1, 5), None, "teilweise", True),                # result noted before the last talk
    (date(2026, 1, 5), date(2025, 12, 1), "abbruch", False),    # end before start
], ids=["running", "no-result", "empty-result", "closed", "result-early", "end-before-start"])
def test_closing(started, ended, result, ok):
    assert (closing_problem(started_on=started, ended_on=ended, result=result) is None) == ok


def test_closing_message_names_the_field():
    assert "„Ergebnis“" in closing_problem(started_on=None, ended_on=date(2026, 1, 1), result=None)


@pytest.mark.parametrize(("results", "count"), [
    ({1: "erreicht", 2: "teilweise"}, 0),
    ({1: "erreicht"}, 1),                      # goal 2 has no result
    ({1: "erreicht", 2: "vielleicht"}, 1),     # not one of the four
    ({}, 2),
], ids=["complete", "missing", "unknown", "none"])
def test_review_needs_a_result_per_goal(results, count):
    assert len(review_problems([1, 2], results)) == count


def test_settled_goals_do_not_go_into_the_next_version():
    assert carried_over({1: "erreicht", 2: "teilweise", 3: "nicht_erreicht", 4: "entfallen", 5: None}) == [2, 3, 5]


@pytest.mark.parametrize(("review", "today", "expected"), [
    (date(2026, 3, 20), date(2026, 1, 1), date(2026, 3, 13)),   # a week ahead
    (date(2026, 3, 20), date(2026, 3, 18), date(2026, 3, 18)),  # less than a week left: today
    (date(2026, 3, 20), date(2026, 4, 1), date(2026, 4, 1)),    # already past: due now
])
def test_reminder_due(review, today, expected):
    assert reminder_due(review, today) == expected


@pytest.mark.parametrize(("due", "done", "today", "state", "overdue"), [
    (date(2026, 2, 1), None, date(2026, 1, 1), "open", False),
    (date(2026, 2, 1), None, date(2026, 2, 2), "open", True),
    (date(2026, 2, 1), date(2026, 2, 3), date(2026, 2, 5), "done", False),
])
def test_measure_task(due, done, today, state, overdue):
    m = MeasureState(due, done)
    assert (task_change(m), is_overdue(m, today)) == (state, overdue)


def test_next_review_and_title():
    today = date(2026, 5, 1)
    assert next_review([date(2026, 4, 1), date(2026, 6, 1), None], today) == date(2026, 6, 1)
    assert next_review([date(2026, 4, 1)], today) == date(2026, 4, 1)  # overdue: still shown
    assert next_review([None], today) is None
    assert measure_task_title("Schuldnerberatung anrufen", "Klient/in") == "Hilfeplan: Schuldnerberatung anrufen (Klient/in)"


@pytest.mark.parametrize(("done", "closed", "state"), [
    (None, False, "open"),
    (None, True, "cancelled"),               # the Betreuung closed: the open measure's task is entfallen
    (date(2026, 2, 3), True, "done"),        # a done measure stays done
])
def test_measure_task_when_the_care_closes(done, closed, state):
    assert task_change(MeasureState(date(2026, 2, 1), done), care_closed=closed) == state
