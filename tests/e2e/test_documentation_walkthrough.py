"""Issue 4 in a real browser: a clerk opens a case, adds the entry "1. Einladung Räumungsklage", presses
one button, gets a correct letter (client's address, letterhead, proposed appointment), downloads it and
finds it archived with the entry; the follow-up it created is on the worklist. A clerk of the other
district sees none of it.

Issue 5's path follows: the clerk registers a court's notice for a new person and finds the standard
letter's deadline on the case and in the worklist.
"""
from __future__ import annotations

import io
import re

import pytest
from docx import Document

from app import clock  # Berlin's date: the app's today, also in the hour after Berlin's midnight
from tests.e2e.browser_helpers import assert_german_page, choose, field

pytestmark = pytest.mark.e2e


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs]
    return "\n".join(parts)


def nord_case_with_address(server) -> tuple[int, str, str, str, str]:
    rows = server.query(
        "SELECT c.id, p.surname, p.first_name, a.street, a.postcode FROM \"case\" c "
        "JOIN partner p ON p.id = c.client_id JOIN address a ON a.partner_id = p.id "
        "JOIN org_unit u ON u.id = c.org_unit_id WHERE u.code = 'nord' AND c.closed_on IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM doc_entry d WHERE d.case_id = c.id) ORDER BY c.id LIMIT 1")
    assert rows, "keine passende Demo-Fallakte"
    return rows[0]


def test_entry_letter_and_worklist(live_server, page_for, shoot):
    base = live_server.url
    case_id, surname, first_name, street, postcode = nord_case_with_address(live_server)

    # 1. The clerk logs in and lands on the worklist.
    page = page_for("sb_nord")
    assert page.locator(".fs-worklist-overdue").is_visible()
    shoot(page, "doc-01-startseite-arbeitsliste")
    assert_german_page(page)

    # 2. The case, its documentation tab, a new entry "1. Einladung Räumungsklage".
    page.goto(f"{base}/case/show/{case_id}")
    page.locator(".nav-tabs").get_by_role("link", name="Falldokumentation", exact=True).click()
    page.locator(".tab-pane.active").locator('a[href*="/doc-entry/add"]').click()
    page.wait_for_url("**/doc-entry/add**")
    assert field(page, "Datum").input_value() == clock.today().strftime("%d.%m.%Y")  # default: today
    choose(page, "Leistung", "1. Einl", "1. Einladung Räumungsklage")
    field(page, "Kurzinfo").fill("Einladung mit festem Termin")
    shoot(page, "doc-02-eintrag-neu")
    assert_german_page(page)
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(lambda url: "/doc-entry/add" not in url)
    entry_id = live_server.query("SELECT id FROM doc_entry WHERE case_id = ? AND info = ?", case_id,
                                 "Einladung mit festem Termin")[0][0]

    # 3. One button: the letter, archived with the entry, with a proposed appointment.
    page.goto(f"{base}/doc-entry/show/{entry_id}")
    page.get_by_role("button", name="Brief erzeugen").click()
    page.get_by_text("erstellt und beim Eintrag archiviert").wait_for()
    flash = page.locator(".alert-success").inner_text()
    proposed = re.search(r"Vorgeschlagener Termin: (\d\d\.\d\d\.\d{4}) um (\d\d:\d\d) Uhr", flash)
    assert proposed, flash
    shoot(page, "doc-03-brief-archiviert")
    assert_german_page(page)
    with page.expect_download() as download_info:
        page.locator(".fs-letters").get_by_role("link", name=re.compile(r"\.docx$")).first.click()
    download = download_info.value
    text = docx_text(open(download.path(), "rb").read())
    for expected in (f"{first_name} {surname}", street, postcode, proposed.group(1), proposed.group(2)):
        assert expected in text, expected
    assert re.search(r"Sehr geehrte[r]? (Herr|Frau) " + re.escape(surname), text)

    # 4. The follow-up it created (first home visit, 10 working days later) is on the worklist.
    page.goto(f"{base}/worklist/")
    row = page.locator("table.fs-worklist tr", has_text="1. Hausbesuch").filter(has_text=surname)
    row.first.wait_for()
    shoot(page, "doc-04-arbeitsliste-wiedervorlage")
    row.first.get_by_role("link").nth(1).click()  # one click into the case
    page.wait_for_url(f"**/case/show/{case_id}")

    # 5. The other district's clerk sees neither the entry nor the letter.
    other = page_for("sb_sued")
    assert other.goto(f"{base}/doc-entry/show/{entry_id}").status == 404
    letter_id = live_server.query("SELECT id FROM letter WHERE doc_entry_id = ?", entry_id)[0][0]
    assert other.goto(f"{base}/letters/{letter_id}/docx").status == 404
    shoot(other, "doc-05-sued-nicht-gefunden")


