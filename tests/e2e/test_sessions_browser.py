"""#11 in Chromium: a session cookie copied before sign-out is refused afterwards; ten wrong passwords lock
the account with a German message, also for the right password; the admin reads it in the login audit.

Accounts used only here (sa_nord, sa_sued): the lockout must not reach the other walk-throughs.
"""
from __future__ import annotations

import re

from tests.e2e.browser_helpers import field as labelled
from tests.e2e.conftest import TIMEOUT_MS


def _sign_out(page, url: str) -> None:
    """By the user menu: open it, then its "Abmelden" button (a POST with the CSRF token)."""
    page.locator("#fs-user-menu").click()
    page.locator("form[action*='logout'] [type=submit]").first.click()
    page.wait_for_url(lambda address: "/login" in address)


def test_cookie_copied_before_sign_out_is_refused(browser, live_server, page_for, shoot):
    page = page_for("sa_nord")
    copy = browser.new_context(locale="en-US")
    copy.set_default_timeout(TIMEOUT_MS)
    try:
        copy.add_cookies(page.context.cookies())
        other = copy.new_page()
        other.goto(f"{live_server.url}/worklist/")
        assert other.url.endswith("/worklist/")  # the copy works while the session lives

        _sign_out(page, live_server.url)
        other.goto(f"{live_server.url}/worklist/")
        assert "/login/" in other.url
        shoot(other, "sitzung-kopie-abgewiesen")
    finally:
        copy.close()


def test_ten_wrong_passwords_lock_the_account(browser, live_server, page_for, shoot):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        for attempt in range(10):  # bounded: the limit is 10
            page.goto(f"{live_server.url}/login/")
            labelled(page, "Benutzername").fill("sa_sued")
            labelled(page, "Passwort").fill(f"falsch-{attempt}")
            labelled(page, "Passwort").press("Enter")
            page.wait_for_url(re.compile(r"/login/"))
        labelled(page, "Benutzername").fill("sa_sued")
        labelled(page, "Passwort").fill("demo")  # the right one
        labelled(page, "Passwort").press("Enter")
        page.wait_for_url(re.compile(r"/login/"))
        assert "Zu viele fehlgeschlagene Anmeldungen. Bitte in 15 Minuten erneut versuchen." in page.content()
        shoot(page, "anmeldung-gesperrt")
    finally:
        context.close()

    admin = page_for("fachadmin")
    admin.goto(f"{live_server.url}/login-audit/list/")
    text = admin.content()
    assert "Anmeldeprotokoll" in text and "sa_sued" in text and "Abgewiesen: vorübergehend gesperrt" in text
    shoot(admin, "anmeldeprotokoll")
