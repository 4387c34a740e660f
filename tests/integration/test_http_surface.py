"""The HTTP surface (#11): CSRF only skipped for a valid JWT, the JWT login for API clients, German REST
errors, security headers on every route family, cookie flags and the secret key's file mode."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, login


@contextmanager
def csrf_on(app):
    # The test app runs without CSRF (forms post without tokens); these tests need the real check.
    before = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = before


def _token(client, user, refresh=False):
    response = client.post("/api/v1/security/login", json={"username": user, "password": PASSWORD,
                                                            "provider": "db", "refresh": refresh})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _partners(surname):
    from app.extensions import db
    from flask import current_app
    model = current_app.config["FACHSTELLE_REGISTRY"].model("partner")
    return db.session.scalar(select(func.count()).select_from(model).where(model.surname == surname))


def _person(factory):
    return factory.value("partner_kind", "person").id


# --- item 4: CSRF and JWT ----------------------------------------------------------------------------------

def test_jwt_login_and_refresh_work_with_csrf_on(client, ctx):
    with csrf_on(ctx):
        tokens = _token(client, "sachbearbeitung_nord", refresh=True)
        assert tokens["access_token"] and tokens["refresh_token"]
        refreshed = client.post("/api/v1/security/refresh",
                                headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
        assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
        assert refreshed.get_json()["access_token"]
        wrong = client.post("/api/v1/security/login", json={"username": "sachbearbeitung_nord",
                                                            "password": "falsch", "provider": "db"})
        assert wrong.status_code == 401 and wrong.get_json() == {"message": wrong.get_json()["message"]}
        assert "Anmeld" in wrong.get_json()["message"]


def test_junk_bearer_does_not_skip_csrf_for_a_cookie(client, ctx, factory):
    login(client, "sachbearbeitung_nord")
    with csrf_on(ctx):
        response = client.post("/api/v1/partner/", json={"kind": _person(factory), "surname": "Junktoken"},
                               headers={"Authorization": "Bearer x"})
        assert response.status_code == 401
        assert response.get_json()["message"] == "Das Token ist ungültig."
        form = client.post("/partner/add", data={"kind": _person(factory), "surname": "Junktoken"},
                           headers={"Authorization": "Bearer x"})
        assert form.status_code == 401
        # And without any token, the cookie alone needs the CSRF token.
        plain = client.post("/api/v1/partner/", json={"kind": _person(factory), "surname": "Junktoken"})
        assert plain.status_code == 400 and "CSRF" in plain.get_json()["message"]
    assert _partners("Junktoken") == 0


def test_a_valid_jwt_ignores_the_session_cookie(client, ctx, factory):
    from datetime import date
    nord_case = factory("case", "nord", file_number="2026/JWT", opened_on=date(2026, 3, 2),
                        status=factory.value("case_status", "open"),
                        client=factory("partner", "nord", kind=factory.value("partner_kind", "person"),
                                       surname="Nordfall"))
    token = _token(ctx.test_client(), "sachbearbeitung_sued")["access_token"]
    login(client, "admin")  # the cookie would see everything
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/case/{nord_case.id}").status_code == 200  # cookie: admin
    assert client.get(f"/api/v1/case/{nord_case.id}", headers=bearer).status_code == 404  # token: sued
    with csrf_on(ctx):
        made = client.post("/api/v1/partner/", json={"kind": _person(factory), "surname": "Tokenfrau"},
                           headers=bearer)
    assert made.status_code == 201, made.get_data(as_text=True)
    got = client.get(f"/api/v1/partner/{made.get_json()['id']}", headers=bearer).get_json()["result"]
    assert got["created_by"] == "sachbearbeitung_sued"


def test_expired_and_refresh_tokens_are_refused_in_german(client, ctx):
    from datetime import timedelta

    from flask_jwt_extended import create_access_token
    user = ctx.appbuilder.sm.find_user(username="sachbearbeitung_nord")
    expired = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-5))
    response = client.get("/api/v1/partner/", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "abgelaufen" in response.get_json()["message"]
    refresh = _token(ctx.test_client(), "sachbearbeitung_nord", refresh=True)["refresh_token"]
    misused = client.get("/api/v1/partner/", headers={"Authorization": f"Bearer {refresh}"})
    assert misused.status_code == 401 and "Refresh-Token" in misused.get_json()["message"]


@pytest.mark.parametrize(("method", "url", "status", "message"), [
    ("get", "/api/v1/case/99999999", 404, "Nicht gefunden."),
    ("get", "/api/v1/nichtda/", 404, "Nicht gefunden."),
    ("delete", "/api/v1/security/login", 405, "Diese Methode ist hier nicht erlaubt."),
    ("get", "/api/v1/social_situation/", 403, "Keine Berechtigung."),
    ("get", "/api/v1/partner/?q=(((", 400, "Der Parameter „q“ ist kein gültiges Rison."),
    ("post", "/api/v1/partner/", 400, "Die Anfrage muss JSON senden (Content-Type: application/json)."),
])
def test_rest_errors_are_german_json(client, method, url, status, message):
    login(client, "sachbearbeitung_nord")
    response = getattr(client, method)(url, data="x" if method == "post" else None)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.get_json() == {"message": message}


def test_rest_401_and_422_are_german(client, factory):
    anonymous = client.get("/api/v1/partner/")
    assert anonymous.status_code == 401 and anonymous.get_json()["message"].startswith("Nicht angemeldet")
    login(client, "sachbearbeitung_nord")
    bad = client.post("/api/v1/partner/", json={"kind": _person(factory), "surname": "X", "birth_date": "morgen",
                                                "gibtsnicht": 1})
    assert bad.status_code == 422
    messages = bad.get_json()["message"]
    assert messages["gibtsnicht"] == ["Unbekanntes Feld."]
    assert messages["birth_date"] == ["Kein gültiges Datum (JJJJ-MM-TT)."]


# --- item 5: headers, cookies, secret key ------------------------------------------------------------------

HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def _assert_headers(response, where):
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (where, name, response.status_code)
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp, (where, csp)
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], where


def _families(app):
    """One URL per route family, found from the url_map (so a new family is not forgotten silently)."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    wanted = {
        "HTML list": "PartnerView.list", "HTML show": "PartnerView.show", "HTML edit": "PartnerView.edit",
        "HTML add": "PartnerView.add", "REST list": "PartnerApi.get_list", "REST item": "PartnerApi.get",
        "REST info": "PartnerApi.info", "static": "static", "FAB static": "appbuilder.static",
        "login": "FachstelleAuthDBView.login", "start page": "FachstelleIndexView.index",
    }
    missing = [endpoint for endpoint in wanted.values() if endpoint not in rules]
    assert not missing, missing
    lookups = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("lookups.")]
    letters = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("LetterView.download")]
    assert lookups and letters
    return wanted, lookups, letters


