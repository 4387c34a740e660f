"""Accommodation (#12) on SQLite and PostgreSQL: places of a room, bookings, no overbooking by the database,
a person never twice a night, transfer as one action, reservations with expiry, concurrent last-place bookings."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.actor import Actor
from app.errors import DomainError

SYSTEM = Actor.system("test")


@pytest.fixture
def acc(ctx, factory):
    from app.extensions import db
    from app.services import occupancy as svc
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    v = factory.value
    shelter = factory("shelter", "nord", name="Haus am Bahnhof", shelter_type=v("shelter_type", "notunterkunft"),
                      provider_type=v("provider_type", "gemeinde"), ags="05158016", capacity=3)
    room = factory("room", "nord", shelter=shelter, label="R1", places=2)
    room2 = factory("room", "nord", shelter=shelter, label="R2", places=1)

    class Acc:
        pass
    a = Acc()
    a.db, a.svc, a.registry, a.shelter, a.room, a.room2 = db, svc, registry, shelter, room, room2
    Place = registry.model("place")
    a.places = list(db.session.scalars(select(Place).where(Place.room_id == room.id).order_by(Place.label)))
    a.place3 = db.session.scalars(select(Place).where(Place.room_id == room2.id)).one()

    def person(surname, first="Anna"):
        return factory("partner", "nord", kind=v("partner_kind", "person"), surname=surname, first_name=first)

    def case(client):
        return factory("case", "nord", client=client, opened_on=date(2025, 5, 1), status=v("case_status", "open"))

    def book(case_, person_, place, move_in, move_out=None):
        return svc.book(db.session, SYSTEM, svc.Booking(case_id=case_.id, person_id=person_.id, place_id=place.id,
                                                        move_in=move_in, move_out=move_out))
    a.person, a.case, a.book = person, case, book
    return a


def test_room_places_become_place_rows_of_the_shelter(acc):
    assert [p.label for p in acc.places] == ["1", "2"]
    assert all(p.shelter_id == acc.shelter.id and p.org_unit_id == acc.shelter.org_unit_id for p in acc.places)
    acc.room.places = 4
    acc.db.session.commit()
    Place = acc.registry.model("place")
    assert acc.db.session.scalars(select(Place.label).where(Place.room_id == acc.room.id).order_by(Place.label)).all() \
        == ["1", "2", "3", "4"]


def test_overlap_refused_naming_the_occupancy_back_to_back_allowed(acc):
    meier, kurz = acc.person("Meier"), acc.person("Kurz")
    first = acc.book(acc.case(meier), meier, acc.places[0], date(2025, 6, 1), date(2025, 6, 10))
    assert first.shelter_id == acc.shelter.id and first.legal_basis.code == "obg"
    case_k = acc.case(kurz)
    with pytest.raises(DomainError) as err:
        acc.book(case_k, kurz, acc.places[0], date(2025, 6, 9))
    assert f"Belegung Nr. {first.id}: Meier, Anna" in err.value.message and "01.06.2025" in err.value.message
    acc.db.session.rollback()
    back_to_back = acc.book(case_k, kurz, acc.places[0], date(2025, 6, 10))  # moves in the day Meier moves out
    assert back_to_back.move_out is None
    late = acc.person("Spät")
    with pytest.raises(DomainError, match="schon belegt"):  # open-ended blocks every later night
        acc.book(acc.case(late), late, acc.places[0], date(2026, 1, 1), date(2026, 1, 2))


def test_person_never_twice_a_night(acc):
    meier = acc.person("Meier")
    c = acc.case(meier)
    acc.book(c, meier, acc.places[0], date(2025, 6, 1))
    with pytest.raises(DomainError, match="zweimal"):
        acc.book(c, meier, acc.places[1], date(2025, 6, 5))


@pytest.mark.parametrize("second", [
    (date(2025, 6, 5), None),                      # open-ended inside an open-ended one
    (date(2025, 5, 1), date(2025, 6, 2)),          # ends on the second night
    (date(2025, 6, 1), date(2025, 6, 2)),          # the same first night
])
def test_database_itself_refuses_overbooking(acc, second):
    """Past the service (a raw INSERT): the exclusion constraint (PostgreSQL) or the trigger (SQLite) refuses."""
    meier, kurz = acc.person("Meier"), acc.person("Kurz")
    acc.book(acc.case(meier), meier, acc.places[0], date(2025, 6, 1))
    c = acc.case(kurz)
    Occ = acc.registry.model("occupancy")
    obg = acc.svc.catalogue_value(acc.db.session, "accommodation_basis", "obg")
    with pytest.raises(IntegrityError):
        acc.db.session.execute(insert(Occ.__table__).values(
            case_id=c.id, person_id=kurz.id, place_id=acc.places[0].id, move_in=second[0], move_out=second[1],
            legal_basis_id=obg.id, org_unit_id=c.org_unit_id, version=1))
        acc.db.session.flush()
    acc.db.session.rollback()


def test_database_allows_back_to_back_rows(acc):
    meier, kurz = acc.person("Meier"), acc.person("Kurz")
    acc.book(acc.case(meier), meier, acc.places[0], date(2025, 6, 1), date(2025, 6, 10))
    c = acc.case(kurz)
    Occ = acc.registry.model("occupancy")
    obg = acc.svc.catalogue_value(acc.db.session, "accommodation_basis", "obg")
    acc.db.session.execute(insert(Occ.__table__).values(
        case_id=c.id, person_id=kurz.id, place_id=acc.places[0].id, move_in=date(2025, 6, 10), move_out=None,
        legal_basis_id=obg.id, org_unit_id=c.org_unit_id, version=1))
    acc.db.session.commit()


def test_transfer_is_one_action(acc):
    meier = acc.person("Meier")
    c = acc.case(meier)
    occ = acc.book(c, meier, acc.places[0], date(2025, 6, 1))
    new = acc.svc.transfer(acc.db.session, SYSTEM, occ, acc.place3.id, date(2025, 7, 1))
    assert occ.move_out == date(2025, 7, 1) and occ.end_reason.code == "verlegung"
    assert new.move_in == date(2025, 7, 1) and new.move_out is None and new.place_id == acc.place3.id
    assert new.legal_basis.code == "obg" and new.case_id == c.id
    # into an occupied place: nothing changes at all
    kurz = acc.person("Kurz")
    other = acc.book(acc.case(kurz), kurz, acc.places[1], date(2025, 6, 1))
    with pytest.raises(DomainError):
        acc.svc.transfer(acc.db.session, SYSTEM, other, acc.place3.id, date(2025, 8, 1))
    acc.db.session.expire_all()
    assert other.move_out is None


def test_reservation_holds_the_place_for_others_until_it_expires(acc, monkeypatch):
    from app import clock
    monkeypatch.setattr(clock, "today", lambda: date(2025, 6, 1))
    meier, kurz = acc.person("Meier"), acc.person("Kurz")
    cm, ck = acc.case(meier), acc.case(kurz)
    res = acc.svc.reserve(acc.db.session, SYSTEM, case_id=cm.id, place_id=acc.places[0].id,
                          reserved_from=date(2025, 6, 3), expires_on=date(2025, 6, 3))
    with pytest.raises(DomainError, match=f"Reservierung Nr. {res.id}"):
        acc.book(ck, kurz, acc.places[0], date(2025, 6, 2))
    acc.db.session.rollback()
    occ = acc.book(cm, meier, acc.places[0], date(2025, 6, 3))  # the household's own reservation
    acc.db.session.refresh(res)
    assert res.state.code == "eingeloest" and occ.place_id == acc.places[0].id
    res2 = acc.svc.reserve(acc.db.session, SYSTEM, case_id=cm.id, place_id=acc.places[1].id,
                           reserved_from=date(2025, 6, 3), expires_on=date(2025, 6, 4))
    monkeypatch.setattr(clock, "today", lambda: date(2025, 6, 5))  # expired: the place is free again
    assert acc.book(ck, kurz, acc.places[1], date(2025, 6, 5)).id
    assert res2.state.code == "aktiv"


def test_expired_reservation_gets_the_state_abgelaufen(acc, monkeypatch):
    from app import clock
    from app.services import accommodation as reading
    from app.services.records import history_of
    monkeypatch.setattr(clock, "today", lambda: date(2025, 6, 1))
    meier, kurz = acc.person("Meier"), acc.person("Kurz")
    cm, ck = acc.case(meier), acc.case(kurz)
    old = acc.svc.reserve(acc.db.session, SYSTEM, case_id=cm.id, place_id=acc.places[0].id,
                          reserved_from=date(2025, 6, 3), expires_on=date(2025, 6, 3))
    keep = acc.svc.reserve(acc.db.session, SYSTEM, case_id=ck.id, place_id=acc.places[1].id,
                           reserved_from=date(2025, 6, 3), expires_on=date(2025, 6, 10))
    # on its last day nothing expires
    assert acc.svc.expire_reservations(acc.db.session, SYSTEM, date(2025, 6, 3)) == []
    board = reading.board(acc.db.session, SYSTEM, date(2025, 6, 4), today=date(2025, 6, 4))
    places = {p.id: p for s in board for r in s.rooms for p in r.places}
    assert places[acc.places[0].id].free and not places[acc.places[1].id].free  # read as expired already
    found = acc.svc.expire_reservations(acc.db.session, SYSTEM, date(2025, 6, 4))
    assert [r.id for r in found] == [old.id]
    acc.db.session.expire_all()
    assert old.state.code == "abgelaufen" and keep.state.code == "aktiv"
    assert "state" in {h.field for h in history_of("reservation", old.id)}
    assert acc.svc.expire_reservations(acc.db.session, SYSTEM, date(2025, 6, 4)) == []  # idempotent


def test_history_of_a_booking(acc):
    from app.services.records import history_of
    meier = acc.person("Meier")
    occ = acc.book(acc.case(meier), meier, acc.places[0], date(2025, 6, 1))
    acc.svc.move_out(acc.db.session, SYSTEM, occ, date(2025, 6, 20), "eigene_wohnung")
    fields = {h.field for h in history_of("occupancy", occ.id)}
    assert {"move_out", "end_reason"} <= fields


def test_two_concurrent_bookings_of_the_last_place(acc, ctx):
    """Two clerks book the last free place at the same moment: exactly one wins (PostgreSQL: row lock and
    exclusion constraint; SQLite: one writer at a time)."""
    from sqlalchemy.orm import Session as OrmSession
    if acc.db.engine.dialect.name != "postgresql":
        pytest.skip("Gleichzeitige Verbindungen: PostgreSQL")
    a, b = acc.person("Erster"), acc.person("Zweiter")
    ca, cb = acc.case(a), acc.case(b)
    place_id = acc.place3.id
    barrier = threading.Barrier(2)
    results: list = []

    def run(case_id, person_id):
        with ctx.app_context():
            session = OrmSession(bind=acc.db.engine)
            try:
                barrier.wait()
                acc.svc.book(session, SYSTEM, acc.svc.Booking(case_id=case_id, person_id=person_id,
                                                              place_id=place_id, move_in=date(2025, 6, 1)))
                results.append("ok")
            except (DomainError, IntegrityError) as exc:
                results.append(exc)
                session.rollback()
            finally:
                session.close()
    threads = [threading.Thread(target=run, args=(ca.id, a.id)), threading.Thread(target=run, args=(cb.id, b.id))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    refused = next(r for r in results if r != "ok")
    assert isinstance(refused, DomainError) and "schon belegt" in refused.message


def test_reservation_list_page_shows_abgelaufen(acc, ctx, monkeypatch):
    """The reservation list (the entity page) reads the state of today: the expired one shows "abgelaufen"."""
    from app import clock
    from tests.conftest import login
    meier = acc.person("Meier")
    res = acc.svc.reserve(acc.db.session, SYSTEM, case_id=acc.case(meier).id, place_id=acc.places[0].id,
                          reserved_from=date(2025, 6, 3), expires_on=date(2025, 6, 3))
    monkeypatch.setattr(clock, "today", lambda: date(2025, 6, 10))
    client = login(ctx.test_client(), "obdachverwaltung_nord")
    page = client.get("/reservation/list/").get_data(as_text=True)
    assert "abgelaufen" in page
    acc.db.session.expire_all()
    assert acc.db.session.get(type(res), res.id).state.code == "abgelaufen"
