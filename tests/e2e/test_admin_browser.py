"""The admin screens as the Fachadmin meets them (#11 item 8): the users list, the catalogues with their
usage, and the profile editor — a level changed in the browser holds for a clerk of that profile at once."""
from __future__ import annotations

import re

from tests.e2e.browser_helpers import page_text


def test_fachadmin_walks_the_admin_screens(page_for, live_server, shoot):
    admin = page_for("fachadmin")

    admin.goto(f"{live_server.url}/users/list/")
    text = page_text(admin)
    assert "object at 0x" not in text and "Dienststellen" in text and "Benutzername" in text
    assert not re.search(r"\b(True|False)\b", text)
    shoot(admin, "admin-01-benutzerkonten")
    admin.goto(f"{live_server.url}/users/add")
    text = page_text(admin)
    assert "Dienststellen" in text and "Profile" in text and "object at 0x" not in text
    shoot(admin, "admin-01b-benutzerkonto-anlegen")

    # Administration › Kataloge opens the overview: each catalogue by its German name and where it is used.
    admin.click("text=Administration")
    admin.click("a:has-text('Kataloge')")
    assert "Partner › Partnerart" in page_text(admin)
    shoot(admin, "admin-02-katalog-verwendung")
    admin.locator("tr", has_text="Partnerrolle").first.locator("text=Werte anzeigen").click()
    text = page_text(admin)
    assert "Angezeigt: Katalog Partnerrolle" in text and not re.search(r"\b(True|False|None)\b", text)
    shoot(admin, "admin-03-katalog-partnerrolle")
    admin.goto(f"{live_server.url}/catalogues/add?catalogue=partner_role")
    shoot(admin, "admin-04-katalogwert-anlegen")

    # The menu leads to the profile editor; FAB's raw role screens are not offered.
    admin.goto(f"{live_server.url}/")
    admin.click("text=Administration")
    assert admin.locator("a:has-text('Berechtigungsprofile')").count() == 1
    admin.click("a:has-text('Berechtigungsprofile')")
    assert "sync-roles" in page_text(admin)
    shoot(admin, "admin-05-profile")
    refused = admin.goto(f"{live_server.url}/roles/list/")
    assert refused.status == 403 and "Kein Zugriff" in page_text(admin)

    admin.goto(f"{live_server.url}/profiles/Sachbearbeitung")
    shoot(admin, "admin-06-profil-sachbearbeitung")
    clerk = page_for("sb_nord")
    refused = clerk.goto(f"{live_server.url}/social-situation/list/")
    assert refused.status == 403 and "Kein Zugriff" in page_text(clerk)

    admin.check("#level_social_situation_read")
    admin.click("button:has-text('Profil speichern')")
    assert "gespeichert" in page_text(admin)
    shoot(admin, "admin-07-profil-gespeichert")

    allowed = clerk.goto(f"{live_server.url}/social-situation/list/")
    assert allowed.status == 200 and "Kein Zugriff" not in page_text(clerk)
    shoot(clerk, "admin-08-sachbearbeitung-liest-sozialsituation")

    admin.check("#level_social_situation_none")  # back as roles.yaml has it
    admin.click("button:has-text('Profil speichern')")
    assert not admin.js_errors and not clerk.js_errors
