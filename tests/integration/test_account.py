"""The user menu, sign-out and passwords (#11, "What to build" 1).

Findings: no user menu (no "Abmelden", no "Passwort ändern"); sign-out by a plain GET (a link on any site
ended the session); the own-password page did not ask for the current password; any password was accepted
(``1``, ``a``), also in the admin's user form; an admin's password for a user was final.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash

from tests.conftest import PASSWORD, login

STRONG = "Kaffeetasse Nordbahnhof blau"
STRONGER = "Quittenmus auf Roggenbrot"


@pytest.fixture
def probe(ctx):
    """A fresh clerk account ``pw_probe`` (password ``test-pw``, unit nord); removed afterwards."""
    from app.account_models import PasswordState
    from app.extensions import db
    from app.services.users import ensure_user
    sm = ctx.appbuilder.sm
    ensure_user(sm, "pw_probe", PASSWORD, "Sachbearbeitung", ["nord"], first_name="Paula", last_name="Probe",
                check_policy=False)
    yield sm.find_user(username="pw_probe")
    db.session.rollback()
    for name in ("pw_probe", "pw_neu"):
        user = sm.find_user(username=name)
        if user is not None:
            db.session.execute(delete(PasswordState).where(PasswordState.user_id == user.id))
            db.session.delete(user)
    db.session.commit()


def _signed_in(client) -> bool:
    return client.get("/account/profile").status_code == 200


def _hash_of(username: str) -> str:
    from app.extensions import db
    from flask_appbuilder.security.sqla.models import User
    db.session.expire_all()
    return db.session.scalar(select(User.password).where(User.username == username))


def _must_change(username: str) -> bool:
    from app.extensions import db
    from flask_appbuilder.security.sqla.models import User
    db.session.expire_all()
    return bool(db.session.scalar(select(User.must_change_password).where(User.username == username)))


# --- the user menu ---------------------------------------------------------------------------------------
def test_every_page_has_a_user_menu_with_profile_password_and_a_post_sign_out(client, probe):
    login(client, "pw_probe")
    html = client.get("/").get_data(as_text=True)
    menu = html[html.index('class="dropdown fs-user-menu"'):]
    assert "Paula Probe" in menu[:400]
    assert 'href="/account/profile"' in menu and "Mein Profil" in menu
    assert 'href="/account/password"' in menu and "Passwort ändern" in menu
    assert re.search(r'<form method="post" action="/logout/"[^>]*>\s*<input type="hidden" name="csrf_token"', menu)
    assert 'href="/logout/"' not in html  # no sign-out link a GET could follow


def test_my_profile_shows_name_username_units_and_profile(client, probe):
    login(client, "pw_probe")
    html = client.get("/account/profile").get_data(as_text=True)
    for row in ("<th scope=\"row\">Name</th><td>Paula Probe</td>", "<th scope=\"row\">Benutzername</th><td>pw_probe</td>",
                "<th scope=\"row\">Dienststellen</th><td>Fachstelle Nord</td>",
                "<th scope=\"row\">Profil</th><td>Sachbearbeitung</td>"):
        assert row in html, row


def test_the_menu_names_an_account_without_last_name_by_its_first_name(client):
    login(client, "admin")  # made by ensure_user without names: first name "admin", last name "-"
    html = client.get("/").get_data(as_text=True)
    menu = html[html.index('id="fs-user-menu"'):]
    assert re.match(r'id="fs-user-menu">\s*<i class="fa fa-user"></i> admin <b class="caret">', menu), menu[:200]


def test_account_pages_need_a_sign_in(client):
    for path in ("/account/profile", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response.headers["Location"], path


# --- sign-out --------------------------------------------------------------------------------------------
def test_a_get_of_logout_does_not_sign_out_but_offers_the_button(client, probe):
    login(client, "pw_probe")
    response = client.get("/logout/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Möchten Sie sich abmelden?" in html and '<form method="post" action="/logout/">' in html
    assert _signed_in(client)  # before #11 a GET (e.g. an <img src=".../logout/"> elsewhere) ended the session


def test_a_post_to_logout_ends_the_session(client, probe):
    login(client, "pw_probe")
    response = client.post("/logout/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/")
    assert not _signed_in(client)
    assert "Sie sind abgemeldet." in client.get("/login/").get_data(as_text=True)


def test_logout_without_the_csrf_token_is_refused(client, probe):
    login(client, "pw_probe")
    client.application.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/logout/")
    finally:
        client.application.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert _signed_in(client)


def test_logout_when_signed_out_leads_to_the_login(client):
    response = client.get("/logout/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/")


# --- changing one's own password -------------------------------------------------------------------------
def _change(client, old: str, new: str, confirm: str | None = None):
    return client.post("/account/password", data={"old_password": old, "new_password": new,
                                                  "confirm": new if confirm is None else confirm})


def test_password_change_asks_for_the_old_password(client, probe):
    login(client, "pw_probe")
    before = _hash_of("pw_probe")
    response = _change(client, "falsch-geraten", STRONG)
    assert response.status_code == 200
    assert "Das bisherige Passwort stimmt nicht. Das Passwort wurde nicht geändert." in response.get_data(as_text=True)
    assert _hash_of("pw_probe") == before


def test_password_change_applies_the_policy(client, probe):
    login(client, "pw_probe")
    before = _hash_of("pw_probe")
    for new, message in (("1", "Das Passwort ist zu kurz: mindestens 12 Zeichen."),
                         ("a", "Das Passwort ist zu kurz: mindestens 12 Zeichen."),
                         ("passwort1234", "Das Passwort ist zu leicht zu erraten."),
                         ("Paula-Probe-pw_probe", "Namen oder Benutzernamen")):
        assert message in _change(client, PASSWORD, new).get_data(as_text=True), new
    assert "stimmen nicht überein" in _change(client, PASSWORD, STRONG, STRONGER).get_data(as_text=True)
    assert _hash_of("pw_probe") == before


def test_password_change_with_the_old_password_works(client, probe):
    login(client, "pw_probe")
    response = _change(client, PASSWORD, STRONG)
    assert response.status_code == 302
    assert check_password_hash(_hash_of("pw_probe"), STRONG)
    assert "Ihr Passwort wurde geändert." in client.get("/").get_data(as_text=True)
    client.post("/logout/")
    login(client, "pw_probe", STRONG)
    assert _signed_in(client)


def test_fabs_own_password_page_leads_to_the_one_with_the_old_password(client, probe):
    login(client, "pw_probe")
    for method in (client.get, client.post):
        response = method("/resetmypassword/form", data={"password": "1", "conf_password": "1"})
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    assert check_password_hash(_hash_of("pw_probe"), PASSWORD)


# --- passwords an admin sets -----------------------------------------------------------------------------
def test_admin_reset_applies_the_policy_and_makes_the_password_temporary(client, probe):
    login(client, "admin")
    url = f"/resetpassword/form?pk={probe.id}"
    weak = client.post(url, data={"password": "pw_probe1234", "conf_password": "pw_probe1234"}, follow_redirects=True)
    assert "Passwort nicht geändert: Das Passwort ist zu leicht zu erraten." in weak.get_data(as_text=True)
    assert check_password_hash(_hash_of("pw_probe"), PASSWORD)
    short = client.post(url, data={"password": "a", "conf_password": "a"}, follow_redirects=True)
    assert "Das Passwort ist zu kurz" in short.get_data(as_text=True)
    client.post(url, data={"password": STRONG, "conf_password": STRONG})
    assert check_password_hash(_hash_of("pw_probe"), STRONG) and _must_change("pw_probe")


def _add_user_form(sm, password: str) -> dict:
    from app.core_models import OrgUnit
    from app.extensions import db
    nord = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "nord"))
    return {"first_name": "Neu", "last_name": "Konto", "username": "pw_neu", "email": "pw_neu@fachstelle.invalid",
            "active": "y", "roles": [sm.find_role("Sachbearbeitung").id], "org_units": [nord],
            "password": password, "conf_password": password}


def test_admin_user_form_applies_the_policy(client, probe):
    from app.extensions import db
    sm = client.application.appbuilder.sm
    login(client, "admin")
    short = client.post("/users/add", data=_add_user_form(sm, "1"), follow_redirects=True)
    assert "Das Passwort ist zu kurz: mindestens 12 Zeichen." in short.get_data(as_text=True)
    named = client.post("/users/add", data=_add_user_form(sm, "pw_neu-Konto-Neu"), follow_redirects=True)
    assert "Namen oder Benutzernamen" in named.get_data(as_text=True)
    db.session.expire_all()
    assert sm.find_user(username="pw_neu") is None


def test_a_password_the_admin_chose_must_be_changed_at_first_sign_in(client, probe):
    from app.extensions import db
    sm = client.application.appbuilder.sm
    login(client, "admin")
    client.post("/users/add", data=_add_user_form(sm, STRONG))
    db.session.expire_all()
    assert sm.find_user(username="pw_neu") is not None and _must_change("pw_neu")
    client.post("/logout/")

    login(client, "pw_neu", STRONG)
    for path in ("/", "/partner/list/", "/account/profile"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password"), path
    api = client.get("/api/v1/partner/")
    assert api.status_code == 403 and "muss zuerst unter „Passwort ändern“ geändert werden" in api.get_json()["message"]
    # An API client signed in only by a token is held back the same way (no cookie involved).
    token = client.application.test_client().post("/api/v1/security/login", json={
        "username": "pw_neu", "password": STRONG, "provider": "db"}).get_json()["access_token"]
    by_token = client.application.test_client().get("/api/v1/partner/",
                                                      headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 403 and "Passwort ändern" in by_token.get_json()["message"]
    assert client.get("/logout/").status_code == 200  # signing out stays possible
    page = client.get("/account/password").get_data(as_text=True)
    assert "Ihr Passwort wurde von der Administration vergeben." in page
    assert _change(client, STRONG, STRONGER).status_code == 302
    assert not _must_change("pw_neu")
    assert client.get("/").status_code == 200
