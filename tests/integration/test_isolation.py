"""Org-unit isolation: a user of unit ``nord`` reaches no record of unit ``sued`` on any path.

Every read path (list, show, edit form, related lists, REST list/get and its filters and ``_info``,
type-ahead, duplicate check, history, search) and every write that names a ``sued`` record (form
field, REST body, parent from the URL) is tried; each must answer 403/404 or an empty result, never
the record's data, and write nothing. Shared institutions (no org unit) are visible to both units,
Admin sees all. The GDPR Art. 9 page "Soziale Situation" stays closed to profiles without it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import prison
import pytest
from sqlalchemy import func, select

from app.web.build_roles import LEVEL_ACTIONS
from tests.conftest import purge_entity_rows

NORD = "sachbearbeitung_nord"
SUED = "sachbearbeitung_sued"
DENIED = (403, 404)


@dataclass
class World:
    ids: dict[str, int]
    codes: dict[tuple[str, str], int]  # (catalogue, code) -> catalogue value id


# Every text below is unique, so finding it in a body means the record leaked.
SUED_TEXTS = ("Suedmann", "Suedgasse", "sued@example.org", "SUED-0001", "SUEDX-0002", "Suednotfall",
              "Suedsozial", "Seppel")


@pytest.fixture(scope="module")
def world(app):
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.history import acting_as
    registry = app.config["FACHSTELLE_REGISTRY"]
    ids: dict[str, int] = {}
    with app.app_context(), acting_as("test"):
        units = dict(db.session.execute(select(OrgUnit.code, OrgUnit.id)).all())
        codes = {(c, k): i for c, k, i in db.session.execute(
            select(CatalogueValue.catalogue, CatalogueValue.code, CatalogueValue.id)).all()}

        def make(key, entity, unit, **values):
            model = registry.model(entity)
            record = model(**values)
            record.org_unit_id = units[unit] if unit else None
            db.session.add(record)
            db.session.commit()
            ids[key] = record.id
            return record

        person, institution = codes[("partner_kind", "person")], codes[("partner_kind", "institution")]
        open_ = codes[("case_status", "open")]
        make("N", "partner", "nord", kind_id=person, surname="Nordmann", first_name="Nils",
             birth_date=date(1970, 2, 1))
        s = make("S", "partner", "sued", kind_id=person, surname="Suedmann", first_name="Sepp",
                 birth_date=date(1975, 4, 3))
        make("I", "partner", None, kind_id=institution, surname="Amtsgericht Gemeinsam")
        make("SA", "address", "sued", partner_id=ids["S"], kind_id=codes[("address_kind", "main")],
             street="Suedgasse", house_number="7")
        make("SK", "contact", "sued", partner_id=ids["S"], channel_id=codes[("contact_channel", "email")],
             value="sued@example.org")
        make("SC", "case", "sued", client_id=ids["S"], file_number="SUED-0001", opened_on=date(2026, 1, 5),
             status_id=open_, info="Suedakte")
        make("SX", "case", "sued", client_id=ids["N"], file_number="SUEDX-0002", opened_on=date(2026, 1, 6),
             status_id=open_)
        make("NC", "case", "nord", client_id=ids["N"], file_number="NORD-0001", opened_on=date(2026, 1, 7),
             status_id=open_)
        make("SH", "housing_emergency", "sued", case_id=ids["SC"], started_on=date(2026, 1, 5), info="Suednotfall")
        make("NH", "housing_emergency", "nord", case_id=ids["NC"], started_on=date(2026, 1, 7), info="Nordnotfall")
        make("SS", "social_situation", "sued", case_id=ids["SC"], person_id=ids["S"], info="Suedsozial")
        make("NS", "social_situation", "nord", case_id=ids["NC"], person_id=ids["N"], info="Nordsozial")
        s.first_name = "Seppel"  # a change in the history of a sued record
        db.session.commit()
        db.session.remove()
    yield World(ids, codes)
    purge_entity_rows(app)


def count(app, entity: str, **where) -> int:
    from app.extensions import db
    with app.app_context():
        model = app.config["FACHSTELLE_REGISTRY"].model(entity)
        query = select(func.count()).select_from(model).filter_by(**where)
        value = db.session.scalar(query)
        db.session.remove()
    return value


def column(app, entity: str, record_id: int, name: str):
    from app.extensions import db
    with app.app_context():
        row = db.session.get(app.config["FACHSTELLE_REGISTRY"].model(entity), record_id)
        value = None if row is None else getattr(row, name)
        db.session.remove()
    return value


def assert_no_sued_data(response) -> None:
    body = response.get_data(as_text=True)
    leaked = [text for text in SUED_TEXTS if text in body]
    assert not leaked, f"{leaked} in {response.request.path}: {body[:400]}"


# --- reading ---------------------------------------------------------------------------------------

LISTS = [
    ("/partner/list/", "Suedmann"), ("/address/list/", "Suedgasse"), ("/contact/list/", "sued@example.org"),
    ("/case/list/", "SUED-0001"), ("/api/v1/partner/", "Suedmann"), ("/api/v1/address/", "Suedgasse"),
    ("/api/v1/contact/", "sued@example.org"), ("/api/v1/case/", "SUED-0001"),
    ("/api/v1/housing_emergency/", "Suednotfall"),
    ("/partner/list/?_flt_0_surname=suedm", "Suedmann"),  # search form: "beginnt mit"
    ("/case/list/?_flt_0_file_number=SUED", "SUED-0001"),
    ("/api/v1/case/?q=" + prison.dumps({"filters": [{"col": "file_number", "opr": "sw", "value": "SUED"}]}),
     "SUED-0001"),
    ("/typeahead/partner?q=suedmann", "Suedmann"), ("/typeahead/case?q=sued", "SUED-0001"),
    ("/typeahead/address?q=suedg", "Suedgasse"),
    ("/partner-duplicates?surname=Suedmann&first_name=Seppel&birth_date=03.04.1975", "Suedmann"),
    ("/api/v1/case/_info", "Suedmann"),  # choices of the "Klient/in" reference
]


@pytest.mark.parametrize(("path", "text"), LISTS, ids=[p for p, _ in LISTS])
def test_lists_and_lookups_hide_the_other_unit(world, user_client, path, text):
    own = user_client(SUED).get(path)
    assert own.status_code == 200 and text in own.get_data(as_text=True), "Gegenprobe: sued sieht den Datensatz"
    response = user_client(NORD).get(path)
    assert response.status_code == 200
    assert_no_sued_data(response)


RELATION_FILTERS = [
    ("case", "client", "S"), ("address", "partner", "S"), ("housing_emergency", "case", "SC"),
]


@pytest.mark.parametrize(("entity", "col", "key"), RELATION_FILTERS, ids=[f"{e}.{c}" for e, c, _ in RELATION_FILTERS])
def test_filters_by_a_hidden_parent_find_nothing(world, user_client, entity, col, key):
    client = user_client(NORD)
    parent = world.ids[key]
    html = client.get(f"/{entity.replace('_', '-')}/list/?_flt_0_{col}={parent}")
    assert html.status_code == 200
    assert_no_sued_data(html)
    q = prison.dumps({"filters": [{"col": col, "opr": "rel_o_m", "value": parent}]})
    rest = client.get(f"/api/v1/{entity}/?q={q}")
    assert rest.status_code == 200 and rest.json["count"] == 0
    assert_no_sued_data(rest)


RECORDS = [("partner", "S"), ("address", "SA"), ("contact", "SK"), ("case", "SC"), ("housing_emergency", "SH")]


@pytest.mark.parametrize(("entity", "key"), RECORDS, ids=[e for e, _ in RECORDS])
def test_records_of_the_other_unit_are_not_found_by_id(app, world, user_client, entity, key):
    client = user_client(NORD)
    record_id = world.ids[key]
    route = "/" + entity.replace("_", "-")
    for path in (f"{route}/show/{record_id}", f"{route}/edit/{record_id}", f"/api/v1/{entity}/{record_id}"):
        response = client.get(path)
        assert response.status_code in DENIED, path
        assert_no_sued_data(response)
    assert user_client(SUED).get(f"{route}/show/{record_id}").status_code == 200  # Gegenprobe

    before = column(app, entity, record_id, "updated_at")
    attempts = [client.post(f"{route}/edit/{record_id}", data={"info": "von nord"}),
                client.put(f"/api/v1/{entity}/{record_id}", json={}),
                client.post(f"{route}/delete/{record_id}"),
                client.delete(f"/api/v1/{entity}/{record_id}")]
    for response in attempts:
        assert response.status_code in DENIED, (response.request.method, response.request.path, response.status_code)
        assert_no_sued_data(response)
    assert count(app, entity, id=record_id) == 1, "Datensatz der anderen Dienststelle gelöscht"
    assert column(app, entity, record_id, "updated_at") == before, "Datensatz der anderen Dienststelle geändert"


def test_history_of_a_hidden_record_stays_hidden(world, user_client):
    page = user_client(SUED).get(f"/partner/show/{world.ids['S']}").get_data(as_text=True)
    assert "Änderungsverlauf" in page and "Seppel" in page  # Gegenprobe: the change is on the record
    response = user_client(NORD).get(f"/partner/show/{world.ids['S']}")
    assert response.status_code == 404
    assert_no_sued_data(response)


def test_related_list_of_an_own_partner_hides_cases_of_the_other_unit(world, user_client):
    """A nord partner may be the client of a sued case: the nord clerk sees the partner, not that case."""
    page = user_client(NORD).get(f"/partner/show/{world.ids['N']}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "NORD-0001" in body
    assert_no_sued_data(page)
    admin = user_client("admin").get(f"/partner/show/{world.ids['N']}").get_data(as_text=True)
    assert "NORD-0001" in admin and "SUEDX-0002" in admin


def test_shared_institution_is_visible_to_both_units(world, user_client):
    for user in (NORD, SUED):
        client = user_client(user)
        assert "Amtsgericht Gemeinsam" in client.get("/partner/list/").get_data(as_text=True)
        assert client.get(f"/partner/show/{world.ids['I']}").status_code == 200
        assert client.get(f"/api/v1/partner/{world.ids['I']}").status_code == 200
        found = client.get("/typeahead/partner?q=amtsgericht").json["results"]
        assert [r["id"] for r in found] == [world.ids["I"]]


def test_admin_sees_every_unit(world, user_client):
    client = user_client("admin")
    listing = client.get("/case/list/").get_data(as_text=True)
    assert all(number in listing for number in ("SUED-0001", "SUEDX-0002", "NORD-0001"))
    assert client.get(f"/case/show/{world.ids['SC']}").status_code == 200
    assert client.get("/api/v1/case/").json["count"] == 3


# --- writing: a reference to a record of the other unit is refused, nothing is written --------------

def test_form_refuses_a_client_of_the_other_unit(app, world, user_client):
    before = count(app, "case")
    response = user_client(NORD).post("/case/add", data={
        "client": world.ids["S"], "file_number": "NORD-0099", "opened_on": "01.02.2026",
        "status": world.codes[("case_status", "open")]})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Ausgewählter Datensatz nicht gefunden" in body
    assert count(app, "case") == before
    assert_no_sued_data(response)


def test_form_refuses_a_household_member_of_the_other_unit(app, world, user_client):
    before = count(app, "household_member")
    response = user_client(NORD).post("/household-member/add", data={"case": world.ids["NC"], "member": world.ids["S"]})
    assert response.status_code == 200 and "Ausgewählter Datensatz nicht gefunden" in response.get_data(as_text=True)
    assert count(app, "household_member") == before


def test_edit_form_refuses_switching_to_a_client_of_the_other_unit(app, world, user_client):
    response = user_client(NORD).post(f"/case/edit/{world.ids['NC']}", data={
        "client": world.ids["S"], "file_number": "NORD-0001", "opened_on": "07.01.2026",
        "status": world.codes[("case_status", "open")]})
    assert "Ausgewählter Datensatz nicht gefunden" in response.get_data(as_text=True)
    assert column(app, "case", world.ids["NC"], "client_id") == world.ids["N"]


def test_page_added_under_a_case_of_the_other_unit_is_refused(app, world, user_client):
    """The parent of a case-file page comes from the URL (``?_flt_0_case=``) on the related list's "add"."""
    before = count(app, "housing_emergency")
    client = user_client(NORD)
    form = client.get(f"/housing-emergency/add?_flt_0_case={world.ids['SC']}")
    assert_no_sued_data(form)
    response = client.post(f"/housing-emergency/add?_flt_0_case={world.ids['SC']}",
                           data={"started_on": "01.02.2026", "info": "von nord"})
    assert response.status_code == 404
    assert "nicht gefunden" in response.get_data(as_text=True)
    assert count(app, "housing_emergency") == before


