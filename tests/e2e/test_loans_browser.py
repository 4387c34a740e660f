"""The loan story of issue #13 in Chromium: a clerk records a loan of 1.234,56 € for rent arrears with the
landlord as payee, approves it (decision letter and payout order in one step), sets 100 € instalments from
next month; the treasury clerk exports the batch and imports the treasury's payment file (one instalment
booked, one unknown payment among the payments to clear); the clerk defers the loan for three months and
sees the plan move; the controller downloads the open loans as XLSX."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.domain.loans import add_months
from tests.e2e.browser_helpers import choose, field, page_text

pytestmark = pytest.mark.e2e


def test_loan_story(page_for, live_server, shoot, tmp_path):
    base = live_server.url
    case_id, surname = live_server.query(
        "SELECT c.id, p.surname FROM \"case\" c JOIN partner p ON p.id = c.client_id "
        "JOIN org_unit u ON u.id = c.org_unit_id JOIN address a ON a.partner_id = p.id "
        "WHERE u.code = 'nord' AND a.postcode IS NOT NULL AND a.valid_to IS NULL AND p.birth_date < '2000-01-01' "
        "ORDER BY c.id LIMIT 1")[0]
    page = page_for("sb_nord")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/case/show/{case_id}")
    page.locator(".nav-tabs").get_by_role("link", name="Darlehen", exact=True).click()
    page.locator(".tab-pane.active").locator('a[href*="/loan/add"]').click()
    page.wait_for_url("**/loan/add**")
    choose(page, "Darlehensnehmer/in", surname[:4], surname)
    payee = live_server.query("SELECT p.surname FROM partner p JOIN catalogue_value k ON k.id = p.kind_id "
                              "WHERE k.code = 'institution' AND coalesce(p.org_unit_id, (SELECT id FROM org_unit WHERE "
                              "code = 'nord')) = (SELECT id FROM org_unit WHERE code = 'nord') ORDER BY p.id LIMIT 1")[0][0]
    choose(page, "Zahlungsempfänger (Vermieter/Energieversorger)", payee[:5], payee)
    field(page, "IBAN des Zahlungsempfängers").fill("DE89 3704 0044 0532 0130 00")
    field(page, "Mietrückstand").fill("1.000,00")
    field(page, "Betriebskosten").fill("234,56")
    shoot(page, "loans-01-darlehen-erfassen")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(lambda url: "/loan/add" not in url)
    loan_id = live_server.query("SELECT max(id) FROM loan")[0][0]
    page.goto(f"{base}/loan/show/{loan_id}")
    page.get_by_role("link", name=re.compile("Darlehenskonto")).click()
    page.get_by_role("button", name="Bewilligen und Auszahlung anordnen").click()
    page.get_by_text(re.compile("Bewilligt; Auszahlungsanordnung über 1.234,56 €")).wait_for()
    page.get_by_text(re.compile("Brief archiviert|Brief konnte nicht")).first.wait_for()
    shoot(page, "loans-02-bewilligt-brief")
    today = date.fromisoformat(live_server.query("SELECT date('now', 'localtime')")[0][0])
    first_due = add_months(today.replace(day=1), 1)
    field(page, "Rate").fill("100,00")
    field(page, "erste Rate am").fill(first_due.strftime("%d.%m.%Y"))
    page.get_by_role("button", name="Raten festlegen").click()
    page.get_by_text(re.compile("Ratenplan: 13 Raten")).wait_for()
    shoot(page, "loans-03-ratenplan")
    kassenzeichen = live_server.query("SELECT kassenzeichen FROM loan WHERE id = ?", loan_id)[0][0]

    treasury = page_for("kasse")
    treasury.on("dialog", lambda dialog: dialog.accept())
    treasury.goto(f"{base}/kasse/export")
    assert "Noch nicht übergeben: 14" in page_text(treasury)
    shoot(treasury, "loans-04-kasse-export")
    with treasury.expect_download() as download:
        treasury.get_by_role("button", name="Exportieren").click()
    exported = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert exported[0].startswith("kassenzeichen;faellig_am;betrag;art") and len(exported) == 15
    payments = tmp_path / "kasse.csv"
    payments.write_bytes(("buchungs_id;kassenzeichen;betrag;buchungstag;verwendungszweck\n"
                          f"E2E-1;{kassenzeichen};100,00;{first_due:%d.%m.%Y};Rate 1\n"
                          f"E2E-2;;42,00;{first_due:%d.%m.%Y};Miete Unbekannt\n").encode("cp1252"))
    treasury.goto(f"{base}/kasse/zahlungen")
    treasury.locator('input[type="file"]').set_input_files(str(payments))
    treasury.get_by_role("button", name="Einlesen").click()
    treasury.get_by_text(re.compile("1 Zahlung\\(en\\) gebucht")).wait_for()
    shoot(treasury, "loans-05-zahlungen-eingelesen")
    treasury.goto(f"{base}/kasse/klaerfaelle")
    assert "E2E-2" in page_text(treasury)
    shoot(treasury, "loans-06-klaerfaelle")

    page.goto(f"{base}/darlehen/{loan_id}")
    assert "100,00 €" in page.locator(".fs-loan-bookings").inner_text()
    field(page, "von").fill(first_due.strftime("%d.%m.%Y"))
    field(page, "bis").fill((add_months(first_due, 3) - timedelta(days=1)).strftime("%d.%m.%Y"))
    page.get_by_role("button", name="Stunden").click()
    page.get_by_text("Gestundet; der Plan ist verschoben.").wait_for()
    assert "verschoben (Stundung)" in page.locator(".fs-loan-plan").inner_text()
    shoot(page, "loans-07-gestundet")
    assert page.js_errors == [] and treasury.js_errors == []

    controller = page_for("controlling")
    controller.goto(f"{base}/darlehen/bericht?arrears=0")
    assert kassenzeichen[:2] in controller.locator(".fs-loan-report").inner_text()
    shoot(controller, "loans-08-offene-darlehen")
    with controller.expect_download() as download:
        controller.get_by_role("link", name="XLSX").click()
    assert open(download.value.path(), "rb").read(2) == b"PK"


def _approved_loan(page, live_server, amount: str) -> int:
    """A loan of ``amount`` for rent arrears recorded and approved by the clerk of Nord; its id."""
    base = live_server.url
    case_id, surname = live_server.query(
        "SELECT c.id, p.surname FROM \"case\" c JOIN partner p ON p.id = c.client_id "
        "JOIN org_unit u ON u.id = c.org_unit_id WHERE u.code = 'nord' AND p.birth_date < '2000-01-01' "
        "AND c.id NOT IN (SELECT case_id FROM loan) ORDER BY c.id LIMIT 1")[0]
    page.goto(f"{base}/loan/add?_flt_0_case={case_id}")
    choose(page, "Darlehensnehmer/in", surname[:4], surname)
    payee = live_server.query("SELECT p.surname FROM partner p JOIN catalogue_value k ON k.id = p.kind_id "
                              "WHERE k.code = 'institution' AND coalesce(p.org_unit_id, (SELECT id FROM org_unit WHERE "
                              "code = 'nord')) = (SELECT id FROM org_unit WHERE code = 'nord') ORDER BY p.id LIMIT 1")[0][0]
    choose(page, "Zahlungsempfänger (Vermieter/Energieversorger)", payee[:5], payee)
    field(page, "IBAN des Zahlungsempfängers").fill("DE89 3704 0044 0532 0130 00")
    page.locator('[name="amount_rent"]').fill(amount)
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(lambda url: "/loan/add" not in url)
    loan_id = live_server.query("SELECT max(id) FROM loan")[0][0]
    page.goto(f"{base}/darlehen/{loan_id}")
    page.get_by_role("button", name="Bewilligen und Auszahlung anordnen").click()
    page.get_by_text(re.compile("Bewilligt; Auszahlungsanordnung")).wait_for()
    return loan_id


def test_team_lead_writes_off_one_loan_and_waives_another(page_for, live_server, shoot):
    # The rest of the story: a team lead writes off another loan (befristet, with a date to look again) and
    # waives a third; both are within the team lead's limits and under the four-eyes amount.
    base = live_server.url
    clerk = page_for("sb_nord")
    clerk.on("dialog", lambda dialog: dialog.accept())
    written_off, waived = _approved_loan(clerk, live_server, "800,00"), _approved_loan(clerk, live_server, "600,00")

    lead = page_for("tl_nord")
    lead.on("dialog", lambda dialog: dialog.accept())
    lead.goto(f"{base}/darlehen/{written_off}")
    review = live_server.query("SELECT date('now', 'localtime', '+6 months')")[0][0]
    lead.locator('input[name="review_on"]').fill(date.fromisoformat(review).strftime("%d.%m.%Y"))
    lead.get_by_role("button", name="Niederschlagen").click()
    lead.get_by_text("Niedergeschlagen.").wait_for()
    assert "niedergeschlagen" in page_text(lead).lower()
    shoot(lead, "loans-09-niedergeschlagen")
    # #13 follow-up: a written-off loan offers no second write-off (nor a deferral), only lifting it
    assert lead.get_by_role("button", name="Niederschlagen", exact=True).count() == 0
    assert lead.get_by_role("button", name="Stunden", exact=True).count() == 0
    assert lead.get_by_role("button", name="Raten festlegen").count() == 0
    assert lead.get_by_role("button", name="Niederschlagung aufheben").count() == 1
    assert live_server.query("SELECT count(*) FROM loan_event WHERE loan_id = ? AND kind = 'niederschlagung' "
                             "AND review_on IS NOT NULL", written_off)[0][0] == 1

    lead.goto(f"{base}/darlehen/{waived}")
    lead.get_by_role("button", name="Erlassen").click()
    lead.get_by_text("Erlassen.").wait_for()
    assert "erlassen" in page_text(lead).lower()
    shoot(lead, "loans-10-erlassen")
    assert live_server.query("SELECT count(*) FROM loan_booking WHERE loan_id = ? AND kind = 'erlass'",
                             waived)[0][0] == 1
    assert lead.js_errors == [] and clerk.js_errors == []
