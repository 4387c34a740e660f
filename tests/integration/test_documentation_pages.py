"""The case's documentation newest first with its filters, the clerk's and team's overview, isolation."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import login


@pytest.fixture
def entries(ctx, factory):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    service = registry.model("service")

    def svc(code):
        return db.session.scalars(select(service).where(service.code == code)).one()

    def user(name):
        return db.session.query(User).filter_by(username=name).one()

    def case(unit, number):
        person = factory("partner", unit, kind=factory.value("partner_kind", "person"), surname=f"Person{number}")
        return factory("case", unit, client=person, opened_on=date(2026, 1, 5), file_number=number,
                       status=factory.value("case_status", "open"))

    nord, nord2, sued = case("nord", "N-1"), case("nord", "N-2"), case("sued", "S-1")
    rows = [
        (nord, "ersterfassung", date(2026, 11, 1), "sachbearbeitung_nord", "Erstgespräch"),
        (nord, "einladung_raeumungsklage", date(2026, 11, 3), "sachbearbeitung_nord", "Einladung raus"),
        (nord, "beratung_telefonisch", date(2026, 11, 4), "sozialarbeit_nord", "Gespräch mit Fr. Wonlos"),
        (nord2, "notiz", date(2026, 11, 5), "sachbearbeitung_nord", "Notiz zweiter Fall"),
        (sued, "notiz", date(2026, 11, 6), "sachbearbeitung_sued", "Geheim Süd"),
    ]
    for the_case, code, on, provider, info in rows:
        factory("doc_entry", the_case.org_unit.code, case=the_case, service=svc(code), entry_date=on,
                provider=user(provider), info=info)
    return {"nord": nord, "nord2": nord2, "sued": sued, "svc": svc}


def infos(html: str) -> list[str]:
    body = html.split("fs-documentation", 1)[1].split("</table>", 1)[0]
    return [m.strip() for m in re.findall(r"<td>([^<]*)</td>\s*<td class=\"fs-doc-text\">", body)]


def test_case_documentation_newest_first(client, entries):
    login(client, "sachbearbeitung_nord")
    html = client.get(f"/documentation/case/{entries['nord'].id}").get_data(as_text=True)
    assert infos(html) == ["Gespräch mit Fr. Wonlos", "Einladung raus", "Erstgespräch"]


@pytest.mark.parametrize(("query", "expected"), [
    ("from=03.11.2026", ["Gespräch mit Fr. Wonlos", "Einladung raus"]),
    ("to=03.11.2026", ["Einladung raus", "Erstgespräch"]),
    ("from=02.11.2026&to=03.11.2026", ["Einladung raus"]),
], ids=["from", "to", "range"])
def test_case_documentation_date_filters(client, entries, query, expected):
    login(client, "sachbearbeitung_nord")
    assert infos(client.get(f"/documentation/case/{entries['nord'].id}?{query}").get_data(as_text=True)) == expected


def test_filter_by_provider_group_and_service(client, entries, factory):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    base = f"/documentation/case/{entries['nord'].id}"
    colleague = db.session.query(User).filter_by(username="sozialarbeit_nord").one()
    assert infos(client.get(f"{base}?provider={colleague.id}").get_data(as_text=True)) == ["Gespräch mit Fr. Wonlos"]
    group = factory.value("service_group", "korrespondenz")
    assert infos(client.get(f"{base}?group={group.id}").get_data(as_text=True)) == ["Einladung raus"]
    service = entries["svc"]("ersterfassung")
    assert infos(client.get(f"{base}?service={service.id}").get_data(as_text=True)) == ["Erstgespräch"]


def test_bad_filter_date_is_a_german_message(client, entries):
    login(client, "sachbearbeitung_nord")
    html = client.get(f"/documentation/case/{entries['nord'].id}?from=31.02.2026").get_data(as_text=True)
    assert "kein gültiges Datum" in html


def test_overview_mine_and_team(client, entries):
    login(client, "sachbearbeitung_nord")
    mine = infos(client.get("/documentation/").get_data(as_text=True))
    assert mine == ["Notiz zweiter Fall", "Einladung raus", "Erstgespräch"]
    team = infos(client.get("/documentation/?scope=team").get_data(as_text=True))
    assert team == ["Notiz zweiter Fall", "Gespräch mit Fr. Wonlos", "Einladung raus", "Erstgespräch"]


def test_other_unit_sees_nothing(client, entries):
    login(client, "sachbearbeitung_sued")
    assert client.get(f"/documentation/case/{entries['nord'].id}").status_code == 404
    team = client.get("/documentation/?scope=team").get_data(as_text=True)
    assert infos(team) == ["Geheim Süd"]


def test_case_page_links_to_its_documentation(client, entries):
    login(client, "sachbearbeitung_nord")
    html = client.get(f"/case/show/{entries['nord'].id}").get_data(as_text=True)
    assert f"/documentation/case/{entries['nord'].id}" in html
    assert "Falldokumentation" in html


def test_case_page_links_to_its_letters(client, entries):
    login(client, "sachbearbeitung_nord")
    html = client.get(f"/case/show/{entries['nord'].id}").get_data(as_text=True)
    assert f"/letters/case/{entries['nord'].id}" in html
    assert client.get(f"/letters/case/{entries['nord'].id}").status_code == 200
