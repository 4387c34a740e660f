"""#11, items 2 and 3: sessions end on the server, idle timeout, login throttling and the login audit.

Findings reproduced: a cookie copied before logout still read ``/api/v1/case/<id>`` afterwards; no idle
timeout; 30 wrong passwords in 3 s were all answered, nothing throttled, nothing logged.

Each test uses its own accounts and its own client address (``REMOTE_ADDR``), so the throttle's counters of
one test never reach another (or the rest of the suite, which signs in from 127.0.0.1). Requests run without
an outer app context (as in production: each request its own ``g``); data is made in short contexts.
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from app import clock
from tests.conftest import PASSWORD, purge_entity_rows

_addresses = itertools.count(10)
# A fixed day in the past for the frozen clock: nothing recorded there counts at the real "now".
DAY = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.11.0.{next(_addresses)}"
    return client


def _login(client, user, password=PASSWORD):
    return client.post("/login/", data={"username": user, "password": password})


def _copy_cookie(source, app):
    """A second browser holding a copy of the first one's session cookie."""
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = source.environ_base["REMOTE_ADDR"]
    other.set_cookie(name, source.get_cookie(name).value)
    return other


def _signed_in(client) -> bool:
    response = client.get("/worklist/")
    return response.status_code == 200


@pytest.fixture(scope="module")
def accounts(app):
    """Accounts of this module only (their passwords and sessions change here)."""
    from app.extensions import db
    from app.services.users import ensure_user
    names = ["sitzung_a", "sitzung_b", "sitzung_c", "sitzung_d", "sitzung_e", "sitzung_f", "sitzung_g"]
    with app.app_context():
        for name in names:
            ensure_user(app.appbuilder.sm, name, PASSWORD, "Sachbearbeitung", ["nord"], check_policy=False)
        db.session.remove()
    yield names
    purge_entity_rows(app)
    with app.app_context():  # the accounts go again: later modules see the usual staff
        for name in names:
            user = app.appbuilder.sm.find_user(username=name)
            if user is not None:
                db.session.delete(user)
        db.session.commit()
        db.session.remove()


@pytest.fixture
def case_id(app, accounts):
    """A case of district nord, made directly (as the CLI would)."""
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.history import acting_as
    registry = app.config["FACHSTELLE_REGISTRY"]
    with app.app_context():
        unit = db.session.scalars(select(OrgUnit).where(OrgUnit.code == "nord")).one()

        def value(catalogue, code):
            return db.session.scalars(select(CatalogueValue).filter_by(catalogue=catalogue, code=code)).one()
        with acting_as("test"):
            partner = registry.model("partner")(kind=value("partner_kind", "person"), surname="Sitzung",
                                                org_unit_id=unit.id)
            db.session.add(partner)
            db.session.flush()
            case = registry.model("case")(client=partner, opened_on=date(2026, 1, 5),
                                          status=value("case_status", "open"), org_unit_id=unit.id)
            db.session.add(case)
            db.session.commit()
        pk = case.id
        db.session.remove()
    return pk


def _user_id(app, name):
    from app.extensions import db
    with app.app_context():
        pk = app.appbuilder.sm.find_user(username=name).id
        db.session.remove()
    return pk


# --- 2. server-side sessions --------------------------------------------------------------------------------

def test_cookie_copied_before_logout_is_refused_afterwards(app, accounts, case_id):
    browser = _client(app)
    _login(browser, "sitzung_a")
    copy = _copy_cookie(browser, app)
    assert copy.get(f"/api/v1/case/{case_id}").status_code == 200  # the copy works while the session lives
    assert _signed_in(copy)

    assert browser.post("/logout/").status_code == 302  # sign-out is a POST (#11)

    response = copy.get(f"/api/v1/case/{case_id}")
    assert response.status_code == 401, response.get_data(as_text=True)[:200]
    page = copy.get("/worklist/")
    assert page.status_code == 302 and "/login/" in page.headers["Location"]


def test_logout_ends_the_sessions_on_every_pc(app, accounts):
    office, home = _client(app), _client(app)
    _login(office, "sitzung_b")
    _login(home, "sitzung_b")
    assert _signed_in(office) and _signed_in(home)
    office.post("/logout/")
    assert not _signed_in(home)
    _login(home, "sitzung_b")  # signing in again works
    assert _signed_in(home)


