"""The clerk's path through the generated forms: partner, case file, Wohnungsnotfall page, history."""
from __future__ import annotations

import re

from tests.conftest import login


def _id_from(location: str) -> int:
    return int(re.search(r"/(\d+)$", location.rstrip("/")).group(1))


def test_clerk_creates_partner_case_and_emergency_page(client, factory):
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person")
    response = client.post("/partner/add", data={"kind": kind.id, "surname": "Wonlos", "first_name": "Günther",
                                                 "birth_date": "13.05.1969"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    from app.extensions import db
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    Partner = registry.model("partner")
    partner = db.session.query(Partner).filter_by(surname="Wonlos").one()
    assert partner.birth_date.isoformat() == "1969-05-13"
    assert partner.org_unit.code == "nord"
    assert partner.surname_phon

    status = factory.value("case_status", "open")
    response = client.post("/case/add", data={"client": partner.id, "opened_on": "01.11.2026", "status": status.id,
                                              "file_number": "2026/0001"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    case = db.session.query(registry.model("case")).filter_by(file_number="2026/0001").one()
    assert case.org_unit.code == "nord"

    threat = factory.value("threat_type", "raeumungsklage")
    response = client.post(f"/housing-emergency/add?_flt_0_case={case.id}",
                           data={"started_on": "01.11.2026", "threatened_by": threat.id, "eviction_date": "15.12.2026",
                                 "rent_arrears": "2345.67"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = db.session.query(registry.model("housing_emergency")).filter_by(case_id=case.id).one()
    assert str(page.rent_arrears) == "2345.67"

    show = client.get(f"/case/show/{case.id}").get_data(as_text=True)
    assert "Wohnungsnotfall" in show and "Räumungsklage" in show
    page_html = client.get(f"/housing-emergency/show/{page.id}").get_data(as_text=True)
    assert "2.345,67 €" in page_html and "15.12.2026" in page_html

    client.post(f"/partner/edit/{partner.id}", data={"kind": kind.id, "surname": "Wonlos", "first_name": "Günter",
                                                     "birth_date": "13.05.1969"})
    history = client.get(f"/partner/show/{partner.id}").get_data(as_text=True)
    assert "Änderungsverlauf" in history and "Günther" in history and "Günter" in history


def test_bad_date_is_a_german_message_and_keeps_the_input(client, factory):
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person")
    response = client.post("/partner/add", data={"kind": kind.id, "surname": "Beispiel", "birth_date": "31.02.1980"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "kein gültiges Datum" in body
    assert "31.02.1980" in body and "Beispiel" in body
