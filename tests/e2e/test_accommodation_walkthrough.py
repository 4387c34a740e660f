"""Issue 12 in a real browser (without the fee steps, which the fees module adds): an Obdachverwaltung clerk
opens the occupancy board and sees every shelter with rooms and free places tonight, filters it by keyboard,
records a need profile for a family of four (wheelchair, no pets, two rooms), gets the matching places
ranked with reasons, reserves, moves the family in, moves one member to another shelter a month later,
moves the family out, looks at the Belegungsliste (page, print view) and at June's utilisation.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import clock
from tests.e2e.browser_helpers import assert_german_page, field

pytestmark = pytest.mark.e2e


def family_case(server) -> tuple[int, str]:
    """A nord case without accommodation; its household (the client plus partner and two children) is
    put on the case file as it would already be there (household members exist before #12)."""
    rows = server.query(
        "SELECT c.id, p.surname FROM \"case\" c JOIN partner p ON p.id = c.client_id "
        "JOIN org_unit u ON u.id = c.org_unit_id WHERE u.code = 'nord' AND c.closed_on IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM occupancy o WHERE o.person_id = c.client_id) "
        "AND NOT EXISTS (SELECT 1 FROM reservation r WHERE r.case_id = c.id) ORDER BY c.id LIMIT 1")
    case_id, surname = rows[0]
    import sqlite3
    with sqlite3.connect(server.db_path) as conn:
        unit, kind, male, female, kid = (conn.execute(q).fetchone()[0] for q in (
            f"SELECT org_unit_id FROM \"case\" WHERE id = {case_id}",
            "SELECT id FROM catalogue_value WHERE catalogue = 'partner_kind' AND code = 'person'",
            "SELECT id FROM catalogue_value WHERE catalogue = 'sex' AND code = 'male'",
            "SELECT id FROM catalogue_value WHERE catalogue = 'sex' AND code = 'female'",
            "SELECT id FROM catalogue_value WHERE catalogue = 'household_role' AND code = 'kind'"))
        partner_role = conn.execute("SELECT id FROM catalogue_value WHERE catalogue = 'household_role' "
                                    "AND code = 'partner'").fetchone()[0]
        for first, sex, born, role in (("Jonas", male, "1983-04-02", partner_role), ("Mia", female, "2015-09-12", kid),
                                       ("Paul", male, "2019-02-20", kid)):
            cur = conn.execute("INSERT INTO partner (kind_id, surname, first_name, sex_id, birth_date, org_unit_id, "
                               "version) VALUES (?, ?, ?, ?, ?, ?, 1)", (kind, surname, first, sex, born, unit))
            conn.execute("INSERT INTO household_member (case_id, member_id, household_role_id, org_unit_id, version) "
                         "VALUES (?, ?, ?, ?, 1)", (case_id, cur.lastrowid, role, unit))
    return case_id, surname


def test_accommodation_story(live_server, page_for, shoot):
    base = live_server.url
    case_id, surname = family_case(live_server)
    today = clock.today()
    page = page_for("ov_nord")

    # 1. The board from the menu: every shelter of the unit with rooms and free places tonight.
    page.get_by_role("link", name="Unterbringung").first.click()
    page.get_by_role("link", name="Belegungsübersicht").click()
    page.wait_for_url("**/accommodation/board**")
    assert page.locator("details").count() >= 2
    assert re.search(r"\d+ von \d+ Plätzen frei", page.locator("#fs-board-total").inner_text())
    assert "Notunterkunft Süd" not in page.locator(".fs-board").inner_text()  # only the own unit's shelters
    shoot(page, "acc-01-belegungsuebersicht")
    assert_german_page(page)

    # 2. By keyboard: the date field has the focus; Tab to a filter, Space ticks it, Enter shows the result.
    date_box = field(page, "Datum")
    assert date_box.evaluate("el => el === document.activeElement")
    page.get_by_label("rollstuhlgerecht").focus()
    page.keyboard.press("Space")
    page.get_by_label("rollstuhlgerecht").press("Enter")
    page.wait_for_url("**attr=rollstuhl**")
    assert "Wohnung 1" in page.locator(".fs-board").inner_text()
    assert "OG 1" not in page.locator(".fs-board").inner_text()  # no wheelchair access there
    summary = page.locator("details summary").first
    summary.focus()
    page.keyboard.press("Enter")  # closes the open shelter
    assert page.locator("details").first.get_attribute("open") is None
    shoot(page, "acc-02-filter-rollstuhl-tastatur")

    # 3. The case's accommodation page, a need profile: four people, wheelchair, no pets, two rooms.
    page.goto(f"{base}/case/show/{case_id}")
    page.get_by_role("link", name=re.compile("Unterbringung \\(Bedarf")).click()
    page.wait_for_url(f"**/accommodation/case/{case_id}")
    assert page.locator("text=Jonas").count() and page.locator("text=Paul").count()
    page.get_by_role("link", name="Bedarfsprofil erfassen").click()
    page.wait_for_url("**/need-profile/add**")
    field(page, "Personen im Haushalt").fill("4")
    field(page, "Räume mindestens").fill("2")
    field(page, "erforderliche Merkmale").select_option(label="rollstuhlgerecht", force=True)
    field(page, "ausgeschlossene Merkmale").select_option(label="Haustiere erlaubt", force=True)
    shoot(page, "acc-03-bedarfsprofil")
    page.locator("#model_form button[type=submit], #model_form input[type=submit]").first.click()
    page.wait_for_url(lambda url: "/add" not in url)

    # 4. Matching: ranked, each with its reasons; unsuitable places with theirs.
    page.goto(f"{base}/accommodation/case/{case_id}")
    page.get_by_role("link", name="Passende Plätze").first.click()
    page.wait_for_url("**/accommodation/match/**")
    first = page.locator("#fs-matches tbody tr").first
    assert "Wohnung 1 + Wohnung 3" in first.inner_text()
    assert "erfüllt: rollstuhlgerecht" in first.inner_text() and "ohne: Haustiere erlaubt" in first.inner_text()
    assert page.locator("#fs-unsuitable").count() == 0  # by default only the suitable places
    shoot(page, "acc-04a-nur-geeignete")
    page.get_by_role("link", name="Auch ungeeignete Plätze mit Grund zeigen").click()
    page.wait_for_url("**ungeeignete=1**")
    assert "Wohnung 1 + Wohnung 3" in page.locator("#fs-matches tbody tr").first.inner_text()
    unsuitable = page.locator("#fs-unsuitable").inner_text()
    assert "Haustiere erlaubt (ausgeschlossen)" in unsuitable and "nicht rollstuhlgerecht" in unsuitable
    shoot(page, "acc-04-passende-plaetze")
    assert_german_page(page)

    # 5. Reserve, then move the family in.
    first.get_by_role("button", name=re.compile("Plätze reservieren")).click()
    page.wait_for_url(f"**/accommodation/case/{case_id}")
    assert "reserviert bis" in page.locator(".alert-success").inner_text()
    shoot(page, "acc-05-reserviert")
    page.get_by_role("button", name="Haushalt einziehen lassen").click()
    assert "Eingezogen zum" in page.locator(".alert-success").inner_text()
    assert page.locator("#fs-occupancies tbody tr").count() == 4
    shoot(page, "acc-06-eingezogen")

    # 6. A month later Jonas moves to another shelter (one action: out here, in there, same day).
    # The clerk first picks the transfer day: the select then offers the places free from that day on.
    later = today + timedelta(days=30)
    page.locator("#fs-transfer-date-input").fill(later.strftime("%d.%m.%Y"))
    page.get_by_role("button", name="Freie Plätze für diesen Tag zeigen").click()
    row = page.locator("#fs-occupancies tbody tr", has_text="Jonas")
    assert row.locator("input[name=day]").input_value() == later.strftime("%d.%m.%Y")
    assert f"frei ab {later:%d.%m.%Y}" in row.locator("select[name=place]").inner_text()
    row.locator("select[name=place]").select_option(index=1)
    row.get_by_role("button", name="Verlegen").click()
    assert "Verlegt zum" in page.locator(".alert-success").inner_text()
    assert page.locator("#fs-occupancies tbody tr", has_text="Verlegung").count() == 1
    shoot(page, "acc-07-verlegt")

    # 7. The family moves out.
    out = today + timedelta(days=45)
    page.locator("#fs-move-out-date").fill(out.strftime("%d.%m.%Y"))
    page.locator("#fs-move-out-reason").select_option("eigene_wohnung")
    page.get_by_role("button", name="Ganzer Haushalt zieht aus").click()
    assert "4 Person(en)" in page.locator(".alert-success").inner_text()
    shoot(page, "acc-08-ausgezogen")

    # 8. The Belegungsliste of the family's shelter on a night they were there: page and print view.
    shelter_id = live_server.query("SELECT shelter_id FROM occupancy WHERE case_id = ? ORDER BY move_in LIMIT 1",
                                   case_id)[0][0]
    page.goto(f"{base}/accommodation/list/{shelter_id}?date={(today + timedelta(days=1)):%d.%m.%Y}")
    assert surname in page.locator("#fs-occupancy-list").inner_text()
    shoot(page, "acc-09-belegungsliste")
    assert_german_page(page)
    page.goto(f"{base}/accommodation/list/{shelter_id}?date={(today + timedelta(days=1)):%d.%m.%Y}&print=1")
    assert page.locator("h1").inner_text().startswith("Belegungsliste")
    shoot(page, "acc-10-belegungsliste-druck")
    page.goto(f"{base}/accommodation/list/print?date={(today + timedelta(days=1)):%d.%m.%Y}")
    assert page.locator("section.fs-print-shelter").count() >= 2
    page.emulate_media(media="print")
    shoot(page, "acc-10b-belegungslisten-alle-druck")
    page.emulate_media(media="screen")

    # 9. June's utilisation per shelter: table and chart.
    page.goto(f"{base}/accommodation/board")
    page.get_by_role("link", name="Unterbringung").first.click()
    page.get_by_role("link", name="Auslastung").click()
    page.locator("#fs-util-month").select_option("6")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url("**month=6**")
    assert page.locator("#fs-utilisation tbody tr").count() >= 2
    assert page.locator(".fs-util-chart rect").count() >= 2
    assert "30.06." in page.locator("h2").inner_text()
    shoot(page, "acc-11-auslastung-juni")
    assert_german_page(page)