REST_WRITES = [
    ("case", lambda w: {"client": w.ids["S"], "opened_on": "2026-02-01", "status": w.codes[("case_status", "open")]},
     "Klient/in"),
    ("housing_emergency", lambda w: {"case": w.ids["SC"], "started_on": "2026-02-01"}, "Fallakte"),
    ("address", lambda w: {"partner": w.ids["S"], "kind": w.codes[("address_kind", "main")], "street": "Nordweg"},
     "Partner"),
    ("relationship", lambda w: {"partner": w.ids["N"], "related_partner": w.ids["S"],
                                "type": w.codes[("relationship_type", "sonstige")]}, "steht in Beziehung zu"),
]


@pytest.mark.parametrize(("entity", "body", "label"), REST_WRITES, ids=[e for e, _, _ in REST_WRITES])
def test_rest_refuses_references_to_the_other_unit(app, world, user_client, entity, body, label):
    before = count(app, entity)
    response = user_client(NORD).post(f"/api/v1/{entity}/", json=body(world))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["message"] == f"„{label}“: Datensatz nicht gefunden."
    assert count(app, entity) == before


def test_rest_refuses_moving_an_own_record_to_the_other_unit(app, world, user_client):
    client = user_client(NORD)
    response = client.put(f"/api/v1/case/{world.ids['NC']}", json={"client": world.ids["S"]})
    assert response.status_code == 400 and "Datensatz nicht gefunden" in response.json["message"]
    assert column(app, "case", world.ids["NC"], "client_id") == world.ids["N"]
    response = client.put(f"/api/v1/housing_emergency/{world.ids['NH']}", json={"case": world.ids["SC"]})
    assert response.status_code == 400
    assert column(app, "housing_emergency", world.ids["NH"], "case_id") == world.ids["NC"]


