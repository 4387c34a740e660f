"""Accommodation (#12) on SQLite and PostgreSQL: legacy imports (all-or-nothing, idempotent, line numbers,
duplicate check), the utilisation report and its exact JSON, the board and matching."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.actor import Actor

SYSTEM = Actor.system("test")

SHELTERS = """unterkunft;art;anbieter;verband;gemeindeschluessel;plaetze
Haus Nord;notunterkunft;gemeinde;;05158016;4
Pension Sonne;hotel;gewerblich;;05158016;2
"""

OCCUPANCY = """haushalt;person;name;vorname;geburtsdatum;geschlecht;staatsangehoerigkeit;zuwanderungsgeschichte;rolle;unterkunft;platz;einzug;auszug;rechtsgrundlage
H1;P1;Berger;Hans;01.02.1970;m;DE;nein;bezugsperson;Haus Nord;Zimmer 1;01.06.2025;;obg
H1;P2;Berger;Lena;03.04.1975;w;DE;nein;partner;Haus Nord;Zimmer 1;01.06.2025;;obg
H1;P3;Berger;Tim;05.06.2015;x;;;kind;Haus Nord;Zimmer 1;01.06.2025;16.06.2025;obg
H2;P4;Yilmaz;Aylin;07.08.1990;;staatenlos;ja;bezugsperson;Pension Sonne;101;10.06.2025;20.06.2025;sgb12_67
"""


def run(ctx, *args):
    from app.cli import main
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def count(ctx, entity):
    from app.extensions import db
    return db.session.scalar(select(func.count()).select_from(ctx.config["FACHSTELLE_REGISTRY"].model(entity)))


@pytest.fixture
def files(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


def test_imports_are_idempotent_and_the_report_counts_nights(ctx, files, factory):
    from app.extensions import db
    # An existing person: the import reuses her (duplicate check), it does not double her.
    lena = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Berger",
                   first_name="Lena", birth_date=date(1975, 4, 3))
    r = run(ctx, "import-shelters", files("s.csv", SHELTERS), "--org-unit", "nord")
    assert r.exit_code == 0, r.output
    assert "Unterkünfte neu: 2" in r.output
    r = run(ctx, "import-occupancy", files("o.csv", OCCUPANCY))
    assert r.exit_code == 0, r.output
    assert "Belegungen neu: 4" in r.output and "Personen wiedererkannt (Dublettenprüfung): 1" in r.output
    before = {e: count(ctx, e) for e in ("shelter", "room", "place", "partner", "case", "household_member", "occupancy")}
    assert before["occupancy"] == 4 and before["case"] == 2 and before["partner"] == 4
    # three people in "Zimmer 1" at once: the legacy room gets three places
    assert before["place"] == 4
    db.session.expire_all()
    Partner = ctx.config["FACHSTELLE_REGISTRY"].model("partner")
    lena = db.session.get(Partner, lena.id)
    assert lena.external_ref == "P2" and lena.sex.code == "female" and lena.nationality_code == "DE"
    tim = db.session.scalars(select(Partner).where(Partner.external_ref == "P3")).one()
    assert tim.sex.code == "unknown"  # x: ohne Angabe
    aylin = db.session.scalars(select(Partner).where(Partner.external_ref == "P4")).one()
    assert aylin.sex is None and aylin.nationality_code == "staatenlos" and aylin.migration_background.code == "ja"
    HM = ctx.config["FACHSTELLE_REGISTRY"].model("household_member")
    roles = sorted(db.session.scalars(select(HM)).all(), key=lambda m: m.member_id)
    assert {m.household_role.code for m in roles} == {"bezugsperson", "partner", "kind"}
    # the same files again: nothing changes
    assert "Unterkünfte unverändert: 2" in run(ctx, "import-shelters", files("s.csv", SHELTERS)).output
    again = run(ctx, "import-occupancy", files("o.csv", OCCUPANCY))
    assert again.exit_code == 0 and "Belegungen unverändert: 4" in again.output
    assert {e: count(ctx, e) for e in before} == before

    r = run(ctx, "occupancy-report", "--from", "01.06.2025", "--to", "30.06.2025")
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    # Haus Nord: 4 places × 30 nights; Hans and Lena 30 nights each, Tim 15 (1st–15th)
    assert report == {"unterkuenfte": {
        "Haus Nord": {"plaetze": 4, "kapazitaet_naechte": 120, "belegte_naechte": 75, "auslastung_prozent": 62.5},
        "Pension Sonne": {"plaetze": 2, "kapazitaet_naechte": 60, "belegte_naechte": 10, "auslastung_prozent": 16.7}}}
    out = files("a.xlsx", "")
    assert run(ctx, "occupancy-report", "--from", "2025-06-01", "--to", "2025-06-30", "--format", "xlsx",
               "-o", out).exit_code == 0
    from openpyxl import load_workbook
    sheet = load_workbook(out).active
    assert [c.value for c in sheet[4]][:4] == ["Haus Nord", 4, 120, 75]


def test_bad_rows_are_reported_by_line_and_nothing_is_written(ctx, files):
    bad = """unterkunft;art;anbieter;verband;gemeindeschluessel;plaetze
