"""QS 1.1–1.5 from the database: entries at measurement points -> figures; report page, drill-down, isolation.

Base configuration (NW holidays: Pfingstmontag 09.06.2025, Fronleichnam 19.06.2025), period 2nd quarter
2025, report date Tue 01.07.2025. The cases, one rule each:

    N1 nord  lawsuit Mon 02.06., letter Thu 05.06. (3rd working day), visit 10.06. in pairs -> 1.1 met, 1.2 met
    N2 nord  lawsuit 02.06., letter Fri 06.06. (4th), contact 10.06.        -> 1.1 not met, reacted: not in 1.2
    N3 nord  bailiff 02.06., letter 04.06., eviction 20.06. attended        -> 1.3 met, 1.4 met
    N4 nord  lawsuit Mon 30.06., no letter, deadline Thu 03.07. > report date -> 1.1 pending
    N5 nord  contact 10.01.2025 (before the period), eviction 15.06.        -> not in 1.4 (contact before)
    S1 sued  lawsuit 02.06., letter 05.06., no visit by the 10th working day (23.06.) -> 1.1 met, 1.2 not met
    QS 1.5   nord: five standards fulfilled (01.06.); a later "no" (02.07.) lies after the report date.
"""
from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from sqlalchemy import delete, select

from app.actor import Actor
from tests.conftest import login as first_login

FROM, TO, AS_OF = date(2025, 4, 1), date(2025, 6, 30), date(2025, 7, 1)
ARGS = {"from": FROM.isoformat(), "to": TO.isoformat(), "as_of": AS_OF.isoformat()}
FULFILLED = ("shared_email", "shared_phone", "open_consultation", "open_consultation_hours", "uniform_flyer")


@pytest.fixture
def world(ctx, factory):
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.prevention_models import AccessStandard
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    service = registry.model("service")
    services = {s.code: s for s in db.session.scalars(select(service))}

    def case(unit, number):
        person = factory("partner", unit, kind=factory.value("partner_kind", "person"), surname=f"Klient{number}")
        return factory("case", unit, client=person, opened_on=date(2025, 1, 2), file_number=number,
                       status=factory.value("case_status", "open"))

    def entry(the_case, code, day, month=6, year=2025, in_pairs=None):
        return factory("doc_entry", the_case.org_unit.code, case=the_case, service=services[code],
                       entry_date=date(year, month, day), in_pairs=in_pairs)

    cases = {n: case("nord" if n.startswith("N") else "sued", n) for n in ("N1", "N2", "N3", "N4", "N5", "S1")}
    for name, code, day, *more in [
        ("N1", "klage_eingang", 2), ("N1", "einladung_raeumungsklage", 5), ("N1", "hausbesuch", 10, 6, 2025, True),
        ("N2", "klage_eingang", 2), ("N2", "einladung_raeumungsklage", 6), ("N2", "beratung_persoenlich", 10),
        ("N3", "zr_eingang", 2), ("N3", "anschreiben_zwangsraeumung", 4), ("N3", "zr_termin", 20),
        ("N3", "zr_begleitung", 20),
        ("N4", "klage_eingang", 30),
        ("N5", "beratung_telefonisch", 10, 1), ("N5", "zr_termin", 15),
        ("S1", "klage_eingang", 2), ("S1", "einladung_raeumungsklage", 5),
    ]:
        entry(cases[name], code, day, *more)
    nord, sued = (db.session.scalars(select(OrgUnit).where(OrgUnit.code == c)).one() for c in ("nord", "sued"))
    for standard in FULFILLED:
        db.session.add(AccessStandard(org_unit_id=nord.id, standard=standard, fulfilled=True,
                                      confirmed_on=date(2025, 6, 1), confirmed_by="test"))
    db.session.add(AccessStandard(org_unit_id=nord.id, standard="shared_email", fulfilled=False,
                                  confirmed_on=date(2025, 7, 2), confirmed_by="test"))
    db.session.commit()
    yield {"cases": cases, "entry": entry, "nord": nord, "sued": sued}
    db.session.rollback()
    db.session.execute(delete(AccessStandard))
    db.session.commit()


def login(client, user):
    """Switch user: requests share the test's app context, and with it ``g`` and its cached org units."""
    from flask import g
    client.post("/logout/")  # FAB keeps a signed-in session on /login/; sign-out is a POST (#11)
    for name in ("_fs_org_units", "_fs_due_count"):
        g.pop(name, None)
    return first_login(client, user)


