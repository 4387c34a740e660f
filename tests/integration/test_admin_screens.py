"""Admin screens in the city's language (#11 item 8): the users list and form, the catalogue admin, the
profile editor (roles.yaml's page × level and admin functions, edited in the browser), and FAB's raw
permission screens only for the technical Admin role."""
from __future__ import annotations

import re

import pytest
import yaml
from sqlalchemy import func, select

from flask_appbuilder.security.sqla.models import User

from app.core_models import CatalogueValue, ChangeLog, OrgUnit
from app.extensions import db
from app.web.build_roles import ADMIN_FUNCTIONS, export_roles, profile_permissions, sync_roles
from app.metamodel.spec import ProfileSpec
from tests.conftest import login

DENIED = (302, 401, 403, 404)


def body(response) -> str:
    return response.get_data(as_text=True)


# --- users -----------------------------------------------------------------------------------------

def test_users_list_names_units_and_profiles_in_german(client):
    login(client, "fachadmin_nord")
    page = body(client.get("/users/list/"))
    assert "object at 0x" not in page
    assert db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == "nord")) in page  # the unit by its name
    # Ja/Nein instead of True/False, the profile's name instead of a Python list
    assert re.search(r">\s*Ja\s*<", page)
    assert not re.search(r">\s*(True|False|None|\[\])\s*<", page)
    assert "Sachbearbeitung" in page
    assert "[Sachbearbeitung]" not in page
    for label in ("Benutzername", "Vorname", "Nachname", "Aktiv", "Dienststellen", "Profile"):
        assert label in page, label


def test_user_page_has_no_python_values(client):
    login(client, "fachadmin_nord")
    uid = db.session.scalar(select(User.id).where(User.username == "sachbearbeitung_nord"))
    page = body(client.get(f"/users/show/{uid}"))
    assert db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == "nord")) in page
    assert not re.search(r">\s*(True|False|None|\[\])\s*<", page)
    assert "Dienststellen" in page and "Anmeldungen" in page


def test_user_form_speaks_german(client):
    login(client, "fachadmin_nord")
    page = body(client.get("/users/add"))
    assert "object at 0x" not in page
    for label in ("Benutzername", "Vorname", "Dienststellen", "Profile"):
        assert label in page, label


# --- catalogues --------------------------------------------------------------------------------------

def test_catalogue_typo_is_refused(client):
    login(client, "fachadmin_nord")
    before = db.session.scalar(select(func.count()).select_from(CatalogueValue))
    response = client.post("/catalogues/add", data={"catalogue": "partner_rolle", "code": "x1", "label": "Tippfehler",
                                                    "sort": "0", "active": "y"}, follow_redirects=True)
    assert response.status_code == 200
    page = body(response)
    assert "Unbekannter Katalog" in page and "partner_rolle" in page
    assert "Not a valid choice" not in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CatalogueValue)) == before
    assert db.session.scalar(select(CatalogueValue).where(CatalogueValue.catalogue == "partner_rolle")) is None