Haus Nord;notunterkunft;gemeinde;;05158016;4
Haus Süd;zelt;gemeinde;;1234;vier
"""
    r = run(ctx, "import-shelters", files("s.csv", bad))
    assert r.exit_code == 1
    assert "Zeile 3:" in r.output and "art „zelt“ unbekannt" in r.output and "Gemeindeschlüssel „1234“" in r.output
    assert "plaetze „vier“ ist keine ganze Zahl" in r.output
    assert count(ctx, "shelter") == 0
    run(ctx, "import-shelters", files("s.csv", SHELTERS))
    occ = OCCUPANCY.replace("H2;P4;Yilmaz;Aylin;07.08.1990;;staatenlos;ja;bezugsperson;Pension Sonne",
                            "H2;P4;Yilmaz;Aylin;31.02.1990;q;Türkei;ja;chef;Pension Mond")
    r = run(ctx, "import-occupancy", files("o.csv", occ))
    assert r.exit_code == 1
    line = next(ln for ln in r.output.splitlines() if ln.startswith("Zeile 5:"))
    for part in ("geburtsdatum „31.02.1990“", "geschlecht „q“", "Staatsangehörigkeit „Türkei“", "rolle „chef“",
                 "unterkunft „Pension Mond“"):
        assert part in line, line
    assert count(ctx, "occupancy") == 0 and count(ctx, "partner") == 0
    twice = OCCUPANCY + "H1;P1;Berger;Hans;01.02.1970;m;DE;nein;bezugsperson;Pension Sonne;102;10.06.2025;;obg\n"
    r = run(ctx, "import-occupancy", files("o.csv", twice))
    assert r.exit_code == 1 and "Zeile 6:" in r.output and "zweimal" in r.output
    assert count(ctx, "occupancy") == 0


def test_board_and_matching(ctx, factory):
    from app.extensions import db
    from app.services import accommodation as acc
    from app.services import occupancy as svc
    v = factory.value
    shelter = factory("shelter", "nord", name="Familienhaus", shelter_type=v("shelter_type", "gemeinschaftsunterkunft"),
                      provider_type=v("provider_type", "gemeinde"), district="Mitte", capacity=7)
    women = factory("shelter", "nord", name="Frauenhaus", shelter_type=v("shelter_type", "notunterkunft"),
                    provider_type=v("provider_type", "freier_traeger"), capacity=4)
    other_unit = factory("shelter", "sued", name="Südheim", shelter_type=v("shelter_type", "notunterkunft"),
                         provider_type=v("provider_type", "gemeinde"), capacity=2)
    a1 = factory("room", "nord", shelter=shelter, label="A1", places=2,
                 attributes=[v("offer_attribute", "rollstuhl"), v("offer_attribute", "familiengeeignet")])
    a2 = factory("room", "nord", shelter=shelter, label="A2", places=3,
                 attributes=[v("offer_attribute", "rollstuhl"), v("offer_attribute", "haustiere")])
    a3 = factory("room", "nord", shelter=shelter, label="A3", places=3, attributes=[v("offer_attribute", "rollstuhl")])
    factory("room", "nord", shelter=women, label="F1", places=4,
            attributes=[v("offer_attribute", "rollstuhl"), v("offer_attribute", "nur_frauen")])
    factory("room", "sued", shelter=other_unit, label="S1", places=2)
    person = lambda s, f, sex, born: factory("partner", "nord", kind=v("partner_kind", "person"), surname=s,
                                             first_name=f, sex=v("sex", sex), birth_date=born)
    mother, father = person("Krause", "Maria", "female", date(1985, 1, 1)), person("Krause", "Jan", "male", date(1984, 1, 1))
    kid1, kid2 = person("Krause", "Lea", "female", date(2016, 1, 1)), person("Krause", "Ben", "male", date(2019, 1, 1))
    case = factory("case", "nord", client=mother, opened_on=date(2025, 6, 1), status=v("case_status", "open"))
    for p, role in ((father, "partner"), (kid1, "kind"), (kid2, "kind")):
        factory("household_member", "nord", case=case, member=p, household_role=v("household_role", role))
    # someone in A3 already
    other = person("Alt", "Otto", "male", date(1950, 1, 1))
    ocase = factory("case", "nord", client=other, opened_on=date(2025, 1, 1), status=v("case_status", "open"))
    Place = ctx.config["FACHSTELLE_REGISTRY"].model("place")
    a3_place = db.session.scalars(select(Place).where(Place.room_id == a3.id).order_by(Place.label)).first()
    svc.book(db.session, SYSTEM, svc.Booking(ocase.id, other.id, a3_place.id, date(2025, 5, 1)))

    nord = Actor(name="clerk", units=(shelter.org_unit_id,), home_unit=shelter.org_unit_id)
    rows = acc.board(db.session, nord, date(2025, 6, 15), today=date(2025, 6, 10))
    assert [s.name for s in rows] == ["Familienhaus", "Frauenhaus"]  # not the other unit's shelter
    fam = rows[0]
    assert (fam.places, fam.occupied, fam.free) == (8, 1, 7)
    assert fam.rooms[2].places[0].occupant == "Alt, Otto"
    only = acc.board(db.session, nord, date(2025, 6, 15), attributes=("haustiere",), today=date(2025, 6, 10))
    assert [(s.name, [r.label for r in s.rooms]) for s in only] == [("Familienhaus", ["A2"])]

    profile = factory("need_profile", "nord", case=case, household_size=4, rooms=2, date_from=date(2025, 6, 15),
                      required_attributes=[v("offer_attribute", "rollstuhl")],
                      excluded_attributes=[v("offer_attribute", "haustiere")], preferred_area="Mitte")
    need, people, suitable = acc.match_profile(db.session, nord, profile, date(2025, 6, 10))
    assert all(r.fits for r in suitable)  # by default only the suitable rooms
    need, people, results = acc.match_profile(db.session, nord, profile, date(2025, 6, 10), show_unsuitable=True)
    assert need.size == 4 and need.has_children and len(people) == 4
    fits = [r for r in results if r.fits]
    assert [(r.candidate.room_id, r.place_ids, r.reasons) for r in fits] == [
        (r.candidate.room_id, r.place_ids, r.reasons) for r in suitable]
    assert [(r.candidate.room_label, r.extra_rooms) for r in fits] == [("A1", (a3.id,))]
    assert len(fits[0].place_ids) == 4 and "im bevorzugten Gebiet Mitte" in fits[0].reasons
    unsuitable = {r.candidate.room_label: r.problems for r in results if not r.fits}
    assert "Haustiere erlaubt (ausgeschlossen)" in unsuitable["A2"]
    assert "nur Frauen" in unsuitable["F1"]
    assert "S1" not in unsuitable  # another unit's shelter is not offered


def _upload(client, kind: str, name: str, text: str) -> str:
    import io
    response = client.post("/import/check", data={"kind": kind, "file": (io.BytesIO(text.encode("utf-8")), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_imports_through_the_upload_page(ctx, client):
    """import-shelters and import-occupancy through the web upload page: check (dry run, nothing written),
    import, then the shelters and the people are on the board; a bad line is named and nothing is written."""
    import re

    from app.extensions import db
    from tests.conftest import login
    login(client, "fachadmin_nord")
    form = client.get("/import/").get_data(as_text=True)
    assert "Unterkünfte (Altliste)" in form and "Belegung (Altliste)" in form

    def through(kind, name, text, done_text):
        checked = _upload(client, kind, name, text)
        assert "Jetzt importieren" in checked, checked[-2000:]
        db.session.rollback()
        assert count(ctx, "shelter" if kind == "shelters" else "occupancy") == before[kind]
        token = re.search(r'name="token" value="([^"]+)"', checked).group(1)
        done = client.post("/import/run", data={"token": token}).get_data(as_text=True)
        assert done_text in done, done[-2000:]
        db.session.rollback()
    before = {"shelters": count(ctx, "shelter"), "occupancy": count(ctx, "occupancy")}
    through("shelters", "unterkuenfte.csv", SHELTERS, "Unterkünfte neu: 2")
    through("occupancy", "belegung.csv", OCCUPANCY, "Belegungen neu: 4")
    assert count(ctx, "shelter") == before["shelters"] + 2 and count(ctx, "occupancy") == before["occupancy"] + 4
    # the rows are there: on the board of 15.06.2025 (as the admin, who sees every unit)
    login(client, "admin")
    board = re.sub(r"<[^>]+>", " ", client.get("/accommodation/board?date=15.06.2025").get_data(as_text=True))
    assert "Haus Nord" in board and "Pension Sonne" in board
    assert "Berger, Hans" in board and "Yilmaz, Aylin" in board
    # a bad line through the page: named with its number, nothing written
    login(client, "fachadmin_nord")
    bad = _upload(client, "occupancy", "kaputt.csv",
                  OCCUPANCY + "H3;P9;Neu;Nina;31.02.1990;w;DE;nein;bezugsperson;Haus Nord;Zimmer 2;01.06.2025;;obg\n")
    assert "Zeile 6" in bad and "Jetzt importieren" not in bad
    db.session.rollback()
    assert count(ctx, "occupancy") == before["occupancy"] + 4