def test_end_sessions_refuses_cookies_signed_before(app, accounts, case_id):
    from app.extensions import db
    from app.services.sessions import end_sessions
    browser = _client(app)
    _login(browser, "sitzung_c")
    copy = _copy_cookie(browser, app)
    assert _signed_in(browser)
    with app.app_context():
        end_sessions(_user_id(app, "sitzung_c"))
        db.session.remove()
    assert not _signed_in(browser) and not _signed_in(copy)
    assert copy.get(f"/api/v1/case/{case_id}").status_code == 401


def test_password_set_by_admin_or_cli_ends_the_sessions(app, accounts):
    from app.extensions import db
    browser = _client(app)
    _login(browser, "sitzung_d")
    assert _signed_in(browser)
    with app.app_context():  # FAB's admin page and ``users add`` both set the password like this
        app.appbuilder.sm.reset_password(_user_id(app, "sitzung_d"), "ein-neues-passwort-2026")
        db.session.remove()
    assert not _signed_in(browser)
    assert _login(_client(app), "sitzung_d", PASSWORD).status_code == 302  # refused: back to the login page
    fresh = _client(app)
    _login(fresh, "sitzung_d", "ein-neues-passwort-2026")
    assert _signed_in(fresh)


def test_own_password_change_keeps_this_browser_but_ends_copies(app, accounts):
    browser = _client(app)
    _login(browser, "sitzung_e")
    copy = _copy_cookie(browser, app)
    new = "Kaffeetasse-Regenschirm-2026"
    response = browser.post("/account/password", data={"old_password": PASSWORD, "new_password": new,
                                                       "confirm": new})
    assert response.status_code == 302
    assert _signed_in(browser)
    assert not _signed_in(copy)


def test_deactivation_ends_the_sessions_and_reactivation_does_not_revive_them(app, accounts, case_id):
    from app.extensions import db
    browser = _client(app)
    _login(browser, "sitzung_f")
    assert _signed_in(browser)
    user_id = _user_id(app, "sitzung_f")
    sm = app.appbuilder.sm
    with app.app_context():
        user = sm.get_user_by_id(user_id)
        user.active = False
        db.session.commit()
        db.session.remove()
    assert not _signed_in(browser)
    assert browser.get(f"/api/v1/case/{case_id}").status_code == 401
    assert _login(_client(app), "sitzung_f").headers["Location"].startswith("/login/")  # refused
    with app.app_context():
        user = sm.get_user_by_id(user_id)
        user.active = True
        db.session.commit()
        db.session.remove()
    assert not _signed_in(browser)  # the old cookie stays dead


# --- 2. idle timeout -----------------------------------------------------------------------------------------

def test_idle_timeout_after_30_minutes_with_a_notice_on_the_login_page(app, accounts, case_id):
    browser = _client(app)
    with clock.frozen(DAY):
        _login(browser, "sitzung_g")
    with clock.frozen(DAY + timedelta(minutes=29)):
        assert _signed_in(browser)
    # 29 minutes after that request, still within the timeout: activity renews it
    with clock.frozen(DAY + timedelta(minutes=58)):
        assert browser.get(f"/api/v1/case/{case_id}").status_code == 200
    with clock.frozen(DAY + timedelta(minutes=58 + 31)):
        response = browser.get("/worklist/")
        assert response.status_code == 302 and "/login/" in response.headers["Location"]
        login_page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sie wurden nach 30 Minuten ohne Aktivität abgemeldet." in login_page
    assert "Zugriff verweigert" not in login_page  # the notice says why, nothing else


def test_idle_timeout_is_configurable_and_refuses_the_api_too(app, accounts, case_id, monkeypatch):
    monkeypatch.setitem(app.config, "FACHSTELLE_IDLE_MINUTES", 5)
    browser = _client(app)
    moment = DAY + timedelta(hours=3)
    with clock.frozen(moment):
        _login(browser, "sitzung_g")
    with clock.frozen(moment + timedelta(minutes=6)):
        assert browser.get(f"/api/v1/case/{case_id}").status_code == 401
        login_page = browser.get("/login/").get_data(as_text=True)
    assert "Sie wurden nach 5 Minuten" not in login_page  # an API call leaves no notice behind
    assert not _signed_in(browser)


