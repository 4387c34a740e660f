"""Official housing statistics (#14) from the database, on SQLite and PostgreSQL: facts from occupancies,
household roles and partner data; the CLI's JSON, CSV and XLSX; snapshots with versions and comparison; the
page with drill-down inside the user's units; the delivery deadline on the worklist."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from app.actor import Actor
from tests.conftest import login

SYSTEM = Actor.system("test")
NRW_DAY, BUND_DAY = date(2025, 6, 30), date(2026, 1, 31)


def run(*args):
    from app.cli import main
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def world(ctx, factory):
    """Nord: mother + child (obg), a young man moving in on the Stichtag (obg), a man moving out on the Stichtag
    (obg), a woman under § 67 SGB XII in a freier Träger's betreutes Wohnen (Caritas), a man under AsylbLG.
    Süd: one man (obg). All stay over 31.01.2026 except the man moving out."""
    from app.extensions import db
    from app.services import occupancy as occ
    from app.statistics_models import StatisticSnapshot
    v = factory.value
    reg = ctx.config["FACHSTELLE_REGISTRY"]
    Place = reg.model("place")

    def shelter(unit, name, stype, provider, assoc=None, places=6):
        s = factory("shelter", unit, name=name, shelter_type=v("shelter_type", stype),
                    provider_type=v("provider_type", provider), ags="05162024",
                    association=v("welfare_association", assoc) if assoc else None)
        room = factory("room", unit, shelter=s, label="R1", places=places)
        return list(db.session.scalars(select(Place).where(Place.room_id == room.id).order_by(Place.id)))

    nord = shelter("nord", "Haus Nord", "notunterkunft", "gemeinde")
    traeger = shelter("nord", "Haus Caritas", "betreutes_wohnen", "freier_traeger", "caritas")
    sued = shelter("sued", "Haus Süd", "notunterkunft", "gemeinde")

    def person(unit, surname, first, sex, birth, nat="DE", mig="nein"):
        return factory("partner", unit, kind=v("partner_kind", "person"), surname=surname, first_name=first,
                       sex=v("sex", sex) if sex else None, birth_date=birth, nationality_code=nat,
                       migration_background=v("yes_no", mig) if mig else None)

    def case(unit, client):
        return factory("case", unit, client=client, opened_on=date(2025, 1, 2), status=v("case_status", "open"))

    def book(c, p, place, move_in, move_out=None, basis="obg"):
        return occ.book(db.session, SYSTEM, occ.Booking(case_id=c.id, person_id=p.id, place_id=place.id,
                                                        move_in=move_in, move_out=move_out, legal_basis=basis))

    w = type("World", (), {})()
    w.mother = person("nord", "Meier", "Anna", "female", date(1990, 3, 1), "DE", "ja")
    w.child = person("nord", "Meier", "Lena", "female", date(2015, 8, 1), "DE", None)
    fam = case("nord", w.mother)
    factory("household_member", "nord", case=fam, member=w.child, household_role=v("household_role", "kind"))
    book(fam, w.mother, nord[0], date(2025, 1, 10))
    book(fam, w.child, nord[1], date(2025, 1, 10))
    w.young = person("nord", "Yilmaz", "Can", "male", date(2005, 7, 1), "SY", None)   # 19 on 30.06.2025
    book(case("nord", w.young), w.young, nord[2], NRW_DAY)
    w.leaving = person("nord", "Kurz", "Otto", "male", date(1970, 1, 1))
    book(case("nord", w.leaving), w.leaving, nord[3], date(2025, 2, 1), NRW_DAY)
    w.sgb = person("nord", "Sommer", "Eva", "female", date(1960, 1, 1))
    book(case("nord", w.sgb), w.sgb, traeger[0], date(2025, 3, 1), basis="sgb12_67")
    w.asyl = person("nord", "Nouri", "Ali", "male", date(1985, 1, 1), "AF", None)
    book(case("nord", w.asyl), w.asyl, nord[4], date(2025, 3, 1), basis="asylblg")
    w.south = person("sued", "Süder", "Paul", None, None, None, None)
    book(case("sued", w.south), w.south, sued[0], date(2025, 4, 1))
    db.session.commit()
    yield w
    db.session.rollback()
    db.session.execute(delete(StatisticSnapshot))
    db.session.commit()


def nrw(actor=SYSTEM):
    from app.extensions import db
    from app.services import housing_stats as svc
    return svc.nrw(db.session, NRW_DAY, actor=actor)


def test_nrw_from_the_database(world):
    r = nrw().report
    h, p = r["haushalte"], r["personen"]
    # mother+child, the young man, the man of Süd; not the one moving out, not § 67, not AsylbLG
    assert h["gesamt"] == 3
    assert h["struktur"]["allein_frauen_mit_kindern"] == 1 and h["struktur"]["allein_maenner_ohne_kinder"] == 2
    assert h["groesse"] == {"1": 2, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "mehr_als_6": 0}
    assert p["gesamt"] == {"insgesamt": 4, "weiblich": 2}
    assert p["alter"]["unter_18"] == {"insgesamt": 1, "weiblich": 1, "alleinstehend": 0, "alleinstehend_weiblich": 0}
    assert p["alter"]["18_21"] == {"insgesamt": 1, "weiblich": 0, "alleinstehend": 1, "alleinstehend_weiblich": 0}
    assert p["alter"]["30_40"] == {"insgesamt": 1, "weiblich": 1}
    nat = p["staatsangehoerigkeit_erwachsene"]
    assert nat["deutsch_mit_zuwanderung"] == {"insgesamt": 1, "weiblich": 1}
    assert nat["nicht_deutsch"] == {"insgesamt": 1, "weiblich": 0}
    assert sum(c["insgesamt"] for c in nat.values()) == 2   # the man of Süd has no birth date: not an adult row
    assert any("ohne Geburtsdatum" in text for text in r["warnungen"])
    assert any("weder männlich noch weiblich" in text for text in r["warnungen"])


def test_nrw_of_a_district_user_is_their_units_only(world):
    from app.core_models import OrgUnit
    from app.extensions import db
    nord_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "nord"))
    r = nrw(Actor(name="controlling_nord", units=(nord_id,))).report
    assert r["haushalte"]["gesamt"] == 2 and r["personen"]["gesamt"]["insgesamt"] == 3


def test_bund_records_from_the_database(world):
    from app.extensions import db
    from app.services import housing_stats as svc
    res = svc.bund(db.session, BUND_DAY, b"k", actor=SYSTEM)
    assert len(res.rows) == 5   # family (2), young man, § 67 woman, Süd; never AsylbLG
    by_type = sorted((r["haushaltstyp"], r["art_der_ueberlassung"], r["anbieter"], r["verband"]) for r in res.rows)
    assert ("alleinstehend", "b", "freier_traeger", "caritas") in by_type
    assert by_type.count(("alleinerziehend", "a", "gemeinde", "")) == 2
    fam = [r for r in res.rows if r["haushaltstyp"] == "alleinerziehend"]
    assert fam[0]["haushalt"] == fam[1]["haushalt"] and {r["haushaltsgroesse"] for r in fam} == {"2"}
    assert all("Meier" not in json.dumps(r) for r in res.rows)
    south = next(r for r in res.rows if r["geschlecht"] == "unbekannt")
    assert south["alter"] == "" and south["staatsangehoerigkeit"] == ""
    assert {p.code for p in res.problems} == {"alter_fehlt", "geschlecht"}


def test_cli_nrw_json_xlsx_and_bund_csv(world, tmp_path):
    from app.integrations.housing_stats_files import read_nrw_xlsx
    data = json.loads(run("statistics", "nrw", "--stichtag", "30.06.2025", "--format", "json").stdout)
    assert data == nrw().report
    assert list(data) == ["stichtag", "haushalte", "personen", "warnungen"] and data["stichtag"] == "2025-06-30"
    run("statistics", "nrw", "--stichtag", "30.06.2025", "--format", "xlsx", "-o", str(tmp_path / "n.xlsx"))
    assert read_nrw_xlsx(tmp_path / "n.xlsx") == data
    out = run("statistics", "bund", "--stichtag", "31.01.2026", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout), delimiter=";"))
    assert len(rows) == 5 and out.stdout.startswith("stichtag;ags;person;haushalt;geschlecht;alter;")
    assert "Lieferfrist (30 Arbeitstage nach dem Stichtag): 13.03.2026" in out.stderr
    assert "Alter unbekannt" in out.stderr
    run("statistics", "bund", "--stichtag", "31.01.2026", "--format", "xlsx", "-o", str(tmp_path / "b.xlsx"))
    from app.integrations.housing_stats_files import read_bund_xlsx
    assert read_bund_xlsx(tmp_path / "b.xlsx") == rows


def test_cli_refuses_a_wrong_stichtag(world):
    from app.cli import main
    result = CliRunner().invoke(main, ["statistics", "nrw", "--stichtag", "01.07.2025"])
    assert result.exit_code == 2 and "Stichtag 30.06." in result.stderr and "Traceback" not in result.output


def test_snapshot_is_frozen_new_version_compares(world):
    from app.extensions import db
    from app.services import housing_stats as svc
    v1 = svc.freeze(db.session, "nrw", NRW_DAY, b"k", actor=SYSTEM)
    db.session.commit()
    world.south.birth_date = date(1950, 1, 1)   # corrected after delivery
    db.session.commit()
    assert db.session.get(type(v1), v1.id).report["personen"]["alter"]["65_plus"]["insgesamt"] == 0
    v2 = svc.freeze(db.session, "nrw", NRW_DAY, b"k", actor=SYSTEM)
    db.session.commit()
    assert (v1.version, v2.version) == (1, 2)
    assert v2.report["personen"]["alter"]["65_plus"]["insgesamt"] == 1
    diffs = {d.where: (d.old, d.new) for d in svc.compare(v1, v2)}
    assert diffs["65 und mehr"] == ("0", "1")
    assert diffs["keine Angabe"] == ("0", "1")
    b1 = svc.freeze(db.session, "bund", BUND_DAY, b"k", actor=SYSTEM)
    world.young.sex = None
    db.session.commit()
    b2 = svc.freeze(db.session, "bund", BUND_DAY, b"k", actor=SYSTEM)
    changed = [d for d in svc.compare(b1, b2)]
    assert [(d.where.split(": ")[1], d.old, d.new) for d in changed] == [("geschlecht", "maennlich", "unbekannt")]


def test_page_drill_down_and_snapshot_within_units(world, app):
    from app.extensions import db
    from app.services import housing_stats as svc
    person_ids = {world.mother.id, world.child.id}
    with app.app_context(), app.test_client() as c:
        login(c, "controlling_nord")
        page = c.get("/statistics/?kind=nrw&stichtag=30.06.2025")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "allein stehende Frauen mit Kind(ern)" in html and "Fachstelle Nord" in html
        cell = c.get("/statistics/persons?kind=nrw&stichtag=30.06.2025&cell=haushalte.struktur.allein_frauen_mit_kindern")
        text = cell.get_data(as_text=True)
        assert cell.status_code == 200 and "Meier, Anna" in text and "Meier, Lena" in text and "Süder" not in text
        assert c.get("/statistics/persons?kind=nrw&stichtag=30.06.2025&cell=bogus").status_code == 404
        frozen = c.post("/statistics/freeze", data={"kind": "nrw", "stichtag": "30.06.2025"})
        assert frozen.status_code == 302
        snap_url = frozen.headers["Location"]
        shown = c.get(snap_url).get_data(as_text=True)
        assert "Eingefrorene Version 1" in shown
        xlsx = c.get("/statistics/download?kind=bund&stichtag=31.01.2026&format=xlsx")
        assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
        csv_text = c.get("/statistics/download?kind=bund&stichtag=31.01.2026&format=csv").get_data(as_text=True)
        assert len(csv_text.strip().splitlines()) == 1 + 4   # Nord only
        assert person_ids
    snap_id = int(snap_url.rstrip("/").rsplit("/", 1)[1])
    with app.app_context(), app.test_client() as c:
        login(c, "controlling_sued")
        assert c.get(f"/statistics/snapshot/{snap_id}").status_code == 404   # Nord's version
        cell = c.get("/statistics/persons?kind=nrw&stichtag=30.06.2025&cell=haushalte.gesamt").get_data(as_text=True)
        assert "Süder, Paul" in cell and "Meier, Anna" not in cell
    with app.app_context(), app.test_client() as c:
        login(c, "sachbearbeitung_nord")
        assert c.get("/statistics/?kind=nrw").status_code in (302, 403)
    assert svc.snapshots(db.session, "nrw", NRW_DAY, actor=SYSTEM)[0].created_by == "controlling_nord"


def test_deadline_on_the_controllers_worklist(world, app):
    from app import clock
    with clock.frozen(date(2026, 2, 10)), app.app_context(), app.test_client() as c:
        login(c, "controlling_nord")
        html = c.get("/worklist/").get_data(as_text=True)
        assert "Lieferfrist 13.03.2026" in html and "Stichtag 31.01.2026" in html
    with clock.frozen(date(2026, 2, 10)), app.app_context(), app.test_client() as c:
        login(c, "sachbearbeitung_nord")
        assert "Lieferfrist" not in c.get("/worklist/").get_data(as_text=True)


@pytest.mark.parametrize(("profile", "allowed"), [
    ("Sachbearbeitung", False), ("Sozialarbeit", False), ("Obdachverwaltung", False),
    ("Teamleitung", True), ("Controlling", True), ("Fachadmin", True),
])
def test_who_may_open_and_freeze_the_statistics(app, profile, allowed):
    """Profile × page × action: the page (show) and freezing a version (edit) follow the admin function."""
    from app.extensions import db
    from app.statistics_models import StatisticSnapshot
    with app.app_context(), app.test_client() as c:
        login(c, f"{profile.lower()}_nord")
        page = c.get("/statistics/?kind=nrw&stichtag=30.06.2025")
        frozen = c.post("/statistics/freeze", data={"kind": "nrw", "stichtag": "30.06.2025"})
        download = c.get("/statistics/download?kind=nrw&stichtag=30.06.2025&format=json")
        if allowed:
            assert (page.status_code, frozen.status_code, download.status_code) == (200, 302, 200)
            assert "/statistics/snapshot/" in frozen.headers["Location"]
        else:
            for response in (page, frozen, download):
                assert response.status_code in (302, 403)
                assert "/statistics/snapshot/" not in response.headers.get("Location", "")
        made = db.session.scalar(select(StatisticSnapshot.id).where(StatisticSnapshot.created_by == f"{profile.lower()}_nord"))
        assert (made is not None) is allowed
        db.session.execute(delete(StatisticSnapshot))
        db.session.commit()


def test_cli_freeze_and_page_compare_and_delivery(world, app):
    from app import clock
    from app.extensions import db
    from app.services import housing_stats as svc
    from app.statistics_models import StatisticSnapshot
    out = run("statistics", "bund", "--stichtag", "31.01.2026", "--format", "csv", "--freeze")
    assert "Eingefroren als Version 1." in out.stderr
    first = db.session.scalars(select(StatisticSnapshot)).one()
    assert (first.kind, first.created_by, first.scope, len(first.report["rows"])) == ("bund", "cli", "", 5)
    db.session.commit()
    with clock.frozen(date(2026, 2, 10)), app.app_context(), app.test_client() as c:
        login(c, "fachadmin_nord")
        assert "Lieferfrist 13.03.2026" in c.get("/worklist/").get_data(as_text=True)
        assert c.get(f"/statistics/snapshot/{first.id}").status_code == 404   # covers Süd too
        a = c.post("/statistics/freeze", data={"kind": "bund", "stichtag": "31.01.2026", "note": "erste Lieferung"})
        b = c.post("/statistics/freeze", data={"kind": "bund", "stichtag": "31.01.2026"})
        ids = [int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1]) for r in (a, b)]
        same = c.get(f"/statistics/compare?a={ids[0]}&b={ids[1]}").get_data(as_text=True)
        assert "Keine Unterschiede" in same
        assert c.post(f"/statistics/submitted/{ids[1]}").status_code == 302
        assert "Lieferfrist" not in c.get("/worklist/").get_data(as_text=True)
        page = c.get(f"/statistics/snapshot/{ids[1]}").get_data(as_text=True)
        assert "geliefert am 10.02.2026" in page and "erste Lieferung" in page
    versions = svc.snapshots(db.session, "bund", date(2026, 1, 31), actor=SYSTEM)
    assert [v.version for v in versions] == [2, 1, 1]   # Nord's two versions and the CLI's one over all units


def test_a_user_of_every_unit_shares_the_citywide_versions(world):
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.services import housing_stats as svc
    every = Actor(name="controlling", units=tuple(db.session.scalars(select(OrgUnit.id))))
    cli = svc.freeze(db.session, "nrw", NRW_DAY, b"k", actor=SYSTEM)
    mine = svc.freeze(db.session, "nrw", NRW_DAY, b"k", actor=every)
    db.session.commit()
    assert (cli.scope, mine.scope, mine.version, mine.scope_label) == ("", "", 2, "alle Dienststellen")
    assert [s.version for s in svc.snapshots(db.session, "nrw", NRW_DAY, actor=every)] == [2, 1]


def test_every_statistics_download_is_in_the_export_history(world, app):
    # #14 follow-up: NRW and Bund downloads, live and frozen, are recorded like the lists' exports.
    from app.core_models import ChangeLog
    from app.extensions import db
    from app.services.xlsx_export import export_history
    before = db.session.scalar(select(func.count()).select_from(ChangeLog).where(ChangeLog.entity == "export"))
    with app.app_context(), app.test_client() as c:
        login(c, "controlling_nord")
        frozen = c.post("/statistics/freeze", data={"kind": "nrw", "stichtag": "30.06.2025"})
        snap_id = int(frozen.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        urls = ["/statistics/download?kind=nrw&stichtag=30.06.2025&format=json",
                "/statistics/download?kind=nrw&stichtag=30.06.2025&format=xlsx",
                "/statistics/download?kind=bund&stichtag=31.01.2026&format=csv",
                "/statistics/download?kind=bund&stichtag=31.01.2026&format=xlsx",
                f"/statistics/download?snapshot={snap_id}&format=xlsx"]
        for url in urls:
            assert c.get(url).status_code == 200, url
    db.session.expire_all()
    recorded = [row for row in export_history(db.session) if row.changed_by == "controlling_nord"][:len(urls)]
    assert len(recorded) == len(urls) == db.session.scalar(
        select(func.count()).select_from(ChangeLog).where(ChangeLog.entity == "export")) - before
    texts = [(row.field, row.new_value) for row in reversed(recorded)]
    assert texts[0][0] == "NRW-Statistik" and "Stichtag 30.06.2025; JSON; aktueller Stand" in texts[0][1]
    assert texts[2][0] == "Bundesstatistik (WoBerichtsG)" and texts[2][1].startswith("4 Zeilen; Stichtag 31.01.2026; CSV")
    assert "eingefrorene Fassung 1" in texts[4][1] and texts[4][1].endswith("-v1.xlsx")
