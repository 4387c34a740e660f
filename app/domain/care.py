"""Social care (Soziale Betreuung, §§ 67 ff. SGB XII) and help plans (Hilfeplan) as plain rules.

A social worker takes on a household, agrees a help plan with goals per area and measures (who does what
by when), reviews it on the review date (Fortschreibung) and closes the Betreuung with a result.
No session, no clock: ``today`` and the values come in as arguments.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# Codes of the catalogue ``goal_result``: what a review says about each goal.
ACHIEVED, PARTLY, NOT_ACHIEVED, DROPPED = "erreicht", "teilweise", "nicht_erreicht", "entfallen"
GOAL_RESULTS = (ACHIEVED, PARTLY, NOT_ACHIEVED, DROPPED)
GOAL_RESULT_LABELS = {ACHIEVED: "erreicht", PARTLY: "teilweise erreicht", NOT_ACHIEVED: "nicht erreicht",
                      DROPPED: "entfallen"}
# A goal that is reached or no longer needed does not go on into the next version of the plan.
SETTLED = frozenset({ACHIEVED, DROPPED})
# The reminder of a review date comes a week ahead, so the appointment with the client can be made.
REMINDER_LEAD = timedelta(days=7)


def closing_problem(*, started_on: date | None, ended_on: date | None, result: object | None) -> str | None:
    """Why a Betreuung cannot be saved as it is, or None.

    1. an end date needs a result (the brochure's "Situation zu Beginn und Ergebnis");
    2. a result without an end date is fine (recorded before the last talk);
    3. the end is not before the start.
    """
    if ended_on is None:
        return None
    if result in (None, ""):
        return "Eine Betreuung wird nur mit Ergebnis abgeschlossen: bitte „Ergebnis“ angeben."
    if started_on is not None and ended_on < started_on:
        return "„Ende der Betreuung“ liegt vor ihrem Beginn."
    return None


def review_problems(goal_ids: Iterable[int], results: Mapping[int, str | None]) -> list[str]:
    """A review records a result for every goal of the plan, one of ``GOAL_RESULTS``."""
    problems = []
    for goal_id in goal_ids:
        value = results.get(goal_id)
        if not value:
            problems.append(f"Ziel {goal_id}: bitte ein Ergebnis wählen.")
        elif value not in GOAL_RESULTS:
            problems.append(f"Ziel {goal_id}: unbekanntes Ergebnis „{value}“.")
    return problems


def carried_over(goal_results: Mapping[int, str | None]) -> list[int]:
    """The goals that go on into the next version of the plan: all but the reached and dropped ones."""
    return [goal_id for goal_id, result in goal_results.items() if result not in SETTLED]


def reminder_due(review_on: date, today: date) -> date:
    """When the worklist reminds of a review: a week ahead, but never in the past."""
    return max(review_on - REMINDER_LEAD, today)


def measure_task_title(action: str, responsible: str | None) -> str:
    text = f"Hilfeplan: {action}".strip()
    if responsible:
        text += f" ({responsible})"
    return text[:200]


@dataclass(frozen=True)
class MeasureState:
    due_on: date | None
    done_on: date | None


def task_change(measure: MeasureState, care_closed: bool = False) -> str:
    """What a measure's task becomes: ``done`` once the measure is done; ``cancelled`` (entfallen) when the
    Betreuung is closed with the measure still open; else it stays ``open``."""
    if measure.done_on is not None:
        return "done"
    return "cancelled" if care_closed else "open"


def is_overdue(measure: MeasureState, today: date) -> bool:
    return measure.done_on is None and measure.due_on is not None and measure.due_on < today


def next_review(review_dates: Iterable[date | None], today: date) -> date | None:
    """The next review of the current plan: the earliest date from today on, else the latest overdue one."""
    dates = sorted(d for d in review_dates if d is not None)
    upcoming = [d for d in dates if d >= today]
    return upcoming[0] if upcoming else (dates[-1] if dates else None)
