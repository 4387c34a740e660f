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


def _option_labels(form: str, name: str) -> list[str]:
    import re
    box = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', form, re.S).group(1)
    return [label for value, label in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', box)
            if value != "__None"]


def test_select_boxes_keep_the_catalogue_order_and_list_colleagues_by_name(client, factory):
    # PostgreSQL returns unordered rows in heap order, where an updated row moves to the end: a renamed value
    # or a colleague who just logged in would jump around in the box.
    from app.core_models import CatalogueValue
    from app.extensions import db
    login(client, "admin")
    values = db.session.query(CatalogueValue).filter_by(catalogue="address_kind", active=True).all()
    assert len(values) >= 2
    first = min(values, key=lambda value: (value.sort, value.label))
    # The admin moves the first value to the end, then renames the (new) first one: the order is the catalogue's.
    client.post(f"/catalogues/edit/{first.id}", data={"label": first.label, "sort": "999", "active": "y"})
    new_first = min((value for value in values if value.id != first.id), key=lambda value: (value.sort, value.label))
    moved_label, renamed_label = first.label, f"{new_first.label} (neu)"
    client.post(f"/catalogues/edit/{new_first.id}", data={"label": renamed_label, "sort": str(new_first.sort),
                                                          "active": "y"})
    db.session.expire_all()
    expected = [str(value) for value in sorted(
        db.session.query(CatalogueValue).filter_by(catalogue="address_kind", active=True),
        key=lambda value: (value.sort, value.label, value.id))]
    partner = _partner(factory)
    form = client.get(f"/address/add?_flt_0_partner={partner.id}").get_data(as_text=True)
    labels = _option_labels(form, "kind")
    assert labels == expected and labels[0] == renamed_label and labels[-1] == moved_label

    login(client, "sachbearbeitung_nord")
    colleagues = _option_labels(client.get("/case/add").get_data(as_text=True), "clerk_user")
    assert len(colleagues) >= 2 and colleagues == sorted(colleagues, key=str.lower)
