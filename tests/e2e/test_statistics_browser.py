"""Issue 14 in a real browser: the controller sees the federal delivery deadline on the worklist, opens the
statistics, computes the NRW form for a Stichtag with accommodated persons, drills down to the persons behind
a number, freezes a version, and freezes and marks the federal records delivered — then the reminder is gone.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from app import clock
from tests.e2e.browser_helpers import assert_german_page, page_text

pytestmark = pytest.mark.e2e


def nrw_day(server) -> date:
    """The latest 30 June up to this year on which the demo has someone accommodated under the OBG."""
    for year in range(clock.today().year, 2015, -1):
        day = f"{year}-06-30"
        found = server.query(
            "SELECT count(*) FROM occupancy o JOIN catalogue_value b ON b.id = o.legal_basis_id "
            "WHERE b.code = 'obg' AND o.move_in <= ? AND (o.move_out IS NULL OR o.move_out > ?)", day, day)
        if found[0][0]:
            return date(year, 6, 30)
    pytest.skip("Die Demodaten haben an keinem 30.06. eine ordnungsrechtliche Unterbringung.")


def test_statistics_walkthrough(live_server, page_for, shoot):
    base = live_server.url
    stichtag = nrw_day(live_server)
    page = page_for("controlling")
    page.goto(f"{base}/worklist/")
    reminder = page.locator(".fs-statistics-due")
    assert "Lieferfrist" in reminder.inner_text()
    shoot(page, "14-01-worklist-deadline")
    reminder.get_by_role("link", name="Zur Statistik").click()
    page.wait_for_url(re.compile(r"/statistics/\?kind=bund"))
    assert "Bundesstatistik WoBerichtsG" in page.locator("h2").inner_text()
    assert_german_page(page)

    page.get_by_role("link", name="NRW-Statistik (Stichtag 30.06.)").click()
    page.get_by_label("Stichtag").fill(stichtag.strftime("%d.%m.%Y"))
    page.get_by_label("Stichtag").press("Enter")
    page.wait_for_load_state()
    table = page.locator("table.fs-indicators")
    total_row = table.locator("tr", has_text="Personen gesamt")
    total = int(total_row.locator("td").first.inner_text())
    assert total > 0
    shoot(page, "14-02-nrw-form")
    assert_german_page(page)
    total_row.locator("td").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/statistics/persons"))
    assert f"{total} Person(en)" in page_text(page)
    assert page.locator("table tbody tr").count() == min(total, 100)
    shoot(page, "14-03-persons-behind-the-number")
    page.get_by_role("link", name="zurück zur Statistik").click()

    page.get_by_placeholder("Bemerkung (optional)").fill("Probelauf")
    page.get_by_role("button", name="Als neue Version einfrieren").click()
    page.wait_for_url(re.compile(r"/statistics/snapshot/\d+"))
    assert "Eingefrorene Version 1" in page.locator(".alert-info").inner_text()
    shoot(page, "14-04-frozen-version")

    page.get_by_role("link", name="Bundesstatistik WoBerichtsG (Stichtag 31.01.)").click()
    page.get_by_role("button", name="Als neue Version einfrieren").click()
    page.wait_for_url(re.compile(r"/statistics/snapshot/\d+"))
    page.get_by_role("button", name="als geliefert vermerken").click()
    assert "geliefert am" in page.locator(".alert-info").inner_text()
    page.goto(f"{base}/worklist/")
    assert page.locator(".fs-statistics-due").count() == 0
    assert not page.csp_violations, page.csp_violations
