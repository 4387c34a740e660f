"""Need/offer matching (#12) as tables: hard requirements rule a room out with a German reason, soft
criteria rank the fitting ones, several rooms are combined within one shelter."""
from __future__ import annotations

import pytest

from app.domain.matching import Candidate, Match, Member, Need, hard_problems, match

LABELS = {"rollstuhl": "rollstuhlgerecht", "barrierefrei": "barrierefrei", "haustiere": "Haustiere erlaubt",
          "nur_frauen": "nur Frauen", "familiengeeignet": "für Familien geeignet"}
MOTHER, FATHER = Member("female", 40, "bezugsperson"), Member("male", 41, "partner")
GIRL, BOY = Member("female", 8, "kind"), Member("male", 5, "kind")
FAMILY = (MOTHER, FATHER, GIRL, BOY)


def room(rid, attrs=(), free=2, shelter=1, label=None, district=None, places=None):
    return Candidate(rid, label or f"R{rid}", shelter, f"Haus {shelter}", district, frozenset(attrs),
                     places or free, tuple(range(rid * 100, rid * 100 + free)))


@pytest.mark.parametrize("need, attrs, problems, why", [
    (Need(FAMILY, 4, required=frozenset({"rollstuhl"})), {"familiengeeignet"}, ["nicht rollstuhlgerecht"],
     "a required attribute is missing"),
    (Need(FAMILY, 4, excluded=frozenset({"haustiere"})), {"haustiere", "familiengeeignet"},
     ["Haustiere erlaubt (ausgeschlossen)"], "an excluded attribute is there"),
    (Need(FAMILY, 4), {"nur_frauen", "familiengeeignet"}, ["nur Frauen"], "a man in the household"),
    (Need((MOTHER, GIRL), 2), {"nur_frauen", "familiengeeignet"}, [], "mother and daughter in a women's house"),
    (Need((Member(None, 30),), 1), {"nur_frauen"}, ["nur Frauen"], "sex unknown: not into a women-only room"),
    (Need((FATHER, BOY), 2), {"nur_maenner", "mehrbettzimmer"}, ["nicht für Familien mit Kindern"],
     "a child in a men's dormitory"),
    (Need((FATHER,), 1), {"nur_maenner", "mehrbettzimmer"}, [], "a single man in a men's dormitory"),
])
def test_hard_problems(need, attrs, problems, why):
    assert hard_problems(need, room(1, attrs), LABELS) == problems, why


def test_not_enough_places_and_ranking_by_area_and_tight_fit():
    need = Need(FAMILY, 4, required=frozenset({"rollstuhl"}), preferred_area="Mitte")
    results = match(need, [room(1, {"rollstuhl"}, free=3), room(2, {"rollstuhl"}, free=6, district="Nord"),
                           room(3, {"rollstuhl"}, free=4, district="Mitte"), room(4, {"rollstuhl"}, free=4)], LABELS)
    assert [(r.candidate.room_id, r.fits) for r in results] == [(3, True), (4, True), (2, True), (1, False)]
    assert "im bevorzugten Gebiet Mitte" in results[0].reasons
    assert "passt genau (keine Plätze bleiben leer)" in results[1].reasons
    assert results[-1].problems == ["nur 3 von 4 benötigten Plätzen frei"]
    assert len(results[0].place_ids) == 4


def test_two_rooms_in_one_shelter():
    need = Need(FAMILY, 4, rooms=2, required=frozenset({"rollstuhl"}))
    results = match(need, [room(1, {"rollstuhl"}, free=2, shelter=1), room(2, {"rollstuhl"}, free=2, shelter=1),
                           room(3, {"rollstuhl"}, free=4, shelter=2)], LABELS)
    fits = [r for r in results if r.fits]
    assert [(r.candidate.room_id, r.extra_rooms) for r in fits] == [(1, (2,))]  # one line for the pair
    assert fits[0].place_ids == (100, 200, 101, 201)  # two people in each room
    lonely = next(r for r in results if r.candidate.room_id == 3)
    assert lonely.problems == ["nur 1 von 2 Räumen frei in dieser Unterkunft"]


def test_unsuitable_can_be_hidden():
    need = Need((MOTHER,), 1, required=frozenset({"barrierefrei"}))
    assert match(need, [room(1)], LABELS, show_unsuitable=False) == []
    shown = match(need, [room(1)], LABELS)
    assert isinstance(shown[0], Match) and shown[0].problems == ["nicht barrierefrei"]


def test_no_free_place():
    need = Need((MOTHER,), 1)
    assert match(need, [room(1, free=0)], LABELS)[0].problems == ["kein Platz frei im gewünschten Zeitraum"]