def figures(report_json, unit):
    part = report_json["total"] if unit == "total" else report_json["org_units"][unit]
    return {code: (r["numerator"], r["denominator"], r["percent"], r["pending"]) for code, r in part.items()}


EXPECTED = {
    "Fachstelle Nord": {"1.1": (1, 2, 50.0, 1), "1.2": (1, 1, 100.0, 0), "1.3": (1, 1, 100.0, 0),
                        "1.4": (1, 1, 100.0, 0), "1.5": (5, 7, 71.4, 0)},
    "Fachstelle Süd": {"1.1": (1, 1, 100.0, 0), "1.2": (0, 1, 0.0, 0), "1.3": (0, 0, None, 0),
                       "1.4": (0, 0, None, 0), "1.5": (0, 7, 0.0, 0)},
    "total": {"1.1": (2, 3, 66.7, 1), "1.2": (1, 2, 50.0, 0), "1.3": (1, 1, 100.0, 0), "1.4": (1, 1, 100.0, 0),
              "1.5": (5, 14, 35.7, 0)},
}


def report_json(**kwargs):
    from app.extensions import db
    from app.services.indicators import indicator_report
    return indicator_report(db.session, FROM, TO, AS_OF, actor=Actor.system("test"), **kwargs).report.to_json()


def test_entries_at_measurement_points_give_the_figures(world):
    data = report_json()
    assert list(data["org_units"]) == ["Fachstelle Nord", "Fachstelle Süd"]
    for unit, expected in EXPECTED.items():
        assert figures(data, unit) == expected, unit


def test_bounded_load_equals_the_whole_history(world):
    # Only the earliest old contact of an evicted case is read from before the period (N5).
    assert report_json() == report_json(complete=True)


def test_a_later_entry_does_not_change_a_report_as_of_an_earlier_date(world):
    before = report_json()
    world["entry"](world["cases"]["N4"], "einladung_raeumungsklage", 2, 7)  # letter on 02.07., after AS_OF
    assert report_json() == before
    from app.extensions import db
    from app.services.indicators import indicator_report
    later = indicator_report(db.session, FROM, TO, date(2025, 7, 3), actor=Actor.system("test")).report.to_json()
    assert figures(later, "Fachstelle Nord")["1.1"] == (2, 3, 66.7, 0)  # N4 now met (2nd working day)


def test_report_page_in_german_with_dash_for_no_denominator(client, world):
    login(client, "controlling_nord")
    html = client.get("/indicators/?kind=quarter&year=2025&quarter=2&as_of=01.07.2025").get_data(as_text=True)
    assert "Kennzahlen der Prävention" in html and "2. Quartal 2025" in html and "Stichtag 01.07.2025" in html
    assert "Fachstelle Süd" not in html  # a district user sees their district only
    assert "50,0 %" in html and "71,4 %" in html
    assert "<svg" in html and "Juni 2025 · QS 1.1: 50,0 % (1 von 2)" in html
    assert "Sofortiges Tätigwerden bei Räumungsklagen" in html

    login(client, "admin")
    html = client.get("/indicators/?kind=range&from=01.04.2025&to=30.06.2025&as_of=01.07.2025").get_data(as_text=True)
    sued = html.split("<caption>Fachstelle Süd</caption>", 1)[1].split("</table>", 1)[0]
    row_13 = sued.split('<th scope="row">1.3</th>', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'class="text-right fs-pct">–</td>', row_13)
    assert "Alle Bezirke" in html and "66,7 %" in html


@pytest.mark.parametrize(("query", "message"), [
    ("kind=range&from=31.06.2025&to=30.06.2025", "„31.06.2025“ ist kein gültiges Datum"),
    ("kind=range&from=01.07.2025&to=30.06.2025", "liegt vor seinem Beginn"),
    ("kind=year&year=2025&as_of=01.01.2024", "Der Stichtag (01.01.2024) liegt vor dem Beginn"),
    ("kind=range&from=01.04.2025", "bitte „von“ und „bis“ angeben"),
], ids=["bad-date", "end-before-start", "as-of-before", "missing-end"])
def test_bad_period_is_a_german_message(client, world, query, message):
    login(client, "controlling_nord")
    response = client.get(f"/indicators/?{query}")
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def drill(client, **params):
    return client.get("/indicators/cases", query_string={**ARGS, **params})