# --- 3. login throttling -------------------------------------------------------------------------------------

def _flashes(client) -> str:
    return client.get("/login/").get_data(as_text=True)


LOCKED = "Zu viele fehlgeschlagene Anmeldungen. Bitte in"


def test_ten_wrong_passwords_lock_the_account_until_the_lockout_has_passed(app, accounts):
    browser = _client(app)
    start = DAY + timedelta(days=1)
    with clock.frozen(start):
        for attempt in range(10):  # bounded: the limit is 10
            response = _login(browser, "sitzung_a", f"falsch-{attempt}")
            assert response.status_code == 302
        page = _flashes(browser)
        assert LOCKED + " 15 Minuten erneut versuchen." in page
        _login(browser, "sitzung_a", PASSWORD)  # the right password is refused while locked
        assert not _signed_in(browser)
        assert LOCKED in _flashes(browser)
    # also from another address: the lock is the account's
    other = _client(app)
    with clock.frozen(start + timedelta(minutes=10)):
        _login(other, "sitzung_a", PASSWORD)
        assert not _signed_in(other)
        assert LOCKED + " 5 Minuten erneut versuchen." in _flashes(other)
    with clock.frozen(start + timedelta(minutes=16)):
        _login(browser, "sitzung_a", PASSWORD)
        assert _signed_in(browser)


def test_lock_message_does_not_reveal_whether_the_account_exists(app, accounts):
    start = DAY + timedelta(days=2)
    pages = {}
    for name in ("sitzung_b", "gibt_es_nicht"):
        browser = _client(app)
        with clock.frozen(start):
            first = None
            for attempt in range(11):
                _login(browser, name, f"falsch-{attempt}")
                page = _flashes(browser)
                first = first or page
            pages[name] = (first, page)
    assert "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch." in pages["sitzung_b"][0]
    assert "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch." in pages["gibt_es_nicht"][0]
    assert LOCKED in pages["sitzung_b"][1] and LOCKED in pages["gibt_es_nicht"][1]


def test_one_address_is_limited_across_accounts(app, accounts):
    browser = _client(app)  # one address
    start = DAY + timedelta(days=3)
    with clock.frozen(start):
        for attempt in range(30):  # bounded: the address limit is 30, three failures per made-up name
            _login(browser, f"rate-{attempt // 3}", "falsch")
        _login(browser, "sitzung_c", PASSWORD)  # an existing account, right password, from that address
        assert not _signed_in(browser)
        assert LOCKED in _flashes(browser)
        elsewhere = _client(app)
        _login(elsewhere, "sitzung_c", PASSWORD)  # the account itself is not locked
        assert _signed_in(elsewhere)


def test_jwt_login_is_throttled_by_the_same_counter(app, accounts):
    if "SecurityApi.login" not in app.view_functions:
        pytest.skip("JWT-Anmeldung in dieser App nicht registriert (FAB_ADD_SECURITY_API)")
    browser = _client(app)
    start = DAY + timedelta(days=4)
    with clock.frozen(start):
        for attempt in range(10):
            browser.post("/api/v1/security/login", json={"username": "sitzung_d", "password": "falsch",
                                                         "provider": "db"})
        response = browser.post("/api/v1/security/login", json={
            "username": "sitzung_d", "password": "ein-neues-passwort-2026", "provider": "db"})
        assert response.status_code in (401, 429)


def test_jwt_login_path_counts_in_the_audit(app, accounts):
    """Whatever answers ``POST /api/v1/security/login``, its check is the security manager's
    ``auth_user_db``: called as the JWT login does, it is throttled and recorded like the form."""
    from app.extensions import db
    from app.session_models import LoginAttempt
    address = "10.12.0.1"
    start = DAY + timedelta(days=5)
    with clock.frozen(start):
        for attempt in range(10):
            with app.test_request_context("/api/v1/security/login", method="POST",
                                          environ_base={"REMOTE_ADDR": address}):
                assert app.appbuilder.sm.auth_user_db("sitzung_e", "falsch") is None
        with app.test_request_context("/api/v1/security/login", method="POST",
                                      environ_base={"REMOTE_ADDR": address}):
            assert app.appbuilder.sm.auth_user_db("sitzung_e", "mein-neues-passwort-26") is None  # locked
            rows = db.session.scalars(select(LoginAttempt).where(LoginAttempt.address == address)
                                      .order_by(LoginAttempt.id)).all()  # without an order PostgreSQL may
            db.session.remove()                                          # return the last one first
    assert [r.outcome for r in rows].count("failed") == 10 and rows[-1].outcome == "locked"
    assert {r.channel for r in rows} == {"api"}


