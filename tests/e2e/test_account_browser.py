"""Sign in, change the password, open the user menu, sign out — in Chromium (#11).

The account comes from ``fachstelle users add --temporary-password``: the first page after signing in is
"Passwort ändern". The session cookie copied just before signing out is refused afterwards (server-side sessions).
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.browser_helpers import field as labelled
from tests.e2e.conftest import TIMEOUT_MS

FIRST = "Vorläufig vergeben 2026!"
OWN = "Kaffeetasse Nordbahnhof blau"


def _sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login/")
    labelled(page, "Benutzername").fill(username)
    labelled(page, "Passwort").fill(password)
    labelled(page, "Passwort").press("Enter")


def test_sign_in_change_password_user_menu_and_sign_out(live_server, browser, shoot):
    live_server.cli("users", "add", "--username", "konto_probe", "--password", FIRST, "--role", "Sachbearbeitung",
                    "--org-unit", "nord", "--first-name", "Karla", "--last-name", "Konto", "--temporary-password")
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # 1. A temporary password: the first page is "Passwort ändern", and every other page leads back there.
        _sign_in(page, live_server.url, "konto_probe", FIRST)
        page.wait_for_url(re.compile(r"/account/password$"))
        expect(page.get_by_text("Ihr Passwort wurde von der Administration vergeben.")).to_be_visible()
        page.goto(f"{live_server.url}/partner/list/")
        page.wait_for_url(re.compile(r"/account/password$"))
        shoot(page, "konto-1-passwort-vorlaeufig")

        # 2. The wrong current password changes nothing and says so.
        labelled(page, "Bisheriges Passwort").fill("geraten-falsch")
        labelled(page, "Neues Passwort").fill(OWN)
        labelled(page, "Neues Passwort wiederholen").fill(OWN)
        page.get_by_role("button", name="Passwort ändern").click()
        expect(page.get_by_role("alert").filter(has_text="Das bisherige Passwort stimmt nicht.")).to_be_visible()
        assert labelled(page, "Bisheriges Passwort").evaluate("el => el === document.activeElement")
        # 3. A guessable new one is refused with the policy's reason.
        labelled(page, "Bisheriges Passwort").fill(FIRST)
        labelled(page, "Neues Passwort").fill("passwort1234")
        labelled(page, "Neues Passwort wiederholen").fill("passwort1234")
        page.get_by_role("button", name="Passwort ändern").click()
        expect(page.get_by_role("alert").filter(has_text="Das Passwort ist zu leicht zu erraten.")).to_be_visible()
        assert labelled(page, "Neues Passwort").evaluate("el => el === document.activeElement")
        shoot(page, "konto-2-zu-leicht")
        # 4. The right one: the start page, with the notice.
        labelled(page, "Bisheriges Passwort").fill(FIRST)
        labelled(page, "Neues Passwort").fill(OWN)
        labelled(page, "Neues Passwort wiederholen").fill(OWN)
        page.get_by_role("button", name="Passwort ändern").click()
        page.wait_for_url(re.compile(r"/$"))
        expect(page.get_by_text("Ihr Passwort wurde geändert.")).to_be_visible()

        # 5. The user menu: name, "Mein Profil", "Passwort ändern", "Abmelden".
        menu = page.get_by_role("button", name=re.compile("Karla Konto"))
        menu.click()
        expect(page.get_by_role("link", name="Mein Profil")).to_be_visible()
        expect(page.get_by_role("link", name="Passwort ändern")).to_be_visible()
        expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
        shoot(page, "konto-3-benutzermenue")
        page.get_by_role("link", name="Mein Profil").click()
        expect(page.get_by_role("cell", name="konto_probe", exact=True)).to_be_visible()
        expect(page.get_by_role("cell", name="Fachstelle Nord", exact=True)).to_be_visible()
        expect(page.get_by_role("cell", name="Sachbearbeitung", exact=True)).to_be_visible()
        shoot(page, "konto-4-profil")

        # 6. Sign out by the menu: the login page says so; a page behind the login asks for it again.
        copy = browser.new_context(locale="de-DE")  # another PC with this browser's cookie, copied now
        copy.set_default_timeout(TIMEOUT_MS)
        copy.add_cookies(context.cookies())
        other = copy.new_page()
        other.goto(f"{live_server.url}/account/profile")
        assert other.url.endswith("/account/profile")  # the copy works while the session lives
        page.get_by_role("button", name=re.compile("Karla Konto")).click()
        page.get_by_role("button", name="Abmelden").click()
        page.wait_for_url(re.compile(r"/login/"))
        expect(page.get_by_text("Sie sind abgemeldet.")).to_be_visible()
        shoot(page, "konto-5-abgemeldet")
        page.goto(f"{live_server.url}/account/profile")
        page.wait_for_url(re.compile(r"/login/"))
        other.goto(f"{live_server.url}/account/profile")  # the old cookie: refused after the sign-out
        other.wait_for_url(re.compile(r"/login/"))
        shoot(other, "konto-6-alter-cookie-abgewiesen")
        copy.close()

        # 7. The new password signs in; the old one no longer does.
        _sign_in(page, live_server.url, "konto_probe", FIRST)
        page.wait_for_url(re.compile(r"/login/"))
        _sign_in(page, live_server.url, "konto_probe", OWN)
        page.wait_for_url(re.compile(r"/$"))
        assert errors == []
    finally:
        context.close()
