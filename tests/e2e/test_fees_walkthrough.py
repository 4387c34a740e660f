"""Issue 12's fee steps in a real browser: an Obdachverwaltung clerk moves a household in (from a reservation),
gets the Gebührenbescheid as a .docx in one click (archived with a documentation entry), runs the month's fee
debits for the whole city from the menu, and hands them to the treasury file."""
from __future__ import annotations

import io
import re
import sqlite3
from datetime import timedelta

import pytest

from app import clock
from tests.e2e.browser_helpers import assert_german_page, page_text

pytestmark = pytest.mark.e2e


def reserved_case(server) -> tuple[int, str]:
    """A nord case without accommodation whose client holds a reservation on a free nord place (as the
    accommodation story's step 5 leaves it)."""
    case_id, client_id, unit, surname = server.query(
        "SELECT c.id, c.client_id, c.org_unit_id, p.surname FROM \"case\" c JOIN partner p ON p.id = c.client_id "
        "JOIN org_unit u ON u.id = c.org_unit_id WHERE u.code = 'nord' AND c.closed_on IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM occupancy o WHERE o.case_id = c.id OR o.person_id = c.client_id) "
        "AND NOT EXISTS (SELECT 1 FROM reservation r WHERE r.case_id = c.id) ORDER BY c.id DESC LIMIT 1")[0]
    today = clock.today()
    place_id, shelter_id = server.query(
        "SELECT pl.id, pl.shelter_id FROM place pl JOIN shelter s ON s.id = pl.shelter_id "
        "WHERE s.org_unit_id = ? AND NOT EXISTS (SELECT 1 FROM occupancy o WHERE o.place_id = pl.id "
        "AND (o.move_out IS NULL OR o.move_out > ?)) AND NOT EXISTS (SELECT 1 FROM reservation r "
        "WHERE r.place_id = pl.id) ORDER BY pl.id LIMIT 1", unit, today.isoformat())[0]
    with sqlite3.connect(server.db_path) as conn:
        state = conn.execute("SELECT id FROM catalogue_value WHERE catalogue = 'reservation_state' "
                             "AND code = 'aktiv'").fetchone()[0]
        conn.execute("INSERT INTO reservation (case_id, place_id, shelter_id, person_id, reserved_from, expires_on, "
                     "state_id, org_unit_id, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                     (case_id, place_id, shelter_id, client_id, today.isoformat(),
                      (today + timedelta(days=7)).isoformat(), state, unit))
    return case_id, surname


def test_fee_steps(live_server, page_for, shoot):
    import docx
    base = live_server.url
    case_id, surname = reserved_case(live_server)
    page = page_for("ov_nord")

    # 1. Move in from the reservation, then the Gebührenbescheid in one click.
    page.goto(f"{base}/accommodation/case/{case_id}")
    page.get_by_role("button", name="Haushalt einziehen lassen").click()
    assert "Eingezogen zum" in page.locator(".alert-success").inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Gebührenbescheid Einzug")).click()
    assert download.value.suggested_filename.endswith(".docx")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(open(download.value.path(), "rb").read())).paragraphs)
    assert "Gebührenbescheid" in text and "Summe dieses Bescheids" in text and "Kassenzeichen" in text
    assert "Rechtsbehelfsbelehrung" in text
    entries = live_server.query("SELECT COUNT(*) FROM doc_entry e JOIN service s ON s.id = e.service_id "
                                "WHERE e.case_id = ? AND s.code = 'gebuehrenbescheid'", case_id)[0][0]
    assert entries == 1  # archived with its documentation entry
    page.goto(f"{base}/accommodation/case/{case_id}")
    shoot(page, "fee-01-eingezogen-gebuehrenbescheid")

    # 2. The monthly run for the whole city from the menu: preview, then start.
    page.get_by_role("link", name="Unterbringung").first.click()
    page.get_by_role("link", name="Gebührenlauf").click()
    page.wait_for_url("**/fees/**")
    month = f"{clock.today():%Y-%m}"
    assert page.locator("#month").input_value() == month
    assert "neue Zeile" in page_text(page)
    shoot(page, "fee-02-gebuehrenlauf-vorschau")
    assert_german_page(page)
    page.get_by_role("button", name=f"Gebührenlauf {month} starten").click()
    flash = page.locator(".alert-success").inner_text()
    assert f"Gebührenlauf {month}:" in flash and "Sollstellung" in flash
    assert "Nichts Neues" in page_text(page)  # a second run would add nothing
    shoot(page, "fee-03-gebuehrenlauf-gebucht")

    # 3. Hand the debits to the treasury file (the command the treasury's export page also runs; that page is
    #    #13's and walked through there).
    target = live_server.root / "kasse.csv"
    live_server.cli("treasury", "export", "-o", str(target))
    content = target.read_text(encoding="utf-8-sig", errors="replace")
    assert "Unterkunftsgebühr" in content and surname in content
    assert "shelter_fee" in content  # the debits' Vorgang
