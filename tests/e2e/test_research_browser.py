"""#14 in Chromium: the start-page dashboard, then the research module — build a query, group it, see the
chart and the cross-table, save it for a profile, export it — and the XLSX read back with openpyxl."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.e2e.browser_helpers import assert_german_page

pytestmark = pytest.mark.e2e


def test_dashboard_research_chart_export(live_server, page_for, shoot):
    base = live_server.url
    page = page_for("tl_nord")

    # 1. The start page: the dashboard's tiles with their charts and tables.
    page.locator("#fs-tile-open_cases").wait_for()
    page.wait_for_function("document.querySelectorAll('.fs-tile canvas').length > 0 && "
                           "Array.from(document.querySelectorAll('.fs-tile canvas')).every(c => c.width > 0)")
    assert page.locator("#fs-tile-open_cases table tfoot").inner_text().startswith("Gesamt")
    assert page.locator("#fs-tile-quality_quarter").is_visible()
    shoot(page, "research-01-startseite-ueberblick")
    assert_german_page(page)

    # 2. The research page: columns and a filter.
    page.goto(f"{base}/research/")
    page.get_by_label("Seite").select_option(label="Fallakten")
    page.locator('input[name="c"][value="file_number"]').check()
    page.locator('input[name="c"][value="opened_on"]').check()
    page.locator('input[name="c"][value="status"]').check()
    page.locator("#f0").select_option(label="Fallbeginn")
    page.locator("#o0").select_option(label="von … bis")
    page.locator("#v0").fill("01.01.2020")
    page.locator("#w0").fill("31.12.2030")
    shoot(page, "research-02-abfrage")
    page.locator("#fs-research-run").click()
    page.locator("#fs-research-rows").wait_for()
    assert page.locator("#fs-research-rows tbody tr").count() > 0
    assert page.locator("#fs-research-rows thead").inner_text().split("\t")[0].strip() == "Aktenzeichen"
    shoot(page, "research-03-liste")

    # 3. Grouped by year of the case start and status: the chart and the cross-table.
    page.locator("#fs-g1").select_option(label="Fallbeginn (Jahr)")
    page.locator("#fs-g2").select_option(label="Status")
    page.locator("#fs-research-run").click()
    page.locator("#fs-crosstable").wait_for()
    page.wait_for_function("document.querySelector('.fs-research-chart canvas').width > 0")
    total = page.locator("#fs-crosstable tfoot td").last.inner_text().strip()
    assert total.replace(".", "").isdigit() and int(total.replace(".", "")) > 0
    shoot(page, "research-04-kreuztabelle-diagramm")
    assert_german_page(page)

    # 4. Saved for the profile Controlling.
    page.locator("#fs-save-name").fill("Fälle je Jahr und Status")
    page.locator("#fs-share").select_option("Controlling")
    page.locator("#fs-save").click()
    page.locator("#fs-saved-queries", has_text="Fälle je Jahr und Status").wait_for()
    assert page.locator("#fs-crosstable").is_visible()

    # 5. Excel of the same definition.
    with page.expect_download() as download:
        page.locator("#fs-research-export").click()
    data = open(download.value.path(), "rb").read()
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A1"].value.startswith("Fallakten; Filter: Fallbeginn von … bis 01.01.2020 bis 31.12.2030")
    assert sheet.cell(3, 1).value == "Fallbeginn (Jahr)"
    last = sheet.max_row
    assert sheet.cell(last, 1).value == "Gesamt"
    assert sheet.cell(last, sheet.max_column).value == int(total.replace(".", ""))
    shoot(page, "research-05-gespeichert")

    # 6. A controller opens the shared query.
    other = page_for("controlling")
    other.goto(f"{base}/research/")
    other.get_by_role("link", name="Fälle je Jahr und Status").click()
    other.locator("#fs-crosstable").wait_for()
    shoot(other, "research-06-controlling-geteilt")
    assert_german_page(other)

    # 7. The city-wide admin's start page: every district and the total, per tile.
    admin = page_for("fachadmin")
    admin.locator("#fs-tile-open_cases").wait_for()
    admin.wait_for_function("Array.from(document.querySelectorAll('.fs-tile canvas')).every(c => c.width > 0)")
    shoot(admin, "research-07-ueberblick-stadtweit")
    assert_german_page(admin)
