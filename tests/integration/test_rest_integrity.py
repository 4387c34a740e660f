"""REST integrity (#11 item 6): catalogue fields take only their own catalogue's active values, staff pickers
only colleagues of the user's units — in REST and forms through one check of the field kind — and ``_info``
offers only those, with German descriptions."""
from __future__ import annotations

import json
from datetime import date

from tests.conftest import login


def _case_body(factory, **extra):
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Katalog")
    return {"client": person.id, "opened_on": "2026-03-02", "file_number": "2026/K1",
            "status": factory.value("case_status", "open").id, **extra}


def test_rest_refuses_a_value_of_another_catalogue(client, factory):
    login(client, "sachbearbeitung_nord")
    person_kind = factory.value("partner_kind", "person")
    wrong = client.post("/api/v1/case/", json=_case_body(factory, status=person_kind.id))
    assert wrong.status_code == 422, wrong.get_data(as_text=True)
    assert "gehört nicht zum Katalog" in wrong.get_json()["message"]["status"][0]
    unknown = client.post("/api/v1/case/", json=_case_body(factory, status=99999999))
    assert unknown.status_code == 422
    right = client.post("/api/v1/case/", json=_case_body(factory))
    assert right.status_code == 201, right.get_data(as_text=True)
    pk = right.get_json()["id"]
    moved = client.put(f"/api/v1/case/{pk}", json={"status": person_kind.id})
    assert moved.status_code == 422
    assert client.get(f"/api/v1/case/{pk}").get_json()["result"]["status"]["code"] == "open"


def test_multichoice_and_inactive_values(client, factory):
    from app.extensions import db
    login(client, "sozialarbeit_nord")
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Mehrfach")
    case = factory("case", "nord", client=person, opened_on=date(2026, 3, 2), file_number="2026/M1",
                   status=factory.value("case_status", "open"))
    alcohol, wrong = factory.value("addiction", "alkohol"), factory.value("case_status", "open")
    refused = client.post("/api/v1/social_situation/", json={"case": case.id, "person": person.id,
                                                             "addiction": [alcohol.id, wrong.id]})
    assert refused.status_code == 422, refused.get_data(as_text=True)
    made = client.post("/api/v1/social_situation/", json={"case": case.id, "person": person.id,
                                                          "addiction": [alcohol.id]})
    assert made.status_code == 201, made.get_data(as_text=True)
    closed = factory.value("case_status", "open")
    closed.active = False
    db.session.commit()
    try:
        # Kept on the record that holds it; not chosen anew.
        assert client.put(f"/api/v1/case/{case.id}", json={"status": closed.id, "info": "x"}).status_code == 200
        again = client.post("/api/v1/case/", json=_case_body(factory))
        assert again.status_code == 422 and "deaktiviert" in again.get_json()["message"]["status"][0]
    finally:
        closed.active = True
        db.session.commit()


def test_forms_refuse_another_catalogues_value(client, factory):
    # A crafted form post with another catalogue's value id: the form offers (and accepts) only the field's
    # catalogue (the kind's form_query), so nothing is saved and the form comes back.
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    body = _case_body(factory, status=factory.value("partner_kind", "person").id, opened_on="02.03.2026")
    response = client.post("/case/add", data=body)
    assert response.status_code == 200 and "Dieses Feld wird benötigt" in response.get_data(as_text=True)
    model = client.application.config["FACHSTELLE_REGISTRY"].model("case")
    assert db.session.query(model).filter_by(file_number="2026/K1").count() == 0


def test_the_kinds_check_for_forms_and_rest(factory):
    # The one check behind both paths: the WTForms validator and the REST validator of the kind.
    import pytest
    from marshmallow import ValidationError
    from wtforms.validators import StopValidation

    from app.metamodel.kinds import kind_of
    from flask import current_app
    f = current_app.config["FACHSTELLE_SPEC"].entity("case").field("status")
    kind = kind_of(f)
    right, wrong = factory.value("case_status", "open"), factory.value("partner_kind", "person")
    assert kind.value_problem(f, right) is None
    assert "gehört nicht zum Katalog" in kind.value_problem(f, wrong)
    form_check = kind.validators(f)[-1]
    with pytest.raises(StopValidation):
        form_check(None, type("Field", (), {"data": wrong, "object_data": None})())
    form_check(None, type("Field", (), {"data": right, "object_data": None})())
    with pytest.raises(ValidationError):
        kind.api_validator(f)(wrong)


def test_provider_must_be_a_colleague(client, factory):
    from app.extensions import db
    from app.web.fab_compat import create_builtin_roles  # noqa: F401  (the app has its users already)
    from flask_appbuilder.security.sqla.models import User
    login(client, "sachbearbeitung_nord")
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Erbringer")
    case = factory("case", "nord", client=person, opened_on=date(2026, 3, 2), file_number="2026/E1",
                   status=factory.value("case_status", "open"))
    service = client.get("/api/v1/service/").get_json()["result"][0]["id"]
    sued = db.session.query(User).filter_by(username="sachbearbeitung_sued").one()
    nord = db.session.query(User).filter_by(username="sozialarbeit_nord").one()
    body = {"case": case.id, "service": service, "entry_date": "2026-11-02"}
    refused = client.post("/api/v1/doc_entry/", json={**body, "provider": sued.id})
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert "keiner Ihrer Dienststellen" in refused.get_json()["message"]["provider"][0]
    made = client.post("/api/v1/doc_entry/", json={**body, "provider": nord.id})
    assert made.status_code == 201, made.get_data(as_text=True)


def test_info_offers_own_catalogue_and_colleagues_with_german_descriptions(client):
    login(client, "sachbearbeitung_nord")
    info = client.get("/api/v1/doc_entry/_info").get_json()
    provider_ids = {v["id"] for f in info["add_columns"] if f["name"] == "provider" for v in f["values"]}
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db as _db
    offered = _db.session.query(User).filter(User.id.in_(provider_ids)).all()
    assert offered and all(u.active and "nord" in {unit.code for unit in u.org_units} for u in offered
                           if u.username != "admin"), [(u.username, [x.code for x in u.org_units]) for u in offered]
    case_info = client.get("/api/v1/case/_info").get_json()
    status = next(f for f in case_info["add_columns"] if f["name"] == "status")
    ids = {v["id"] for v in status["values"]}
    from app.core_models import CatalogueValue
    from app.extensions import db
    catalogues = {c for (c,) in db.session.query(CatalogueValue.catalogue).filter(CatalogueValue.id.in_(ids))}
    assert catalogues == {"case_status"}
    text = json.dumps(case_info, ensure_ascii=False)
    assert "Project-Id-Version" not in text and "Content-Type: text/plain" not in text
    assert all(f["description"] for f in case_info["add_columns"]), case_info["add_columns"]