def test_drill_down_lists_the_cases_behind_a_number(client, world):
    cases = world["cases"]
    login(client, "controlling_nord")
    html = drill(client, unit=world["nord"].id, code="1.1", kind="not_met").get_data(as_text=True)
    assert f'href="/case/show/{cases["N2"].id}"' in html and ">N2<" in html
    assert ">N1<" not in html
    html = drill(client, unit=world["nord"].id, code="1.1", kind="pending").get_data(as_text=True)
    assert ">N4<" in html and "30.06.2025" in html and "offen" in html
    html = drill(client, unit="all", code="1.1", kind="all").get_data(as_text=True)
    assert ">N1<" in html and ">N2<" in html and ">S1<" not in html  # the total of what the user may see
    html = drill(client, unit=world["nord"].id, code="1.5", kind="met").get_data(as_text=True)
    assert "Einheitliche Sammel-Mailadresse" in html and "01.06.2025" in html


def test_drill_down_stays_within_the_users_units(client, world):
    login(client, "controlling_nord")
    assert drill(client, unit=world["sued"].id, code="1.1", kind="met").status_code == 404
    assert drill(client, unit="x", code="1.1", kind="met").status_code == 404
    assert drill(client, unit="all", code="9.9", kind="met").status_code == 404
    login(client, "controlling_sued")
    html = drill(client, unit="all", code="1.1", kind="all").get_data(as_text=True)
    assert ">S1<" in html and ">N1<" not in html and ">N2<" not in html
    login(client, "admin")
    html = drill(client, unit="all", code="1.1", kind="met").get_data(as_text=True)
    assert ">S1<" in html and ">N1<" in html


