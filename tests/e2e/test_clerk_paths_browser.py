"""Issue #11 in a real browser: a clerk registers a Räumungsklage notice and reaches the letter in at most two
clicks after saving; the one search box opens the case by Aktenzeichen and by birth date."""
from __future__ import annotations

import re
import zipfile
import io

import pytest

from tests.e2e.browser_helpers import assert_german_page, field, type_date

pytestmark = pytest.mark.e2e

BORN = "29.02.1904"  # a birth date no demo partner has


def test_raeumungsklage_to_letter_in_two_clicks_and_the_search_box(live_server, page_for, shoot):
    base = live_server.url
    page = page_for("sb_nord")
    page.get_by_role("link", name="Räumungsklage").first.click()
    page.wait_for_url("**/notices/lawsuit")
    field(page, "Name").fill("Zweiklick")
    field(page, "Vorname").fill("Sieglinde")
    type_date(page, "Geburtsdatum", BORN)
    field(page, "Straße").fill("Lagesche Str.")
    field(page, "Hausnummer").fill("7")
    field(page, "PLZ").fill("33102")
    field(page, "Ort").fill("Paderborn")
    shoot(page, "clerk-01-raeumungsklage-erfassen")
    page.get_by_role("button", name="Erfassen").click()
    page.get_by_text("Räumungsklage erfasst").wait_for()
    shoot(page, "clerk-02-nach-dem-speichern")
    assert_german_page(page)

    # After saving the notice, count the clicks to the letter.
    clicks = 0
    page.get_by_role("button", name="1. Einladung Räumungsklage: Brief erzeugen").click()
    clicks += 1
    page.get_by_text("erstellt und beim Eintrag archiviert").wait_for()
    shoot(page, "clerk-03-brief-erzeugt")
    assert_german_page(page)
    with page.expect_download() as download_info:
        page.locator(".alert-success").get_by_role("link", name="Brief öffnen").click()
        clicks += 1
    data = open(download_info.value.path(), "rb").read()
    document = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert "Zweiklick" in document and "33102" in document
    assert clicks <= 2
    # The page the letter button led to is the entry, under its case.
    assert page.locator(".fs-breadcrumb").get_by_role("link", name=re.compile(r"^Fallakte \d{4}")).is_visible()
    assert re.match(r"Doku-Eintrag .* – Fachstelle", page.title())

    # The search box in the navbar: Aktenzeichen and birth date open the single match.
    case_id, number = live_server.query(
        "SELECT c.id, c.file_number FROM \"case\" c JOIN partner p ON p.id = c.client_id WHERE p.surname = ?",
        "Zweiklick")[0]
    for typed in (number, BORN):
        page.goto(f"{base}/partner/list/")
        box = page.locator("#fs-search-nav")
        box.fill(typed)
        box.press("Enter")
        page.wait_for_url(f"**/case/show/{case_id}")
        assert page.title() == f"Fallakte {number} – Fachstelle"
    shoot(page, "clerk-04-suche-aktenzeichen")
    page.goto(f"{base}/")
    page.locator("#quick").fill("Zweiklick")
    page.locator("#quick").press("Enter")
    page.wait_for_url(f"**/case/show/{case_id}")
    page.goto(f"{base}/search/?q=Meier")
    shoot(page, "clerk-05-suche-liste")
    assert_german_page(page)

    # "Meine Fälle" from the start page: the demo clerk's cases, the new one first.
    page.goto(f"{base}/")
    page.locator(".fs-quicksearch").get_by_role("link", name="Meine Fälle").click()
    page.wait_for_url("**/my-cases/")
    rows = page.locator("table.fs-my-cases tbody tr")
    assert rows.count() > 1 and number in rows.first.inner_text()
    shoot(page, "clerk-09-meine-faelle")
    assert_german_page(page)


def test_duplicate_step_and_the_faulty_field_in_the_browser(live_server, page_for, shoot):
    base = live_server.url
    surname, birth = live_server.query(
        "SELECT surname, birth_date FROM partner p JOIN org_unit o ON o.id = p.org_unit_id "
        "WHERE o.code = 'nord' AND birth_date IS NOT NULL ORDER BY p.id LIMIT 1")[0]
    y, m, d = birth.split("-")
    page = page_for("sb_nord")
    page.goto(f"{base}/partner/add")
    field(page, "Name").fill(surname)
    type_date(page, "Geburtsdatum", f"{d}.{m}.{y}")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("Möglicher Doppelsatz").wait_for()
    assert page.get_by_role("link", name="Vorhandenen öffnen").first.is_visible()
    assert f"{surname}, {d}.{m}.{y} ist vielleicht schon erfasst" in page.locator(".fs-look-alikes").inner_text()
    shoot(page, "clerk-06-dublette-als-schritt")
    assert_german_page(page)
    before = live_server.query("SELECT count(*) FROM partner WHERE surname = ?", surname)[0][0]
    page.get_by_role("button", name="Trotzdem anlegen").click()
    page.wait_for_url(re.compile(r"/partner/show/\d+"))
    assert live_server.query("SELECT count(*) FROM partner WHERE surname = ?", surname)[0][0] == before + 1
    assert page.get_by_text(f"Partner {surname} angelegt.").is_visible()
    shoot(page, "clerk-07-trotzdem-angelegt")

    # A refused save: the message once, the cursor in the faulty field (not the first field of the form).
    page.goto(f"{base}/partner/add")
    field(page, "Name").fill("Fokusprobe")
    field(page, "Vorname").fill("Sieglinde")
    type_date(page, "Geburtsdatum", "31.02.1970")
    page.get_by_role("button", name="Speichern").click()
    errors = page.locator("#model_form .alert-danger")
    errors.first.wait_for()
    assert errors.count() == 1, errors.all_inner_texts()
    assert field(page, "Geburtsdatum").evaluate("el => el === document.activeElement")
    assert live_server.query("SELECT count(*) FROM partner WHERE surname = 'Fokusprobe'")[0][0] == 0
    shoot(page, "clerk-08-fehler-fokus")