def test_reference_to_a_shared_institution_is_accepted(app, world, user_client):
    """Gegenprobe to the refusals above: a nord relationship to the shared court is written, in nord."""
    response = user_client(NORD).post("/api/v1/relationship/", json={
        "partner": world.ids["N"], "related_partner": world.ids["I"],
        "type": world.codes[("relationship_type", "zustaendiges_gericht")]})
    assert response.status_code == 201, response.get_data(as_text=True)
    from app.core_models import OrgUnit
    from app.extensions import db
    with app.app_context():
        model = app.config["FACHSTELLE_REGISTRY"].model("relationship")
        row = db.session.get(model, response.json["id"])
        assert db.session.get(OrgUnit, row.org_unit_id).code == "nord"
        db.session.delete(row)
        db.session.commit()
        db.session.remove()


# --- "Soziale Situation" (Art. 9 DSGVO): closed to profiles without it, on every path ----------------

def _profiles_without(app, entity: str) -> list[str]:
    spec = app.config["FACHSTELLE_SPEC"]
    return [p.name for p in spec.roles.profiles if p.entities.get(entity, p.default) == "none"]


def test_sensitive_page_is_closed_on_every_path(app, world, user_client):
    closed = _profiles_without(app, "social_situation")
    assert closed, "roles.yaml schließt die Soziale Situation für kein Profil aus"
    ns, nc = world.ids["NS"], world.ids["NC"]
    for profile in closed:
        client = user_client(f"{profile.lower()}_nord")
        for path in ("/social-situation/list/", f"/social-situation/show/{ns}", f"/social-situation/edit/{ns}",
                     "/social-situation/add", f"/social-situation/list/?_flt_0_case={nc}",
                     f"/social-situation/add?_flt_0_case={nc}", "/api/v1/social_situation/",
                     f"/api/v1/social_situation/{ns}", "/api/v1/social_situation/_info",
                     "/typeahead/social_situation?q="):
            response = client.get(path)
            assert response.status_code in (401, 403), (profile, path, response.status_code)
            assert "Nordsozial" not in response.get_data(as_text=True)
        spec_profile = next(p for p in app.config["FACHSTELLE_SPEC"].roles.profiles if p.name == profile)
        may_edit = "can_edit" in LEVEL_ACTIONS[spec_profile.entities.get("case", spec_profile.default)]
        for path, allowed in ((f"/case/show/{nc}", True), (f"/case/edit/{nc}", may_edit)):
            response = client.get(path)
            body = response.get_data(as_text=True)
            assert response.status_code == (200 if allowed else 403), (profile, path, response.status_code)
            assert "Nordsozial" not in body and "SocialSituationView" not in body, (profile, path)
        assert client.post(f"/social-situation/delete/{ns}").status_code == 403
        assert client.delete(f"/api/v1/social_situation/{ns}").status_code == 403
        assert count(app, "social_situation", id=ns) == 1
        openapi = client.get("/api/v1/_openapi")  # the schema may be listed, the data never
        assert openapi.status_code == 200 and "Nordsozial" not in openapi.get_data(as_text=True)


def test_sensitive_page_is_a_tab_for_profiles_with_it(world, user_client):
    body = user_client("sozialarbeit_nord").get(f"/case/show/{world.ids['NC']}").get_data(as_text=True)
    assert "SocialSituationView" in body and "Nordsozial" not in body  # the tab lists persons, not details
    detail = user_client("sozialarbeit_nord").get(f"/social-situation/show/{world.ids['NS']}")
    assert "Nordsozial" in detail.get_data(as_text=True)