def test_report_needs_the_permission(client, world):
    login(client, "sachbearbeitung_nord")
    for url in ("/indicators/", "/indicators/cases?" + "&".join(f"{k}={v}" for k, v in ARGS.items())
                + "&unit=all&code=1.1&kind=met", "/access-standards/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert ">N1<" not in response.get_data(as_text=True)


def test_downloads_are_scoped(client, world):
    from openpyxl import load_workbook
    login(client, "controlling_nord")
    data = json.loads(client.get("/indicators/download", query_string={**ARGS, "format": "json"}).data)
    assert list(data["org_units"]) == ["Fachstelle Nord"]
    assert figures(data, "total") == EXPECTED["Fachstelle Nord"]
    response = client.get("/indicators/download", query_string={**ARGS, "format": "xlsx"})
    assert "erhebungsbogen_nord_2025-04-01_2025-06-30.xlsx" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Fachstelle Nord", "_daten"] and wb["_daten"].sheet_state == "hidden"
    csv_text = client.get("/indicators/download", query_string={**ARGS, "format": "csv"}).data.decode("utf-8-sig")
    assert "Fachstelle Nord;1.1;Sofortiges Tätigwerden bei Räumungsklagen;1;2;50,0;1;01.04.2025" in csv_text
    response = client.get("/indicators/success-measures", query_string=ARGS)
    assert response.status_code == 200 and load_workbook(io.BytesIO(response.data)).sheetnames[0] == "Wohnraumerhalt"


def test_access_standards_keep_their_history_and_the_latest_counts(client, world):
    from app.extensions import db
    from app.prevention_models import AccessStandard
    login(client, "teamleitung_nord")
    nord = world["nord"]
    html = client.get("/access-standards/").get_data(as_text=True)
    assert "Einheitlicher Zugang (QS 1.5)" in html and "4 von 7" in html  # today: the "no" of 02.07.2025 counts
    form = {f"std_{code}": "yes" for code in ("shared_email", "uniform_website")}
    form.update(std_shared_phone="no", confirmed_on="01.07.2025", note="Flyer in Arbeit")
    response = client.post(f"/access-standards/confirm/{nord.id}", data=form, follow_redirects=True)
    assert "3 Standard(s) mit Stand 01.07.2025 gespeichert" in response.get_data(as_text=True)
    rows = db.session.scalars(select(AccessStandard).where(AccessStandard.org_unit_id == nord.id)).all()
    assert len(rows) == 9  # 6 before + 3 new: nothing overwritten
    # shared_phone now no, uniform_website now yes: still 5 of 7 as of 01.07.
    assert figures(report_json(), "Fachstelle Nord")["1.5"] == (5, 7, 71.4, 0)
    response = client.post(f"/access-standards/confirm/{nord.id}", data={**form, "confirmed_on": "01.13.2025"},
                           follow_redirects=True)
    assert "ist kein gültiges Datum" in response.get_data(as_text=True)
    assert client.post(f"/access-standards/confirm/{world['sued'].id}", data=form).status_code == 404
    assert client.get(f"/access-standards/?unit={world['sued'].id}").status_code == 404
    assert db.session.scalars(select(AccessStandard).where(AccessStandard.org_unit_id == world["sued"].id)).all() == []


def test_success_measures_count_averted_evictions_and_services(world, factory):
    from app.domain.periods import Period
    from app.extensions import db
    from app.services.success_measures import success_measures
    cases = world["cases"]
    for name, code, closed in (("N1", "erhalt_mietschuld", date(2025, 6, 5)), ("N2", "wohnungsverlust", date(2025, 6, 6)),
                               ("N3", "erhalt_vereinbarung", date(2025, 3, 1)), ("S1", "erhalt_sonstig", date(2025, 5, 1))):
        factory("housing_emergency", cases[name].org_unit.code, case=cases[name], started_on=date(2025, 1, 2),
                closed_on=closed, result=factory.value("case_result", code))
    service = ctx_service(db, "klage_eingang")
    service.product_number = "80635"
    db.session.commit()
    measures = success_measures(db.session, Period(FROM, TO), [world["nord"], world["sued"]], Actor.system("test"))
    nord, sued = measures.outcomes["Fachstelle Nord"], measures.outcomes["Fachstelle Süd"]
    assert (nord.closed, nord.averted, float(nord.percent)) == (2, 1, 50.0)  # N3 closed before the period
    assert (sued.closed, sued.averted) == (1, 1)
    nord_products = {p: (n, c) for unit, p, n, c in measures.products if unit.code == "nord"}
    # nord's 12 entries dated in the period: 3 notices in N1, N2, N4; 9 others in N1, N2, N3, N5.
    assert nord_products == {"80635": (3, 3), "(ohne Produktnummer)": (9, 4)}
    services = {(unit.code, name): n for unit, _p, name, n in measures.services}
    assert services[("nord", "Eingang Mitteilung Räumungsklage")] == 3


def ctx_service(db, code):
    from flask import current_app
    model = current_app.config["FACHSTELLE_REGISTRY"].model("service")
    return db.session.scalars(select(model).where(model.code == code)).one()


def test_drill_down_as_xlsx_has_every_case_of_the_page(client, world):
    # #14: the report's lists export with the one writer, within the user's units.
    import io

    from openpyxl import load_workbook
    login(client, "controlling_nord")
    response = drill(client, unit="all", code="1.1", kind="all", format="xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert sheet["A1"].value.startswith("QS 1.1 ")
    assert [c.value for c in sheet[3]] == ["Eingang der Mitteilung", "Aktenzeichen", "Klient/in", "Dienststelle",
                                            "Ergebnis"]
    numbers = {row[1] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert {"N1", "N2"} <= numbers and "S1" not in numbers
    assert sheet["A4"].number_format == "DD.MM.YYYY"
    standards = load_workbook(io.BytesIO(drill(client, unit=world["nord"].id, code="1.5", kind="met",
                                               format="xlsx").data)).worksheets[0]
    assert standards.cell(4, 2).value == "Einheitliche Sammel-Mailadresse" and standards.cell(4, 3).value == "ja"


def test_report_downloads_are_in_the_export_history(client, world):
    from app.core_models import ChangeLog
    from app.extensions import db
    login(client, "controlling_nord")
    assert client.get("/indicators/download", query_string={**ARGS, "format": "csv"}).status_code == 200
    assert client.get("/indicators/success-measures", query_string=ARGS).status_code == 200
    entries = db.session.query(ChangeLog).filter_by(entity="export", changed_by="controlling_nord").all()
    assert {e.field for e in entries} >= {"Kennzahlen Erhebungsbogen (csv)", "Erfolgsmessung"}
    assert all("Fachstelle Nord" in e.new_value for e in entries)


def test_the_report_is_the_same_after_retention_erased_its_cases(world, factory):
    """#15: cases erased by retention leave their measurement-point events frozen; the report over their
    period (bounded load and whole history alike) gives the same figures before and after ``--apply``."""
    from app.extensions import db
    from app.services.retention import apply
    closed = factory.value("case_status", "closed")
    for name in ("N1", "N3", "N5", "S1"):
        case = world["cases"][name]
        case.closed_on, case.status = date(2025, 7, 1), closed
    db.session.commit()
    before, whole = report_json(), report_json(complete=True)
    report = apply(db.session, date(2031, 1, 1), Actor.system("test"))
    db.session.commit()
    assert report.erased["case"] == 4 and report.erased["doc_entry"] == 11
    assert report_json() == before
    assert report_json(complete=True) == whole