def test_security_headers_on_every_route_family(client, factory):
    partner = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Kopfzeile")
    wanted, lookups, letters = _families(client.application)
    urls = {
        "HTML list": "/partner/list/", "HTML show": f"/partner/show/{partner.id}",
        "HTML edit": f"/partner/edit/{partner.id}", "HTML add": "/partner/add",
        "REST list": "/api/v1/partner/", "REST item": f"/api/v1/partner/{partner.id}",
        "REST info": "/api/v1/partner/_info", "static": "/static/fachstelle/fachstelle.js",
        "FAB static": "/static/appbuilder/css/flags/flags16.css",
    }
    _assert_headers(client.get("/login/"), "login")
    login(client, "sachbearbeitung_nord")
    for family, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (family, url, response.status_code)
        _assert_headers(response, family)
    _assert_headers(client.get("/"), "start page")
    lookup = lookups[0]
    _assert_headers(client.get(lookup.rule.replace("<", "").replace(">", "").replace("int:", "")), lookup.rule)
    letter = letters[0].rule.replace("<int:letter_id>", "99999999")
    assert client.get(letter).status_code == 404
    _assert_headers(client.get(letter), "letters download (404)")
    for url in ("/gibt/es/nicht", "/api/v1/gibtsnicht/"):
        _assert_headers(client.get(url), f"error page {url}")


def test_pages_carry_the_csp_nonce_on_every_inline_script(client, factory):
    import re
    login(client, "sachbearbeitung_nord")
    partner = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Nonce")
    seen = 0
    for url in ("/", "/partner/list/", f"/partner/show/{partner.id}", "/partner/add", "/case/list/"):
        response = client.get(url)
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        html = response.get_data(as_text=True)
        scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        assert all(f'nonce="{nonce}"' in attrs for attrs in scripts), (url, scripts)
        assert not re.search(r"\son(click|change|submit|load)=", html), url
        seen += len(scripts)
    assert seen >= 3


def test_session_cookie_is_samesite_lax(client):
    response = client.post("/login/", data={"username": "sachbearbeitung_nord", "password": PASSWORD})
    assert response.status_code == 302
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "SameSite=Lax" in session_cookie and "HttpOnly" in session_cookie and "Secure" not in session_cookie


@pytest.mark.parametrize(("env", "secure"), [
    ({"FACHSTELLE_SECURE_COOKIES": "1"}, True),
    ({"FACHSTELLE_BASE_URL": "https://wohnhilfe.example.de"}, True),
    ({"FACHSTELLE_BASE_URL": "http://localhost:5000"}, False),
    ({}, False),
])
def test_secure_cookies_when_configured(monkeypatch, env, secure):
    from app import settings
    for name in ("FACHSTELLE_SECURE_COOKIES", "FACHSTELLE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = settings.flask_config({"SECRET_KEY": "x"})
    assert config["SESSION_COOKIE_SECURE"] is secure and config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_secret_key_file_is_private(monkeypatch, tmp_path):
    from app import settings
    monkeypatch.delenv("FACHSTELLE_SECRET_KEY", raising=False)
    monkeypatch.setenv("FACHSTELLE_INSTANCE_DIR", str(tmp_path))
    key = settings.secret_key()
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 64
    path.chmod(0o644)  # written by an older version
    assert settings.secret_key() == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_every_get_route_answers_with_the_headers_and_never_500(client, factory):
    # Every GET rule of the url_map, its arguments filled with a real record number (or "1"): whatever the
    # answer (200, 302, 403, 404), it carries the security headers and is not a server error.
    import re
    partner = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Alle")
    login(client, "sachbearbeitung_nord")
    checked, failures = 0, []
    for rule in client.application.url_map.iter_rules():
        if "GET" not in rule.methods or "logout" in rule.rule or rule.endpoint in ("static", "appbuilder.static"):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(partner.id) if "id" in m.group(1) or m.group(1) == "pk"
                     else "x", rule.rule)
        response = client.get(url)
        checked += 1
        if response.status_code >= 500 or response.headers.get("X-Content-Type-Options") != "nosniff" \
                or "frame-ancestors 'none'" not in response.headers.get("Content-Security-Policy", ""):
            failures.append((url, response.status_code))
    assert checked > 100 and not failures, failures
