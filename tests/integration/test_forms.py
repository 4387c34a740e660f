"""Generated forms: German validation messages, input kept, catalogues editable while running, OpenAPI."""
from __future__ import annotations

from tests.conftest import login


def _partner(factory, unit="nord", **values):
    values.setdefault("kind", factory.value("partner_kind", "person"))
    values.setdefault("surname", "Muster")
    return factory("partner", unit, **values)


def test_money_out_of_range_is_refused_in_german_and_input_kept(client, factory):
    login(client, "sachbearbeitung_nord")
    partner = _partner(factory)
    case = factory("case", "nord", client=partner, opened_on=__import__("datetime").date(2026, 1, 5),
                   status=factory.value("case_status", "open"))
    response = client.post(f"/housing-emergency/add?_flt_0_case={case.id}",
                           data={"started_on": "05.01.2026", "rent_arrears": "-5", "info": "Mieter meldet sich"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Wert muss zwischen 0 und 1000000 liegen." in body
    assert "Mieter meldet sich" in body  # nothing the clerk typed is lost


def test_regex_and_required_messages(client, factory):
    login(client, "sachbearbeitung_nord")
    partner = _partner(factory)
    response = client.post(f"/address/add?_flt_0_partner={partner.id}",
                           data={"kind": factory.value("address_kind", "main").id, "street": "",
                                 "postcode": "12A45", "city": "Musterstadt"})
    body = response.get_data(as_text=True)
    assert "Pflichtfeld: bitte ausfüllen." in body
    assert "Ungültiges Format für „PLZ“." in body
    assert "12A45" in body


def test_catalogue_value_added_by_admin_is_offered_without_restart(client, factory):
    login(client, "admin")
    response = client.post("/catalogues/add", data={"catalogue": "person_group", "code": "jugendliche",
                                                    "label": "Junge Erwachsene", "sort": "99", "active": "y"})
    assert response.status_code == 302
    form = client.get("/partner/add").get_data(as_text=True)
    assert "Junge Erwachsene" in form
    # Retired values keep their meaning on old records but are no longer offered.
    from app.core_models import CatalogueValue
    from app.extensions import db
    value = db.session.query(CatalogueValue).filter_by(catalogue="person_group", code="jugendliche").one()
    partner = _partner(factory, person_group=value)
    client.post(f"/catalogues/edit/{value.id}", data={"label": "Junge Erwachsene", "sort": "99"})
    assert "Junge Erwachsene" not in client.get("/partner/add").get_data(as_text=True)
    assert "Junge Erwachsene" in client.get(f"/partner/show/{partner.id}").get_data(as_text=True)


def test_catalogue_values_cannot_be_deleted(client):
    login(client, "admin")
    from app.core_models import CatalogueValue
    from app.extensions import db
    value = db.session.query(CatalogueValue).filter_by(catalogue="sex", code="female").one()
    client.post(f"/catalogues/delete/{value.id}")
    client.get(f"/catalogues/delete/{value.id}")
    db.session.expire_all()
    assert db.session.get(CatalogueValue, value.id) is not None


def test_openapi_lists_every_entity(client):
    login(client, "admin")
    response = client.get("/api/v1/_openapi")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    for em in registry:
        assert f"/api/v1/{em.spec.name}/" in paths


def test_rest_create_and_read_partner(client, factory):
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person")
    response = client.post("/api/v1/partner/", json={"kind": kind.id, "surname": "Rest", "first_name": "Rita",
                                                     "birth_date": "1980-02-03"})
    assert response.status_code == 201, response.get_json()
    pk = response.get_json()["id"]
    got = client.get(f"/api/v1/partner/{pk}").get_json()["result"]
    assert got["surname"] == "Rest" and got["birth_date"] == "1980-02-03"
    assert got["created_by"] == "sachbearbeitung_nord"


def test_rest_speaks_the_yamls_german(client, factory):
    # Labels, titles and help texts of the REST answers are the YAML's, as on the HTML pages.
    login(client, "sachbearbeitung_nord")
    listed = client.get("/api/v1/partner/").get_json()
    assert listed["label_columns"]["birth_date"] == "Geburtsdatum" and listed["label_columns"]["kind"] == "Partnerart"
    assert listed["list_title"] == "Partner"
    assert listed["description_columns"]["surname"].startswith("Bei Institutionen")
    partner = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Etikett")
    shown = client.get(f"/api/v1/partner/{partner.id}").get_json()
    assert shown["label_columns"]["created_by"] == "angelegt von" and shown["show_title"] == "Partner"
    info = client.get("/api/v1/case/_info").get_json()
    assert info["add_title"] == "Fallakte anlegen"
    assert {f["name"]: f["label"] for f in info["add_columns"]}["file_number"] == "Aktenzeichen"