# --- 3. the login audit --------------------------------------------------------------------------------------

def test_audit_lists_attempts_for_admins_only(app, accounts):
    browser = _client(app)
    address = browser.environ_base["REMOTE_ADDR"]
    moment = datetime(2026, 7, 1, 8, 5, tzinfo=timezone.utc)  # 10:05 in Berlin (summer time)
    with clock.frozen(moment):
        _login(browser, "sitzung_b", "voellig-falsch")
        _login(browser, "sitzung_b", PASSWORD)
        browser.post("/logout/")

    for admin in ("admin", "fachadmin_nord"):
        reader = _client(app)
        _login(reader, admin)
        response = reader.get(f"/login-audit/list/?_flt_0_address={address}")
        assert response.status_code == 200, admin
        page = response.get_data(as_text=True)
        assert "Anmeldeprotokoll" in page
        for text in ("sitzung_b", address, "01.07.2026 10:05", "Anmeldung fehlgeschlagen", "Anmeldung erfolgreich",
                     "Abgemeldet"):
            assert text in page, (admin, text)
        assert "Administration" in page and "/login-audit/list/" in page  # in the menu
        assert reader.get("/login-audit/add").status_code in (302, 403, 404, 405)  # read-only

    for clerk in ("sachbearbeitung_nord", "teamleitung_nord"):
        reader = _client(app)
        _login(reader, clerk)
        response = reader.get("/login-audit/list/")
        assert response.status_code in (302, 403), clerk
        assert "/login-audit/list/" not in reader.get("/worklist/").get_data(as_text=True)


@pytest.fixture(scope="module", autouse=True)
def _forget_attempts(app):
    yield
    from app.extensions import db
    from app.session_models import LoginAttempt
    with app.app_context():
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.address.like("10.1%")))
        db.session.commit()
        db.session.remove()


def test_end_sessions_ends_jwt_tokens_too(app, accounts, case_id):
    """A token is a session as well: issued before ``end_sessions`` (logout elsewhere, password change,
    deactivation), it no longer reads the case."""
    from app.extensions import db
    from app.services.sessions import end_sessions
    from flask_jwt_extended import create_access_token
    with app.test_request_context("/api/v1/security/login", method="POST"):
        token = create_access_token(identity=str(_user_id(app, "sitzung_g")), fresh=True)
    api = _client(app)
    headers = {"Authorization": f"Bearer {token}"}
    # (the list: which rows a token's user sees is the JWT work of #11 item 4, not this test's concern)
    assert api.get("/api/v1/case/", headers=headers).status_code == 200
    with app.app_context():
        end_sessions(_user_id(app, "sitzung_g"))
        db.session.remove()
    assert api.get("/api/v1/case/", headers=headers).status_code == 401
    assert api.get(f"/api/v1/case/{case_id}", headers=headers).status_code == 401


def test_behind_a_trusted_proxy_the_client_address_counts(db_url, tmp_path):
    """With FACHSTELLE_TRUSTED_PROXIES=1 the audit and the per-address throttle see X-Forwarded-For."""
    from app import create_app
    from tests.conftest import ROOT
    proxied = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "WTF_CSRF_ENABLED": False, "TESTING": True,
                          "SECRET_KEY": "test", "FACHSTELLE_CITY": None, "FACHSTELLE_TRUSTED_PROXIES": 1,
                          "FACHSTELLE_CONFIG_DIR": str(ROOT / "config")})
    seen = []
    proxied.before_request(lambda: seen.append(__import__("flask").request.remote_addr))
    proxied.test_client().get("/login/", headers={"X-Forwarded-For": "192.0.2.7"},
                              environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen == ["192.0.2.7"]