def test_catalogue_is_picked_from_german_names_and_saved(client, app):
    login(client, "fachadmin_nord")
    form = body(client.get("/catalogues/add"))
    label = app.config["FACHSTELLE_SPEC"].catalogue("partner_role").label
    assert re.search(r'<option[^>]*value="partner_role"[^>]*>\s*' + re.escape(label), form)
    # "Wert anlegen" on the overview opens the form with its catalogue chosen
    chosen = body(client.get("/catalogues/add?catalogue=partner_role"))
    assert re.search(r'<option[^>]*selected[^>]*value="partner_role"|<option[^>]*value="partner_role"[^>]*selected',
                     chosen)
    empty = body(client.post("/catalogues/add", data={"catalogue": "", "code": "x2", "label": "Ohne",
                                                      "sort": "0"}, follow_redirects=True))
    assert "Bitte einen Katalog wählen." in empty
    response = client.post("/catalogues/add", data={"catalogue": "partner_role", "code": "nachbar_x",
                                                    "label": "Nachbar (Test)", "sort": "90", "active": "y"},
                           follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    value = db.session.scalar(select(CatalogueValue).where(CatalogueValue.code == "nachbar_x"))
    assert value is not None and value.catalogue == "partner_role"
    db.session.delete(value)
    db.session.commit()


def test_catalogue_list_is_readable(client, app):
    login(client, "fachadmin_nord")
    page = body(client.get("/catalogues/list/?psize_CatalogueValueView=500"))  # #12/#13 added catalogues
    spec = app.config["FACHSTELLE_SPEC"]
    # The list is sorted by catalogue key; the first one is on the first page whatever the configuration adds
    # (#12 added catalogues before "partner_kind").
    first = min(spec.catalogues, key=lambda c: c.name)
    assert first.label in page  # "Rechtsgrundlage der Unterbringung", not "accommodation_basis"
    assert not re.search(r">\s*(True|False|None)\s*<", page)
    assert re.search(r">\s*Ja\s*<", page)
    assert f">{first.name}<" not in page.replace(" ", "")


def test_catalogue_usage_is_shown(client):
    login(client, "fachadmin_nord")
    page = body(client.get("/catalogues/usage"))
    assert 'href="/catalogues/usage"' in page  # the menu's item "Kataloge" opens this overview
    # partner_kind is used by the partner's field "Partnerart": entity › field label
    assert "Partner › Partnerart" in page
    assert "Fallakte › Status" in page or "› Status" in page


# --- profile editor ------------------------------------------------------------------------------------

@pytest.fixture
def restore_roles(app):
    yield
    with app.app_context():
        sync_roles(app.appbuilder.sm, app.config["FACHSTELLE_SPEC"])
        db.session.remove()


def form_of(spec, profile: ProfileSpec, **changes) -> dict:
    data = {f"level_{e.name}": profile.entities.get(e.name, profile.default) for e in spec.entities}
    data.update(changes)
    data["admin"] = [a for a in profile.admin if ADMIN_FUNCTIONS[a]]
    return data


def test_profile_editor_changes_a_level_at_once(app, restore_roles):
    spec = app.config["FACHSTELLE_SPEC"]
    clerk_profile = next(p for p in spec.roles.profiles if p.name == "Sachbearbeitung")
    assert clerk_profile.entities["social_situation"] == "none"
    admin = login(app.test_client(), "fachadmin_nord")
    clerk = login(app.test_client(), "sachbearbeitung_nord")
    assert clerk.get("/social-situation/list/").status_code in DENIED

    page = body(admin.get("/profiles/Sachbearbeitung"))
    assert "Sozialsituation" in page or spec.entity("social_situation").label in page
    assert "sync-roles" in page  # the hint that the YAML wins on the next deployment
    response = admin.post("/profiles/Sachbearbeitung",
                          data=form_of(spec, clerk_profile, level_social_situation="read"), follow_redirects=True)
    assert response.status_code == 200
    assert "gespeichert" in body(response)
    assert clerk.get("/social-situation/list/").status_code == 200
    assert clerk.get("/social-situation/add").status_code in DENIED

    admin.post("/profiles/Sachbearbeitung", data=form_of(spec, clerk_profile, level_social_situation="none"))
    assert clerk.get("/social-situation/list/").status_code in DENIED

    with app.app_context():
        entries = db.session.scalars(select(ChangeLog).where(ChangeLog.entity == "profile")).all()
        assert any(e.field == "social_situation" and e.old_value == "none" and e.new_value == "read"
                   and e.changed_by == "fachadmin_nord" for e in entries)
        for entry in entries:
            db.session.delete(entry)
        db.session.commit()


def test_profile_editor_refuses_unknown_level_and_function(app, restore_roles):
    spec = app.config["FACHSTELLE_SPEC"]
    clerk_profile = next(p for p in spec.roles.profiles if p.name == "Sachbearbeitung")
    admin = login(app.test_client(), "fachadmin_nord")
    response = admin.post("/profiles/Sachbearbeitung",
                          data=form_of(spec, clerk_profile, level_case="alles"), follow_redirects=True)
    assert response.status_code in (200, 400)
    assert "Stufe" in body(response)
    assert admin.get("/profiles/Gibtsnicht").status_code == 404


def test_fachadmin_cannot_take_the_profile_editor_from_themselves(app, restore_roles):
    spec = app.config["FACHSTELLE_SPEC"]
    profile = next(p for p in spec.roles.profiles if p.name == "Fachadmin")
    admin = login(app.test_client(), "fachadmin_nord")
    data = form_of(spec, profile)
    data["admin"] = [a for a in data["admin"] if a != "profiles"]
    page = body(admin.post("/profiles/Fachadmin", data=data, follow_redirects=True))
    assert "nicht selbst nehmen" in page
    assert admin.get("/profiles/").status_code == 200


def test_profile_export_round_trips_with_roles_export(app, restore_roles):
    spec = app.config["FACHSTELLE_SPEC"]
    admin = login(app.test_client(), "fachadmin_nord")
    response = admin.get("/profiles/export")
    assert response.status_code == 200
    assert "attachment" in response.headers.get("Content-Disposition", "")
    text = response.get_data(as_text=True)
    with app.app_context():
        assert text == export_roles(app.appbuilder.sm, spec)
    exported = yaml.safe_load(text)["profiles"]
    # Read back, each exported profile grants exactly what the YAML profile grants.
    for entry in exported:
        original = next(p for p in spec.roles.profiles if p.name == entry["name"])
        assert profile_permissions(spec, ProfileSpec(**entry)) == profile_permissions(spec, original), entry["name"]


def test_fachadmin_cannot_open_raw_permission_screens(app):
    admin = login(app.test_client(), "fachadmin_nord")
    for url in ("/roles/list/", "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/"):
        assert admin.get(url).status_code in DENIED, url
    menu = body(admin.get("/profiles/"))
    assert "Berechtigungsprofile" in menu
    assert "/roles/list/" not in menu
    technical = login(app.test_client(), "admin")
    assert technical.get("/roles/list/").status_code == 200
    assert technical.get("/profiles/").status_code == 200
