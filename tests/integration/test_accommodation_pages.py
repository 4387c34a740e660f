"""Accommodation pages (#12) through HTTP on SQLite and PostgreSQL: the story of the issue without fees —
board, need profile, matching, reserve, move in, transfer, move out, Belegungsliste (page, print, XLSX),
utilisation — as the Obdachverwaltung of one unit, which never sees another unit's shelters."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import login


@pytest.fixture
def world(ctx, factory):
    from app import clock
    v = factory.value
    today = clock.today()
    home = factory("shelter", "nord", name="Haus Nord", shelter_type=v("shelter_type", "gemeinschaftsunterkunft"),
                   provider_type=v("provider_type", "gemeinde"), district="Mitte", capacity=9)
    w1 = factory("room", "nord", shelter=home, label="Wohnung 1", places=4,
                 attributes=[v("offer_attribute", "rollstuhl"), v("offer_attribute", "familiengeeignet")])
    factory("room", "nord", shelter=home, label="Wohnung 2", places=2, attributes=[v("offer_attribute", "rollstuhl")])
    factory("room", "nord", shelter=home, label="Zimmer 3", places=3, attributes=[v("offer_attribute", "haustiere")])
    other = factory("shelter", "nord", name="Pension Ost", shelter_type=v("shelter_type", "hotel"),
                    provider_type=v("provider_type", "gewerblich"), capacity=2)
    factory("room", "nord", shelter=other, label="101", places=2)
    factory("shelter", "sued", name="Südheim Geheim", shelter_type=v("shelter_type", "notunterkunft"),
            provider_type=v("provider_type", "gemeinde"), capacity=1)
    person = lambda s, f, sex, born: factory("partner", "nord", kind=v("partner_kind", "person"), surname=s,
                                             first_name=f, sex=v("sex", sex), birth_date=born)
    mother = person("Krause", "Maria", "female", date(1985, 1, 1))
    case = factory("case", "nord", client=mother, opened_on=today, status=v("case_status", "open"))
    for p, role in ((person("Krause", "Jan", "male", date(1984, 1, 1)), "partner"),
                    (person("Krause", "Lea", "female", date(2016, 1, 1)), "kind"),
                    (person("Krause", "Ben", "male", date(2019, 1, 1)), "kind")):
        factory("household_member", "nord", case=case, member=p, household_role=v("household_role", role))
    return {"case": case, "home": home, "other": other, "w1": w1, "today": today}


def test_story_without_fees(world, ctx):
    from app.extensions import db
    client = login(ctx.test_client(), "obdachverwaltung_nord")
    today, case = world["today"], world["case"]
    board = client.get("/accommodation/board").get_data(as_text=True)
    assert "Haus Nord" in board and "Pension Ost" in board and "Südheim Geheim" not in board
    assert "11 von 11 Plätzen frei" in re.sub(r"<[^>]+>", "", board)
    assert client.get("/accommodation/board?attr=haustiere").get_data(as_text=True).count("fs-place-free") == 3

    # need profile: family of four, wheelchair, no pets, two rooms (through the YAML form)
    r = client.post(f"/need-profile/add?_flt_0_case={case.id}", data={
        "case": str(case.id), "household_size": "4", "rooms": "2", "date_from": today.strftime("%d.%m.%Y"),
        "required_attributes": [str(ctx.config["FACHSTELLE_REGISTRY"] and _value(db, "offer_attribute", "rollstuhl"))],
        "excluded_attributes": [str(_value(db, "offer_attribute", "haustiere"))]}, follow_redirects=False)
    if r.status_code != 302:
        open("/tmp/accom_resp.html", "w").write(r.get_data(as_text=True))
    assert r.status_code == 302
    Need = ctx.config["FACHSTELLE_REGISTRY"].model("need_profile")
    profile = db.session.scalars(select(Need).where(Need.case_id == case.id)).one()
    page = client.get(f"/accommodation/match/{profile.id}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Haus Nord / Wohnung 1 + Wohnung 2" in text and "erfüllt: rollstuhlgerecht" in text
    # by default only the suitable places; the unsuitable ones with their reason on request
    assert "Haustiere erlaubt (ausgeschlossen)" not in text and "fs-unsuitable\"" not in page
    assert "Auch ungeeignete Plätze mit Grund zeigen" in text
    assert f"/accommodation/match/{profile.id}?ungeeignete=1" in page
    full = client.get(f"/accommodation/match/{profile.id}?ungeeignete=1").get_data(as_text=True)
    full_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", full))
    assert "Haustiere erlaubt (ausgeschlossen)" in full_text and "nicht rollstuhlgerecht" in full_text
    assert "Nur geeignete Plätze zeigen" in full_text
    places = re.findall(r'name="place" value="(\d+)"', page)
    assert re.findall(r'name="place" value="(\d+)"', full) == places  # the same suitable places, same order
    assert len(places) == 4
    r = client.post(f"/accommodation/match/{profile.id}/reserve",
                    data={"place": places, "expires_on": (today + timedelta(days=2)).strftime("%d.%m.%Y")})
    assert r.status_code == 302
    board = re.sub(r"<[^>]+>", "", client.get("/accommodation/board").get_data(as_text=True))
    assert "7 von 11 Plätzen frei" in board
    # move in
    r = client.post(f"/accommodation/case/{case.id}/move-in", data={"move_in": today.strftime("%d.%m.%Y"),
                                                                   "legal_basis": "obg", "payer_type": "jobcenter"},
                    follow_redirects=True)
    assert "Eingezogen zum" in r.get_data(as_text=True)
    Occ = ctx.config["FACHSTELLE_REGISTRY"].model("occupancy")
    stays = list(db.session.scalars(select(Occ).where(Occ.case_id == case.id)))
    assert len(stays) == 4 and {o.legal_basis.code for o in stays} == {"obg"}
    # a member moves to the other shelter a month later
    later = today + timedelta(days=30)
    Place = ctx.config["FACHSTELLE_REGISTRY"].model("place")
    target = db.session.scalars(select(Place).where(Place.shelter_id == world["other"].id)).first()
    jan = next(o for o in stays if o.person.first_name == "Jan")
    r = client.post(f"/accommodation/occupancy/{jan.id}/transfer",
                    data={"place": str(target.id), "day": later.strftime("%d.%m.%Y")}, follow_redirects=True)
    assert "Verlegt zum" in r.get_data(as_text=True)
    # list on the day after: Jan is in Pension Ost
    listing = client.get(f"/accommodation/list/{world['other'].id}?date={later:%d.%m.%Y}").get_data(as_text=True)
    assert "Krause, Jan" in listing
    assert "Krause, Jan" not in client.get(f"/accommodation/list/{world['home'].id}?date={later:%d.%m.%Y}").get_data(as_text=True)
    printed = client.get(f"/accommodation/list/{world['home'].id}?date={later:%d.%m.%Y}&print=1").get_data(as_text=True)
    assert "<h1>Belegungsliste Haus Nord</h1>" in printed and "Krause, Lea" in printed
    xlsx = client.get(f"/accommodation/list/{world['home'].id}.xlsx?date={later:%d.%m.%Y}")
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sorted(row[2].value for row in sheet.iter_rows(min_row=4)) == ["Krause, Ben", "Krause, Lea", "Krause, Maria"]
    # the whole household moves out
    out_day = today + timedelta(days=45)
    r = client.post(f"/accommodation/case/{case.id}/move-out", data={"day": out_day.strftime("%d.%m.%Y"),
                                                                    "reason": "eigene_wohnung"}, follow_redirects=True)
    assert "Ausgezogen zum" in r.get_data(as_text=True) and "4 Person(en)" in r.get_data(as_text=True)
    # utilisation of this month: table and XLSX
    util = client.get(f"/accommodation/utilisation?year={today.year}&month={today.month}").get_data(as_text=True)
    assert "Haus Nord" in util and "Südheim Geheim" not in util and "<svg" in util
    assert client.get(f"/accommodation/utilisation.xlsx?year={today.year}").status_code == 200
    # another unit's shelter is a 404, not a leak
    sued = db.session.scalars(select(ctx.config["FACHSTELLE_REGISTRY"].model("shelter"))
                              .where(ctx.config["FACHSTELLE_REGISTRY"].model("shelter").name == "Südheim Geheim")).one()
    assert client.get(f"/accommodation/list/{sued.id}").status_code == 404


def _value(db, catalogue, code):
    from app.core_models import CatalogueValue
    return db.session.scalars(select(CatalogueValue.id).where(CatalogueValue.catalogue == catalogue,
                                                              CatalogueValue.code == code)).one()


def test_overbooking_is_refused_in_german_through_the_form(world, ctx, factory):
    from app.extensions import db
    v = factory.value
    client = login(ctx.test_client(), "obdachverwaltung_nord")
    Place = ctx.config["FACHSTELLE_REGISTRY"].model("place")
    place = db.session.scalars(select(Place).where(Place.shelter_id == world["other"].id)).first()
    first = factory("partner", "nord", kind=v("partner_kind", "person"), surname="Erster")
    second = factory("partner", "nord", kind=v("partner_kind", "person"), surname="Zweiter")
    c2 = factory("case", "nord", client=second, opened_on=world["today"], status=v("case_status", "open"))
    obg = _value(db, "accommodation_basis", "obg")
    form = {"case": str(world["case"].id), "person": str(first.id), "place": str(place.id),
            "move_in": "01.06.2025", "legal_basis": str(obg)}
    assert client.post("/occupancy/add", data=form).status_code == 302
    form.update(case=str(c2.id), person=str(second.id), move_in="15.06.2025")
    page = client.post("/occupancy/add", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Der Platz ist in diesem Zeitraum schon belegt" in page and "Erster" in page
    Occ = ctx.config["FACHSTELLE_REGISTRY"].model("occupancy")
    assert len(list(db.session.scalars(select(Occ)))) == 1


def test_clerk_without_occupancy_rights_gets_403(ctx):
    client = login(ctx.test_client(), "controlling_nord")
    assert client.get("/accommodation/board").status_code == 200  # read: may look
    assert client.post("/accommodation/case/1/move-out", data={"day": "01.01.2026"}).status_code in (302, 403)


def test_transfer_offers_the_places_free_on_the_transfer_day(world, ctx, factory):
    """Pension Ost 101: place 1 is taken today but free from day +10 (its guest moves out), place 2 is free
    today but taken from day +10 (someone moves in; an open-ended transfer would collide, so it is never
    offered). Today the form offers neither; asked for day +10 it offers place 1; posting place 2 for that
    day is refused before anything is written."""
    from app.extensions import db
    from app.services import occupancy as svc
    from app.actor import Actor
    v = factory.value
    today = world["today"]
    later = today + timedelta(days=10)
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    Place, Occ = registry.model("place"), registry.model("occupancy")
    p1, p2 = db.session.scalars(select(Place).where(Place.shelter_id == world["other"].id).order_by(Place.label)).all()
    home_place = db.session.scalars(select(Place).where(Place.shelter_id == world["home"].id)).first()

    def stay(surname, place, move_in, move_out=None):
        person = factory("partner", "nord", kind=v("partner_kind", "person"), surname=surname)
        case = factory("case", "nord", client=person, opened_on=today, status=v("case_status", "open"))
        return svc.book(db.session, Actor.system("t"), svc.Booking(case.id, person.id, place.id, move_in, move_out))
    stay("Geht", p1, today - timedelta(days=5), later)
    stay("Kommt", p2, later)
    mover = stay("Wechsel", home_place, today - timedelta(days=3))
    client = login(ctx.test_client(), "obdachverwaltung_nord")

    def offered(query=""):
        page = client.get(f"/accommodation/case/{mover.case_id}{query}").get_data(as_text=True)
        select_html = re.search(r'<select id="fs-transfer-place-\d+".*?</select>', page, re.S).group(0)
        return set(re.findall(r'<option value="(\d+)"', select_html)), page
    today_ids, _ = offered()
    assert str(p2.id) not in today_ids and str(p1.id) not in today_ids and today_ids
    later_ids, page = offered(f"?transfer_date={later:%d.%m.%Y}")
    assert str(p1.id) in later_ids and str(p2.id) not in later_ids
    assert f'value="{later:%d.%m.%Y}"' in page and "frei ab" in page
    r = client.post(f"/accommodation/occupancy/{mover.id}/transfer",
                    data={"place": str(p2.id), "day": f"{later:%d.%m.%Y}"}, follow_redirects=True)
    assert f"ist ab dem {later:%d.%m.%Y} nicht frei" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Occ, mover.id).move_out is None
    r = client.post(f"/accommodation/occupancy/{mover.id}/transfer",
                    data={"place": str(p1.id), "day": f"{later:%d.%m.%Y}"}, follow_redirects=True)
    assert "Verlegt zum" in r.get_data(as_text=True)
    bad = client.get(f"/accommodation/case/{mover.case_id}?transfer_date=31.02.2026")
    assert bad.status_code == 200


def test_print_view_of_all_shelters_one_per_page(world, ctx):
    """The PDF-ready print view: A4, every shelter on a page of its own, the table head repeated."""
    client = login(ctx.test_client(), "obdachverwaltung_nord")
    assert "Belegungslisten drucken" in client.get("/accommodation/board").get_data(as_text=True)
    page = client.get(f"/accommodation/list/print?date={world['today']:%d.%m.%Y}").get_data(as_text=True)
    assert page.count('<section class="fs-print-shelter">') == 2  # Haus Nord, Pension Ost; not the other unit's
    assert "<h1>Belegungsliste Haus Nord</h1>" in page and "<h1>Belegungsliste Pension Ost</h1>" in page
    assert "Südheim Geheim" not in page
    assert "size: A4 landscape" in page and "break-before: page" in page and "table-header-group" in page
    single = client.get(f"/accommodation/list/{world['home'].id}?print=1").get_data(as_text=True)
    assert single.count('<section class="fs-print-shelter">') == 1
