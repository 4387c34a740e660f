"""Matching (#12) with the hard requirements in the database: for a varied city (attribute sets, women/men
only, multi-bed, occupied and reserved places, another unit's shelter) and varied households, the default
search (suitable rooms only) returns exactly the suitable results of the full computation over every room,
and ``show_unsuitable`` returns the full computation itself. SQLite and PostgreSQL."""
from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import select

from app.actor import Actor
from app.domain import matching
from app.domain.matching import Member, Need

SYSTEM = Actor.system("test")
CODES = ["barrierefrei", "rollstuhl", "einzelzimmer", "mehrbettzimmer", "familiengeeignet", "nur_frauen",
         "nur_maenner", "haustiere", "raucher", "kueche", "qualitaetsgeprueft"]
ADULT_F, ADULT_M, GIRL, BOY = Member("female", 35), Member("male", 38), Member("female", 7), Member("male", 4)
NEEDS = [
    Need((ADULT_F,), 1),
    Need((ADULT_M,), 1, required=frozenset({"rollstuhl"})),
    Need((ADULT_F, GIRL), 2, excluded=frozenset({"raucher"}), preferred_area="Mitte"),
    Need((ADULT_F, ADULT_M, GIRL, BOY), 4, 2, frozenset({"rollstuhl"}), frozenset({"haustiere"}), "Mitte"),
    Need((ADULT_F, ADULT_M, GIRL, BOY), 4, 1),
    Need((ADULT_M, ADULT_M, ADULT_M), 3, 2, excluded=frozenset({"mehrbettzimmer", "raucher"})),
    Need((Member(None, None), Member("diverse", 30)), 2, required=frozenset({"barrierefrei", "kueche"})),
    Need((), 2, 3),
    Need((ADULT_F,), 5, 2, frozenset({"nur_frauen"})),
]


def _key(m: matching.Match):
    return (m.candidate.room_id, m.fits, m.score, tuple(m.reasons), tuple(m.problems), m.place_ids, m.extra_rooms)


@pytest.fixture
def city(ctx, factory):
    from app.extensions import db
    from app.services import occupancy as svc
    v = factory.value
    rng = random.Random(12)
    shelters = [factory("shelter", unit, name=name, shelter_type=v("shelter_type", "notunterkunft"),
                        provider_type=v("provider_type", "gemeinde"), district=district, capacity=30)
                for unit, name, district in (("nord", "Haus A", "Mitte"), ("nord", "Haus B", "Nord"),
                                             ("nord", "Haus C", None), ("sued", "Haus Süd", "Mitte"))]
    rooms = []
    for i in range(28):
        attrs = rng.sample(CODES, rng.randint(0, 4))
        rooms.append(factory("room", "sued" if i % 4 == 3 else "nord",
                             shelter=shelters[i % 4], label=f"R{i:02d}", places=rng.randint(1, 4),
                             attributes=[v("offer_attribute", c) for c in attrs]))
    Place = ctx.config["FACHSTELLE_REGISTRY"].model("place")
    places = list(db.session.scalars(select(Place).order_by(Place.id)))
    # some places occupied (from before the search, one open-ended, one ending inside the period) …
    for n, place in enumerate(rng.sample(places, 10)):
        person = factory("partner", "nord", kind=v("partner_kind", "person"), surname=f"Gast{n}", first_name="X",
                         sex=v("sex", "male"), birth_date=date(1970, 1, 1))
        case = factory("case", "nord", client=person, opened_on=date(2025, 1, 1), status=v("case_status", "open"))
        move_out = None if n % 3 else date(2025, 6, 20)
        svc.book(db.session, SYSTEM, svc.Booking(case.id, person.id, place.id, date(2025, 5, 1), move_out))
    db.session.flush()
    return shelters, rooms


@pytest.mark.parametrize("end", [None, date(2025, 7, 1)])
def test_suitable_rooms_are_those_of_the_full_computation(ctx, city, end):
    from app.extensions import db
    from app.services import accommodation as acc
    shelters, _rooms = city
    clerk = Actor(name="clerk", units=(shelters[0].org_unit_id,), home_unit=shelters[0].org_unit_id)
    start, today = date(2025, 6, 15), date(2025, 6, 10)
    labels = acc.attribute_labels(db.session)
    every_room = acc.candidates(db.session, clerk, start, end, today)
    assert {c.shelter_name for c in every_room} == {"Haus A", "Haus B", "Haus C"}  # not the other unit's
    some_fit = fewer_read = 0
    for need in NEEDS:
        old = matching.match(need, every_room, labels, True)  # every room, ranked and explained
        suitable = acc.match_need(db.session, clerk, need, start, end, today)
        assert [_key(m) for m in suitable] == [_key(m) for m in old if m.fits], need
        full = acc.match_need(db.session, clerk, need, start, end, today, show_unsuitable=True)
        assert [_key(m) for m in full] == [_key(m) for m in old], need
        some_fit += bool(suitable)
        fewer_read += len(acc.candidates(db.session, clerk, start, end, today, need=need)) < len(every_room)
    assert some_fit >= 4 and fewer_read >= len(NEEDS) - 1  # the fixture is varied enough to mean something


def test_prefilter_keeps_every_room_the_rules_could_accept():
    """``sql_prefilter`` only states rules ``hard_problems``/``match`` apply as well (a pure check)."""
    p = matching.sql_prefilter(Need((ADULT_F, GIRL), 2, excluded=frozenset({"raucher"})))
    assert p == matching.Prefilter(frozenset(), frozenset({"raucher", "nur_maenner"}), 2)
    p = matching.sql_prefilter(Need((ADULT_F, ADULT_M), 2, 2, frozenset({"rollstuhl"})))
    assert p == matching.Prefilter(frozenset({"rollstuhl"}), frozenset({"nur_frauen", "nur_maenner"}), 1)
    assert matching.sql_prefilter(Need((), 3)).excluded == frozenset()
