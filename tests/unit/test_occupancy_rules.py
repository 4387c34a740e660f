"""The occupancy rules of #12 as tables: the night rule, overlaps, nights in a period, utilisation, codes."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain import occupancy as r

D = date


@pytest.mark.parametrize("move_in, move_out, day, expected, why", [
    (D(2025, 6, 1), None, D(2025, 6, 1), True, "the move-in day is the first night"),
    (D(2025, 6, 1), None, D(2025, 5, 31), False, "the night before the move-in"),
    (D(2025, 6, 1), D(2025, 6, 10), D(2025, 6, 9), True, "the night before the move-out is the last one"),
    (D(2025, 6, 1), D(2025, 6, 10), D(2025, 6, 10), False, "the move-out day is no night in the shelter"),
    (D(2025, 6, 1), D(2025, 6, 1), D(2025, 6, 1), False, "in and out the same day: no night"),
    (D(2024, 2, 28), None, D(2024, 2, 29), True, "leap day"),
    (D(2025, 6, 1), None, D(2099, 1, 1), True, "open-ended: every later night"),
])
def test_accommodated_on(move_in, move_out, day, expected, why):
    assert r.accommodated_on(move_in, move_out, day) is expected, why


@pytest.mark.parametrize("a, b, expected, why", [
    ((D(2025, 6, 1), D(2025, 6, 10)), (D(2025, 6, 10), None), False, "back-to-back: out and in the same day"),
    ((D(2025, 6, 1), D(2025, 6, 10)), (D(2025, 6, 9), D(2025, 6, 11)), True, "one common night (9th)"),
    ((D(2025, 6, 1), None), (D(2030, 1, 1), D(2030, 1, 2)), True, "open-ended blocks the future"),
    ((D(2025, 6, 1), None), (D(2025, 1, 1), D(2025, 6, 1)), False, "ends the day the open one begins"),
    ((D(2025, 6, 1), None), (D(2025, 1, 1), None), True, "two open-ended"),
    ((D(2025, 6, 5), D(2025, 6, 6)), (D(2025, 6, 1), D(2025, 6, 30)), True, "inside"),
])
def test_overlaps(a, b, expected, why):
    assert r.overlaps(*a, *b) is expected, why
    assert r.overlaps(*b, *a) is expected, "symmetric"


@pytest.mark.parametrize("move_in, move_out, p_from, p_to, nights, why", [
    (D(2025, 6, 1), None, D(2025, 6, 1), D(2025, 6, 30), 30, "all of June"),
    (D(2025, 5, 20), D(2025, 6, 1), D(2025, 6, 1), D(2025, 6, 30), 0, "moved out on 1 June: no June night"),
    (D(2025, 6, 10), D(2025, 6, 12), D(2025, 6, 1), D(2025, 6, 30), 2, "10th and 11th"),
    (D(2025, 6, 30), None, D(2025, 6, 1), D(2025, 6, 30), 1, "the night of the 30th belongs to June"),
    (D(2024, 2, 1), None, D(2024, 2, 1), D(2024, 2, 29), 29, "leap February"),
    (D(2025, 1, 1), None, D(2025, 1, 1), D(2025, 12, 31), 365, "a year"),
    (D(2025, 7, 1), None, D(2025, 6, 1), D(2025, 6, 30), 0, "after the period"),
])
def test_nights_in(move_in, move_out, p_from, p_to, nights, why):
    assert r.nights_in(move_in, move_out, p_from, p_to) == nights, why
    # the same as counting the days with the one rule
    days = [D.fromordinal(o) for o in range(p_from.toordinal(), p_to.toordinal() + 1)]
    assert sum(r.accommodated_on(move_in, move_out, d) for d in days) == nights


@pytest.mark.parametrize("occupied, capacity, percent", [
    (0, 0, Decimal("0.0")), (30, 30, Decimal("100.0")), (1, 3, Decimal("33.3")), (2, 3, Decimal("66.7")),
    (1, 8, Decimal("12.5")),  # half-up
])
def test_utilisation_percent(occupied, capacity, percent):
    assert r.utilisation_percent(occupied, capacity) == percent


def test_conflicts_name_place_or_person():
    new = r.Stay(None, place_id=1, person_id=7, move_in=D(2025, 6, 1), move_out=None)
    same_place = r.Stay(3, 1, 8, D(2025, 5, 1), D(2025, 6, 2))
    same_person = r.Stay(4, 2, 7, D(2025, 6, 20), None)
    before = r.Stay(5, 1, 9, D(2025, 5, 1), D(2025, 6, 1))
    assert r.conflicts(new, [same_place, same_person, before]) == [("place", same_place), ("person", same_person)]


@pytest.mark.parametrize("state, expires, day, today, holds", [
    ("aktiv", D(2025, 6, 3), D(2025, 6, 3), D(2025, 6, 1), True),
    ("aktiv", D(2025, 6, 3), D(2025, 6, 3), D(2025, 6, 4), False),   # expired
    ("storniert", D(2025, 6, 3), D(2025, 6, 3), D(2025, 6, 1), False),
    ("aktiv", D(2025, 6, 3), D(2025, 6, 2), D(2025, 6, 1), False),   # before the reserved night
])
def test_reservation_holds(state, expires, day, today, holds):
    assert r.reservation_holds(D(2025, 6, 3), None, expires, state, day, today) is holds


@pytest.mark.parametrize("state, expires, today, expected", [
    ("aktiv", D(2025, 6, 3), D(2025, 6, 3), "aktiv"),        # expires at the end of its last day
    ("aktiv", D(2025, 6, 3), D(2025, 6, 4), "abgelaufen"),   # the day after: expired
    ("aktiv", D(2025, 6, 3), D(2024, 1, 1), "aktiv"),
    ("eingeloest", D(2025, 6, 3), D(2025, 7, 1), "eingeloest"),  # redeemed stays redeemed
    ("storniert", D(2025, 6, 3), D(2025, 7, 1), "storniert"),
    ("abgelaufen", D(2025, 6, 3), D(2025, 7, 1), "abgelaufen"),
])
def test_reservation_state(state, expires, today, expected):
    assert r.reservation_state(state, expires, today) == expected
    # the state and "holds" never disagree
    if expected == "abgelaufen":
        assert not r.reservation_holds(D(2025, 6, 1), None, expires, state, today, today)


@pytest.mark.parametrize("value, ok", [("05158016", True), ("11000000", True), ("5158016", False),
                                       ("17000000", False), ("00123456", False), ("0515801a", False), ("", True)])
def test_ags(value, ok):
    assert (r.ags_problem(value) is None) is ok


@pytest.mark.parametrize("value, ok", [("DE", True), ("SY", True), ("staatenlos", True), ("ungeklärt", True),
                                       ("de", False), ("DEU", False), ("Deutsch", False), (None, True)])
def test_nationality(value, ok):
    assert (r.nationality_problem(value) is None) is ok
