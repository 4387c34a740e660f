"""Two clerks save the same case: the later save over an older version is refused (issue #10, finding 2).

Before, A changed "Info", B (who had opened the form before A saved) changed the legacy number, both
saved; the form sends every field back, so B's save silently undid A's change. Now B is told who changed
what and when, and B's input stays in the form. Each clerk has a client of their own (``user_client``,
no shared ``g``); the records are made in an app context of their own.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import purge_entity_rows

A, B = "sachbearbeitung_nord", "sozialarbeit_nord"
INFO_A = "Vermieterin ruft am Montag zurück"
REF_B = "ALT-0815"


@pytest.fixture
def case(app):
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.history import acting_as

    registry = app.config["FACHSTELLE_REGISTRY"]
    with app.app_context():
        def value(catalogue, code):
            return db.session.scalars(select(CatalogueValue).filter_by(catalogue=catalogue, code=code)).one()
        nord = db.session.scalars(select(OrgUnit).filter_by(code="nord")).one()
        partner = registry.model("partner")(kind=value("partner_kind", "person"), surname="Wonlos", org_unit_id=nord.id)
        record = registry.model("case")(client=partner, file_number="2026/0001", status=value("case_status", "open"),
                                        opened_on=__import__("datetime").date(2026, 1, 5), org_unit_id=nord.id)
        with acting_as("test"):
            db.session.add_all([partner, record])
            db.session.commit()
        made = SimpleNamespace(id=record.id, client_id=partner.id, status_id=record.status_id)
        db.session.remove()
    yield made
    purge_entity_rows(app)


def _stored(app, case_id: int):
    from app.extensions import db
    with app.app_context():
        record = db.session.get(app.config["FACHSTELLE_REGISTRY"].model("case"), case_id)
        values = SimpleNamespace(info=record.info, external_ref=record.external_ref, version=record.version)
        db.session.remove()
    return values


def _version_in(page: str) -> int:
    match = re.search(r'<input id="version" name="version" type="hidden" value="(\d+)">', page)
    assert match, "the edit form carries no version"
    return int(match.group(1))


def _form(case, version: int, **changes) -> dict:
    data = {"client": case.client_id, "file_number": "2026/0001", "opened_on": "05.01.2026", "closed_on": "",
            "status": case.status_id, "clerk": "", "external_ref": "", "info": "", "version": str(version)}
    data.update(changes)
    return data


def test_the_later_save_over_an_older_version_is_refused_and_keeps_the_input(app, case, user_client):
    clerk_a, clerk_b = user_client(A), user_client(B)
    opened_a = _version_in(clerk_a.get(f"/case/edit/{case.id}").get_data(as_text=True))
    opened_b = _version_in(clerk_b.get(f"/case/edit/{case.id}").get_data(as_text=True))
    assert opened_a == opened_b == 1

    saved = clerk_a.post(f"/case/edit/{case.id}", data=_form(case, opened_a, info=INFO_A))
    assert saved.status_code == 302
    assert _stored(app, case.id).version == 2

    refused = clerk_b.post(f"/case/edit/{case.id}", data=_form(case, opened_b, external_ref=REF_B))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    message = re.search(r"Dieser Datensatz wurde inzwischen von (.*?) am (\d\d\.\d\d\.\d{4}) um (\d\d:\d\d) "
                        r"geändert\.", page)
    assert message and A in message.group(1)
    assert f"Info: (leer) → „{INFO_A}“" in page  # what A changed, label: old → new
    assert f'value="{REF_B}"' in page  # what B typed is still in the form
    assert _version_in(page) == 2  # saving again (after checking) is B's deliberate choice
    stored = _stored(app, case.id)
    assert (stored.info, stored.external_ref or None, stored.version) == (INFO_A, None, 2)  # A's change is kept

    # B keeps A's note and adds the legacy number: now B's save goes through.
    again = clerk_b.post(f"/case/edit/{case.id}", data=_form(case, 2, info=INFO_A, external_ref=REF_B))
    assert again.status_code == 302
    stored = _stored(app, case.id)
    assert (stored.info, stored.external_ref, stored.version) == (INFO_A, REF_B, 3)


def test_a_form_without_version_saves_as_before(app, case, user_client):
    data = _form(case, 1, info="ohne Version")
    del data["version"]
    assert user_client(A).post(f"/case/edit/{case.id}", data=data).status_code == 302
    assert _stored(app, case.id).info == "ohne Version"


def test_rest_put_with_an_older_version_answers_409_in_german(app, case, user_client):
    clerk_a, clerk_b = user_client(A), user_client(B)
    url = f"/api/v1/case/{case.id}"
    seen_a = clerk_a.get(url).get_json()["result"]["version"]
    seen_b = clerk_b.get(url).get_json()["result"]["version"]
    assert seen_a == seen_b == 1

    saved = clerk_a.put(url, json={"info": INFO_A, "version": seen_a})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["version"] == 2  # the version to send with the next PUT

    refused = clerk_b.put(url, json={"external_ref": REF_B, "version": seen_b})
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["message"].startswith("Dieser Datensatz wurde inzwischen von ")
    assert f"Info: (leer) → „{INFO_A}“" in body["message"]
    assert body["version"] == 2
    assert [(c["field"], c["label"], c["old"], c["new"]) for c in body["changes"]] == [("info", "Info", None, INFO_A)]
    assert A in body["changes"][0]["changed_by"]
    assert _stored(app, case.id).external_ref is None

    bad = clerk_b.put(url, json={"external_ref": REF_B, "version": "zwei"})
    assert bad.status_code == 400 and "ganze Zahl" in bad.get_json()["message"]
    # Without a version the PUT saves as before (clients written before the version existed).
    assert clerk_b.put(url, json={"external_ref": REF_B}).status_code == 200
    stored = _stored(app, case.id)
    assert (stored.info, stored.external_ref, stored.version) == (INFO_A, REF_B, 3)


@pytest.mark.parametrize("path", ["form", "rest"])
def test_a_save_between_check_and_commit_is_refused_by_the_database(app, case, user_client, monkeypatch, path):
    # Another worker saves after this request compared the versions, before it commits: the UPDATE carries
    # the version the client sent and matches no row; the answer is the same refusal, nothing is overwritten.
    from app.services import conflicts
    from app.web import entity_api, entity_view

    module = entity_view if path == "form" else entity_api
    calls = []

    def check_too_early(session, entity_name, record, seen_version):
        calls.append(seen_version)
        if len(calls) == 1:  # the first look still saw version 1: A's save comes in right after it
            assert user_client(A).post(f"/case/edit/{case.id}", data=_form(case, 1, info=INFO_A)).status_code == 302
            return None
        return conflicts.find_conflict(session, entity_name, record, seen_version)

    monkeypatch.setattr(module, "find_conflict", check_too_early)
    clerk_b = user_client(B)
    if path == "form":
        refused = clerk_b.post(f"/case/edit/{case.id}", data=_form(case, 1, external_ref=REF_B))
        text = refused.get_data(as_text=True)
        assert "Database Error" not in text and "Datenbankfehler" not in text
        assert f'value="{REF_B}"' in text and _version_in(text) == 2
    else:
        refused = clerk_b.put(f"/api/v1/case/{case.id}", json={"external_ref": REF_B, "version": 1})
        text = refused.get_json()["message"]
    assert refused.status_code == 409
    assert f"Info: (leer) → „{INFO_A}“" in text
    stored = _stored(app, case.id)
    assert (stored.info, stored.external_ref or None, stored.version) == (INFO_A, None, 2)


def test_several_saves_in_between_each_say_whose_and_when(app, case, user_client):
    url = f"/api/v1/case/{case.id}"
    assert user_client(A).put(url, json={"info": INFO_A, "version": 1}).status_code == 200
    with app.app_context():  # #11: "Sachbearbeitung" is a user account now (the old free text is read-only)
        lead_id = app.appbuilder.sm.find_user(username="teamleitung_nord").id
    assert user_client("teamleitung_nord").put(url, json={"clerk_user": lead_id, "version": 2}).status_code == 200
    refused = user_client(B).put(url, json={"external_ref": REF_B, "version": 1})
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    headline = message.split(" geändert.")[0]
    assert headline.startswith("Dieser Datensatz wurde inzwischen von ") and "teamleitung_nord" in headline  # the last
    assert re.search(rf"Info: \(leer\) → „{INFO_A}“ \({A}, \d\d\.\d\d\.\d{{4}} \d\d:\d\d\)", message), message
    assert re.search(r"Sachbearbeitung: \(leer\) → „[^“]+“ \(teamleitung_nord, ", message), message