def qs_row(page, unit: str, code: str) -> dict[str, int]:
    """Zähler, Nenner and offen of one indicator in the table of ``unit`` on the report page."""
    table = page.locator("table.fs-indicators").filter(has=page.locator("caption", has_text=re.compile(rf"^{unit}$")))
    row = table.locator("tbody tr").filter(has=page.locator("th", has_text=re.compile(rf"^{re.escape(code)}$")))
    cells = row.first.locator("td").all_inner_texts()
    return {"numerator": int(cells[1]), "denominator": int(cells[3]), "pending": int(cells[5])}


def add_entry(page, base: str, case_id: int, service_typed: str, service: str) -> None:
    page.goto(f"{base}/doc-entry/add?_flt_0_case={case_id}")
    choose(page, "Leistung", service_typed, service)
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(lambda url: "/doc-entry/add" not in url)


def test_notice_task_letter_and_the_indicator_moves(live_server, page_for, shoot):
    """Issue 5: register a notice, see the task, send the letter, see QS 1.1 move for the district."""
    base = live_server.url
    lead = page_for("tl_nord")  # Teamleitung reads the indicators of its district
    report = f"{base}/indicators/?kind=month"
    lead.goto(report)
    before = qs_row(lead, "Fachstelle Nord", "1.1")
    shoot(lead, "qs-01-kennzahlen-vorher")
    assert_german_page(lead)

    # The clerk registers the court's notice for a new person: task with its deadline at once.
    page = page_for("sb_nord")
    page.get_by_role("link", name="Räumungsklage").first.click()
    page.wait_for_url("**/notices/lawsuit")
    field(page, "Name").fill("Notizbaum")
    field(page, "Vorname").fill("Erika")
    field(page, "Geburtsdatum").fill("02.03.1971")
    field(page, "Geburtsdatum").press("Escape")
    field(page, "Straße").fill("Lindenallee")
    field(page, "Hausnummer").fill("7")
    field(page, "PLZ").fill("12345")
    field(page, "Ort").fill("Musterstadt")
    field(page, "Aktenzeichen des Gerichts").fill("12 C 777/26")
    shoot(page, "qs-02-raeumungsklage-erfassen")
    assert_german_page(page)
    page.get_by_role("button", name="Erfassen").click()
    page.wait_for_url("**/case/show/**")
    case_id = int(re.search(r"/case/show/(\d+)", page.url).group(1))
    flash = page.locator(".alert-success").inner_text()
    assert "Räumungsklage erfasst (neue Person und neue Fallakte)" in flash
    assert "Standardanschreiben Räumungsklage versenden: fällig am" in flash
    shoot(page, "qs-03-fallakte-mit-frist")
    page.goto(f"{base}/worklist/")
    page.locator("table.fs-worklist tr", has_text="Standardanschreiben").filter(has_text="Notizbaum").first.wait_for()
    shoot(page, "qs-04-arbeitsliste-anschreiben")

    lead.goto(report)
    pending = qs_row(lead, "Fachstelle Nord", "1.1")
    assert pending == {**before, "pending": before["pending"] + 1}  # deadline not yet passed: pending

    # The letter goes out: entry "1. Einladung Räumungsklage", one button.
    add_entry(page, base, case_id, "1. Einl", "1. Einladung Räumungsklage")
    entry_id = live_server.query("SELECT MAX(id) FROM doc_entry WHERE case_id = ?", case_id)[0][0]
    page.goto(f"{base}/doc-entry/show/{entry_id}")
    page.get_by_role("button", name="Brief erzeugen").click()
    page.get_by_text("erstellt und beim Eintrag archiviert").wait_for()

    lead.goto(report)
    after = qs_row(lead, "Fachstelle Nord", "1.1")
    assert after == {"numerator": before["numerator"] + 1, "denominator": before["denominator"] + 1,
                     "pending": before["pending"]}
    shoot(lead, "qs-05-kennzahlen-nachher")
    # Drill-down: the case is behind the numerator.
    lead.locator("table.fs-indicators").filter(has=lead.locator("caption", has_text=re.compile("^Fachstelle Nord$"))) \
        .locator("tbody tr").first.locator("td").nth(1).get_by_role("link").click()
    behind = lead.locator("table tr", has_text="Notizbaum")
    behind.first.wait_for()
    assert behind.first.locator(f'a[href$="/case/show/{case_id}"]').count() == 1
    shoot(lead, "qs-06-drilldown")
