"""Issue 3 in a real browser: a clerk finds and creates partners (duplicate warning), opens a case file
with its area pages and fills the "Wohnungsnotfall" page; a clerk of the other district sees none of it;
an admin adds a field in YAML, migrates, and finds it in the form with the earlier data intact.

The steps build on each other, so they are one test; each step saves a screenshot for a human to read.
The browser asks for English on purpose: German must come from the server (BABEL_DEFAULT_LOCALE).
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from app.domain.phonetics import phonetic
from tests.e2e.browser_helpers import assert_german_page, choose, field, page_text, type_date

pytestmark = pytest.mark.e2e

CASE_NUMBER = "E2E/2026/0001"
COURT_FILE = "12 C 345/26"
# Spelling variants a clerk produces when re-entering a person: same Kölner Phonetik code.
VARIANTS = [("tt", "t"), ("mm", "m"), ("nn", "n"), ("ll", "l"), ("ck", "k"), ("dt", "t"), ("ei", "ai"),
            ("ph", "f"), ("ß", "ss")]


def pick_duplicate_target(server) -> tuple[int, str, str, date, str]:
    """A demo person of Fachstelle Nord whose surname has a spelling variant with the same sound."""
    rows = server.query(
        "SELECT p.id, p.surname, p.first_name, p.birth_date FROM partner p JOIN org_unit u ON u.id = p.org_unit_id "
        "WHERE u.code = 'nord' AND p.birth_date IS NOT NULL ORDER BY p.id")
    for pid, surname, first_name, birth in rows:
        for old, new in VARIANTS:
            if old in surname:
                variant = surname.replace(old, new, 1)
                if phonetic(variant) == phonetic(surname) and not server.query(
                        "SELECT 1 FROM partner WHERE surname_lc LIKE ?", variant.lower()[:5] + "%"):
                    return pid, surname, first_name, date.fromisoformat(birth), variant
    pytest.fail("Keine passende Demo-Person für den Dubletten-Test")


def test_walkthrough(live_server, page_for, shoot):
    base = live_server.url
    target_id, surname, first_name, birth, variant = pick_duplicate_target(live_server)
    birth_text = birth.strftime("%d.%m.%Y")

    # 1. A clerk of Fachstelle Nord logs in (German login page) and finds a partner by name prefix.
    def login_page(page):
        assert_german_page(page)
        assert page.get_by_role("button", name="Anmelden").is_visible()
        shoot(page, "01-anmeldung")

    page = page_for("sb_nord", screenshot=login_page)
    assert page.locator("#quick").evaluate("el => el === document.activeElement")
    shoot(page, "02-startseite")
    assert_german_page(page)
    # The one search box (#11) lists partners and cases, or opens the single match (then the partner's
    # page or, if the partner has exactly one case, that case).
    page.locator("#quick").fill(surname[:4])
    page.locator("#quick").press("Enter")
    page.wait_for_url(re.compile(r"/(search|partner/show|case/show)/"))
    shoot(page, "03-partnersuche")
    assert_german_page(page)
    if "/search/" in page.url:
        row = page.locator("table.fs-search-partners tr", has_text=first_name).filter(has_text=surname)
        row.first.locator(f'a[href$="/partner/show/{target_id}"]').click()
    elif "/case/show/" in page.url:
        page.goto(f"{base}/partner/show/{target_id}")
    page.wait_for_url(f"**/partner/show/{target_id}")
    page.locator("#Home").get_by_text(birth_text).wait_for()
    heading = page.locator(".panel-title").first.inner_text()
    assert heading.strip() == f"Partner: {surname}, {first_name}, {birth_text}"
    shoot(page, "04-partner-anzeigen")
    assert_german_page(page)

    # 2. New partner with the same sound and birth date: warned, with a link to the existing one.
    page.goto(f"{base}/")
    page.get_by_role("link", name="Neuer Partner").click()
    page.wait_for_url("**/partner/add**")
    assert field(page, "Name").evaluate("el => el === document.activeElement")  # first field to fill
    field(page, "Name").fill(variant)
    field(page, "Vorname").fill(first_name)
    type_date(page, "Geburtsdatum", birth_text)
    warning = page.get_by_role("alert").filter(has_text="Möglicher Doppelsatz")
    warning.wait_for()
    assert f"{surname}, {first_name}, {birth_text}" in warning.inner_text()
    assert warning.get_by_role("link").first.get_attribute("href").endswith(f"/partner/show/{target_id}")
    shoot(page, "05-partner-neu-dublettenwarnung")
    assert_german_page(page)
    page.get_by_role("button", name="Speichern").click()
    # #11: the warning is a step; nothing is saved until "Trotzdem anlegen" (it is a different person after all).
    page.locator(".fs-look-alikes").get_by_role("button", name="Trotzdem anlegen").click()
    page.wait_for_url(lambda url: "/partner/add" not in url)
    new_partner = live_server.query("SELECT id FROM partner WHERE surname = ?", variant)
    assert len(new_partner) == 1
    new_partner_id = new_partner[0][0]
    shoot(page, "06-partner-gespeichert")

    # 3. A case file for the new client: type-ahead picks the client, dates typed as TT.MM.JJJJ.
    page.goto(f"{base}/")
    page.get_by_role("link", name="Neue Fallakte").click()
    page.wait_for_url("**/case/add**")
    assert page.evaluate("document.activeElement.closest('.select2-container') !== null")  # Klient/in
    # Keyboard only: typing into the focused type-ahead opens it, Enter takes the first hit.
    # The first letter opens the box; the rest (umlauts too, which Playwright sends as text, not as keys)
    # goes into its search field.
    page.keyboard.type(variant[0].lower())
    page.wait_for_function("document.activeElement.classList.contains('select2-search__field')")
    page.keyboard.type(variant[1:5].lower())
    hit = page.locator(".select2-container--open .select2-results__option--highlighted",
                       has_text=f"{variant}, {first_name}, {birth_text}")
    hit.wait_for()
    shoot(page, "07-fallakte-neu-klient-suchen")
    page.keyboard.press("Enter")
    page.locator("#client + .select2-container .select2-selection__rendered", has_text=variant).wait_for()
    field(page, "Aktenzeichen").fill(CASE_NUMBER)
    type_date(page, "Fallbeginn", "02.11.2026")
    page.keyboard.press("Escape")  # Tab went on to "Fallende": close its date picker for the screenshot
    shoot(page, "08-fallakte-neu")
    assert_german_page(page)
    field(page, "Aktenzeichen").press("Enter")  # Enter submits the form
    page.wait_for_url(lambda url: "/case/add" not in url)
    case = live_server.query("SELECT id, client_id, opened_on FROM \"case\" WHERE file_number = ?", CASE_NUMBER)
    assert case and case[0][1] == new_partner_id and case[0][2] == "2026-11-02"
    case_id = case[0][0]

    # 4. The case file shows its area pages as tabs; the clerk adds and fills "Wohnungsnotfall".
    page.goto(f"{base}/case/show/{case_id}")
    tabs = page.locator(".nav-tabs")
    tabs.wait_for()
    # In the YAML's order; no "Soziale Situation" (Art. 9 DSGVO data) for Sachbearbeitung.
    assert [t.strip() for t in tabs.get_by_role("link").all_inner_texts()] == [
        "Detail", "Falldokumentation", "Räumungsklagen", "Zwangsräumungen", "Aufgaben und Wiedervorlagen", "Termine",
        "Haushaltsmitglieder", "Wohnungsnotfall", "Einkommen des Haushalts", "Beziehungen",
        "Bedarfsprofile (Unterbringung)", "Reservierungen", "Belegungen", "Leistungsabos", "Darlehen",
        "Soziale Betreuung"]
    assert page.locator("#Home").get_by_role("link", name="Bearbeiten").is_visible()
    heading = page.locator(".panel-title").first.inner_text().strip()
    assert heading == f"Fallakte: {CASE_NUMBER}, {variant}, {first_name}, {birth_text}"
    shoot(page, "09-fallakte-reiter")
    assert_german_page(page)
    tabs.get_by_role("link", name="Wohnungsnotfall", exact=True).click()
    pane = page.locator(".tab-pane.active")
    pane.locator('a[href*="/housing-emergency/add"]').click()
    page.wait_for_url("**/housing-emergency/add**")
    choose(page, "Fall nach", "22", "§ 22 SGB II")
    field(page, "Fallbeginn").fill("")
    type_date(page, "Fallbeginn", "03.11.2026")
    choose(page, "Bekanntwerden durch (Initiative)", "Amts", "Amtsgericht")
    choose(page, "Wohnungsverlust droht durch", "Räum", "Räumungsklage")
    type_date(page, "ggf. Termin Zwangsräumung", "15.01.2027")
    field(page, "Mietschulden").fill("2.345,67")
    shoot(page, "10-wohnungsnotfall-formular")
    assert_german_page(page)
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(lambda url: "/housing-emergency/add" not in url)
    emergency = live_server.query("SELECT id FROM housing_emergency WHERE case_id = ?", case_id)
    assert len(emergency) == 1
    emergency_id = emergency[0][0]
    page.goto(f"{base}/case/show/{case_id}")
    page.locator(".nav-tabs").get_by_role("link", name="Wohnungsnotfall", exact=True).click()
    pane = page.locator(".tab-pane.active")
    pane.get_by_text("Räumungsklage").wait_for()
    assert "15.01.2027" in pane.inner_text() and "03.11.2026" in pane.inner_text()
    shoot(page, "11-fallakte-mit-wohnungsnotfall")
    assert_german_page(page)

    # 5. A clerk of Fachstelle Süd sees none of it: not in lists, not in type-ahead, 404 on direct URLs.
    other = page_for("sb_sued")
    other.goto(f"{base}/partner/list/?_flt_0_surname={variant[:5]}")
    assert variant not in page_text(other)
    shoot(other, "12-sued-partnerliste")
    other.goto(f"{base}/case/list/?_flt_0_file_number=E2E")
    assert CASE_NUMBER not in page_text(other)
    shoot(other, "13-sued-fallakten")
    found = other.request.get(f"{base}/typeahead/partner", params={"q": variant[:5].lower()}).json()
    assert found == {"results": []}
    for path in (f"/case/show/{case_id}", f"/partner/show/{new_partner_id}",
                 f"/housing-emergency/show/{emergency_id}", f"/housing-emergency/edit/{emergency_id}"):
        response = other.goto(f"{base}{path}")
        assert response.status == 404, path
        text = page_text(other)
        assert "Nicht gefunden" in text
        # ("Räumungsklage" itself is in the menu now: "Räumungsklage erfassen"; the data are what must not show.)
        for secret in (CASE_NUMBER, variant, "15.01.2027", "03.11.2026"):
            assert secret not in other.content(), (path, secret)
    other.goto(f"{base}/case/show/{case_id}")
    shoot(other, "14-sued-fallakte-nicht-gefunden")
    assert_german_page(other)

    # 6. An admin adds a field in YAML, migrates, restarts: the field is in the form, the data intact.
    entities = live_server.config_dir / "entities.yaml"
    yaml_text = entities.read_text(encoding="utf-8")
    money_line = '      - {name: rent_arrears, type: money, label: Mietschulden, min: "0", max: "1000000"}\n'
    assert money_line in yaml_text
    yaml_text = yaml_text.replace(money_line, money_line + "      - {name: court_file_number, type: string, "
                                  "length: 40, label: Aktenzeichen Amtsgericht}\n")
    yaml_text = yaml_text.replace("threatened_by, eviction_date, rent_arrears, info]",
                                  "threatened_by, eviction_date, court_file_number, rent_arrears, info]")
    entities.write_text(yaml_text, encoding="utf-8")
    migrated = live_server.cli("migrate")
    assert "court_file_number" in migrated.stdout
    live_server.restart()
    admin = page_for("admin")
    admin.goto(f"{base}/housing-emergency/edit/{emergency_id}")
    court = field(admin, "Aktenzeichen Amtsgericht")
    court.wait_for()
    assert field(admin, "Fallbeginn").input_value() == "03.11.2026"
    assert field(admin, "ggf. Termin Zwangsräumung").input_value() == "15.01.2027"
    assert field(admin, "Mietschulden").input_value() == "2345,67"
    for label, text in (("Fall nach", "§ 22 SGB II"), ("Wohnungsverlust droht durch", "Räumungsklage"),
                        ("Bekanntwerden durch (Initiative)", "Amtsgericht")):
        select_id = field(admin, label).get_attribute("id")
        assert admin.locator(f"#{select_id} option:checked").inner_text().strip() == text
    court.fill(COURT_FILE)
    shoot(admin, "15-admin-neues-feld")
    assert_german_page(admin)
    admin.get_by_role("button", name="Speichern").click()
    admin.wait_for_url(lambda url: "/edit/" not in url)
    admin.goto(f"{base}/housing-emergency/show/{emergency_id}")
    admin.locator("#Home").get_by_text(COURT_FILE).first.wait_for()
    body = page_text(admin)
    for expected in ("Aktenzeichen Amtsgericht", "Räumungsklage", "15.01.2027", "2.345,67 €", "§ 22 SGB II"):
        assert expected in body, expected
    shoot(admin, "16-admin-wohnungsnotfall-mit-neuem-feld")
    assert_german_page(admin)
