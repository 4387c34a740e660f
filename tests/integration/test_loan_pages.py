"""Loan account page, open-loans report and treasury pages (#13): actions with confirmation, profiles,
org units; nothing answers with a 500."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
import io

from sqlalchemy import select

from tests.conftest import login
from tests.integration.test_loans_service import story  # noqa: F401  (fixture)


def test_clerk_approves_and_sets_the_plan(story, client):
    from app.extensions import db
    db_, loan, _ = story
    login(client, "sachbearbeitung_nord")
    page = client.get(f"/darlehen/{loan.id}")
    assert page.status_code == 200 and "Bewilligen und Auszahlung anordnen" in page.text and "data-confirm=" in page.text
    response = client.post(f"/darlehen/{loan.id}/aktion", data={"action": "bewilligen"}, follow_redirects=True)
    assert response.status_code == 200 and "Bewilligt; Auszahlungsanordnung über 1.234,56 €" in response.text
    response = client.post(f"/darlehen/{loan.id}/aktion", data={"action": "raten", "rate": "0", "first_due": "01.01.2027"},
                           follow_redirects=True)
    assert "Rate: muss größer als 0,00 €" in response.text           # German message, nothing booked
    response = client.post(f"/darlehen/{loan.id}/aktion", data={"action": "raten", "rate": "100,00",
                                                                "first_due": "01.01.2027"}, follow_redirects=True)
    assert "Ratenplan: 13 Raten, letzte am 01.01.2028" in response.text and "34,56 €" in response.text
    response = client.post(f"/darlehen/{loan.id}/aktion", data={"action": "stunden", "date_from": "01.05.2027",
                                                                "date_to": "01.04.2027"}, follow_redirects=True)
    assert "liegt vor dem Beginn" in response.text
    db.session.expire_all()
    assert loan.state.code == "tilgung"


def test_other_unit_sees_nothing(story, client):
    db_, loan, _ = story
    login(client, "sachbearbeitung_sued")
    assert client.get(f"/darlehen/{loan.id}").status_code == 404


def test_read_only_profile(story, client):
    db_, loan, _ = story
    other = client
    login(other, "controlling_nord")
    page = other.get(f"/darlehen/{loan.id}")
    assert page.status_code == 200 and "Bewilligen und Auszahlung anordnen" not in page.text
    assert other.post(f"/darlehen/{loan.id}/aktion", data={"action": "bewilligen"}).status_code == 403
    report = other.get("/darlehen/bericht?arrears=0")
    assert report.status_code == 200
    xlsx = other.get("/darlehen/bericht?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    from app.extensions import db
    from app.services.xlsx_export import export_history
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx.data)).active      # written by XlsxWriter: title, Stand, header row 4
    assert (sheet["A1"].value, sheet["A4"].value, sheet["C4"].value) == (
        "Offene Darlehen mit Rückständen", "Kassenzeichen", "Betrag") and sheet["A2"].value.startswith("Stand: ")
    recorded = export_history(db.session)[0]                  # every export in the history
    assert (recorded.field, recorded.changed_by) == ("Offene Darlehen", "controlling_nord")
    assert other.get("/kasse/export").status_code in (302, 403)    # no treasury function


def test_treasury_pages(story, client):
    from app.actor import Actor
    from app.services import loans
    from app.services.kassenzeichen import shown
    db, loan, _ = story
    loans.approve(db.session, Actor(name="sb", units="all", profiles=("Teamleitung",), day=date(2026, 12, 6)), loan)
    db.session.commit()
    login(client, "darlehen/kasse_nord")
    page = client.get("/kasse/export")
    assert page.status_code == 200 and "Noch nicht übergeben: <strong>1</strong>" in page.text
    exported = client.post("/kasse/export", data={"layout": "standard_csv"})
    assert exported.status_code == 200 and b"auszahlung" in exported.data
    assert "2026-0001" in client.get("/kasse/export").text
    data = ("buchungs_id;kassenzeichen;betrag;buchungstag;verwendungszweck\n"
            f"W-1;{shown(loan.kassenzeichen)};50,00;02.01.2027;Rate\nW-2;;10,00;02.01.2027;unbekannt\n").encode("cp1252")
    response = client.post("/kasse/zahlungen", data={"file": (io.BytesIO(data), "kasse.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "1 Zahlung(en) gebucht" in response.text and "1 Klärfall" in response.text
    clear = client.get("/kasse/klaerfaelle")
    assert clear.status_code == 200 and "W-2" in clear.text
    bad = client.post("/kasse/zahlungen", data={"file": (io.BytesIO(b"buchungs_id;betrag\nX;1\n"), "f.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 200 and "Kopfzeile unvollständig" in bad.text


def test_worklist_shows_arrears_and_payments_to_clear(story, client):
    from app import clock
    from app.actor import Actor
    from app.services import loans
    from app.treasury_models import TreasuryPayment
    db, loan, _ = story
    teamlead = Actor(name="sb", units="all", profiles=("Teamleitung",), day=date(2026, 12, 6))
    loans.approve(db.session, teamlead, loan)
    loans.set_plan(db.session, teamlead, loan, Decimal("100"), date(2026, 10, 1))   # two instalments already due
    db.session.add(TreasuryPayment(buchungs_id="U-1", betrag=Decimal("5"), buchungstag=date(2026, 12, 1),
                                   state="klaerfall", reason="kein Kassenzeichen erkennbar"))
    db.session.commit()
    login(client, "darlehen/kasse_nord")
    page = client.get("/worklist/")
    assert page.status_code == 200, page.status_code
    assert "Rückstand 300,00 €" in page.text or "Rückstand 200,00 €" in page.text
    assert "1 Zahlung(en) ohne Konto" in page.text


def test_amounts_locked_after_approval(story, client):
    from app.actor import Actor
    from app.extensions import db
    from app.services import loans
    db_, loan, _ = story
    login(client, "sachbearbeitung_nord")
    page = client.get(f"/loan/edit/{loan.id}")
    assert page.status_code == 200
    loans.approve(db.session, Actor(name="sb", units="all", profiles=("Teamleitung",), day=date(2026, 12, 6)), loan)
    db.session.commit()
    response = client.put(f"/api/v1/loan/{loan.id}", json={"amount_rent": "5000.00"})
    assert response.status_code in (400, 409, 422), response.status_code
    assert "nicht mehr änderbar" in response.json["message"]
    db.session.expire_all()
    assert loan.amount_rent == Decimal("1000.00")
    ok = client.put(f"/api/v1/loan/{loan.id}", json={"info": "Rücksprache mit Vermieter"})
    assert ok.status_code == 200, ok.get_data(as_text=True)


def test_aufrechnung_proposes_five_percent(story, client):
    from app.actor import Actor
    from app.extensions import db
    from app.services import loans
    from app.services.seed import catalogue_value
    db_, loan, _ = story
    loan.repayment_id = catalogue_value(db.session, "loan_repayment", "aufrechnung").id
    loans.approve(db.session, Actor(name="sb", units="all", profiles=("Teamleitung",), day=date(2026, 12, 6)), loan)
    db.session.commit()
    login(client, "sachbearbeitung_nord")
    page = client.get(f"/darlehen/{loan.id}")
    assert 'value="28,15"' in page.text      # 5 % of 563,00 € (settings.yaml loans.regelbedarf)


def test_written_off_loan_offers_no_second_write_off(story, client, monkeypatch):
    # #13 follow-up: after a write-off the page offers only what the state allows; the server refuses the rest.
    from app import clock
    from app.actor import Actor
    from app.extensions import db
    from app.services import loans
    from app.treasury_models import LoanEvent
    from sqlalchemy import func, select
    db_, loan, _ = story
    teamlead = Actor(name="sb", units="all", profiles=("Teamleitung",), day=date(2026, 12, 6))
    loans.approve(db.session, teamlead, loan)
    loans.set_plan(db.session, teamlead, loan, Decimal("100"), date(2027, 1, 1))
    db.session.commit()
    monkeypatch.setattr(clock, "today", lambda: date(2026, 12, 6))
    login(client, "teamleitung_nord")
    page = client.get(f"/darlehen/{loan.id}")
    assert 'value="niederschlagen"' in page.text and 'value="stunden"' in page.text
    done = client.post(f"/darlehen/{loan.id}/aktion", data={"action": "niederschlagen", "befristet": "1",
                                                            "review_on": "01.06.2027"}, follow_redirects=True)
    assert "wartet auf Freigabe durch eine zweite Person" in done.text     # above the four-eyes amount
    page = client.get(f"/darlehen/{loan.id}")
    assert 'value="niederschlagen"' not in page.text and 'value="freigeben"' in page.text
    waiting = client.post(f"/darlehen/{loan.id}/aktion", data={"action": "niederschlagen", "befristet": "1",
                                                               "review_on": "01.07.2027"}, follow_redirects=True)
    assert "„Niederschlagen“ ist nicht möglich: eine Niederschlagung wartet schon auf Freigabe." in waiting.text
    event = db.session.scalars(select(LoanEvent).where(LoanEvent.loan_id == loan.id, LoanEvent.pending)).one()
    loans.approve_pending(db.session, Actor(name="zweite", units="all", profiles=("Teamleitung",),
                                            day=date(2026, 12, 6)), loan, event.id)
    db.session.commit()
    page = client.get(f"/darlehen/{loan.id}")
    assert 'value="niederschlagen"' not in page.text and 'value="stunden"' not in page.text
    assert 'value="niederschlagung_aufheben"' in page.text and 'value="erlassen"' in page.text
    again = client.post(f"/darlehen/{loan.id}/aktion", data={"action": "niederschlagen", "befristet": "1",
                                                             "review_on": "01.07.2027"}, follow_redirects=True)
    assert again.status_code == 200
    assert "„Niederschlagen“ ist nicht möglich: das Darlehen ist schon niedergeschlagen." in again.text
    assert db.session.scalar(select(func.count()).select_from(LoanEvent).where(
        LoanEvent.loan_id == loan.id, LoanEvent.kind == "niederschlagung")) == 1
    assert client.post(f"/darlehen/{loan.id}/aktion", data={"action": "gibtsnicht"}).status_code == 400


def test_payments_to_clear_belong_to_no_unit_until_assigned(story, client):
    # #13 follow-up (docs/kasse.md "Klärfälle"): the open queue is guarded by the admin function treasury, not
    # by org unit; assigning needs a Kassenzeichen of a visible unit; the booking then belongs to the loan's unit.
    from app.actor import Actor
    from app.extensions import db
    from app.services import loans
    from app.services.kassenzeichen import shown
    from app.treasury_models import LoanBooking, TreasuryPayment
    db_, loan, _ = story
    loans.approve(db.session, Actor(name="sb", units="all", profiles=("Teamleitung",), day=date(2026, 12, 6)), loan)
    payment = TreasuryPayment(buchungs_id="K-7", betrag=Decimal("40"), buchungstag=date(2026, 12, 2),
                              state="klaerfall", reason="kein Kassenzeichen erkennbar")
    db.session.add(payment)
    db.session.commit()
    number = shown(loan.kassenzeichen)
    # without the treasury function: neither the queue nor the worklist entry
    login(client, "controlling_nord")
    assert client.get("/kasse/klaerfaelle").status_code in (302, 403)
    assert "ohne Konto (Klärfälle)" not in client.get("/worklist/").text
    client = _other_user(client)
    # the treasury function of another unit sees the unit-less payment but cannot book it on a nord loan
    login(client, "darlehen/kasse_sued")
    assert "K-7" in client.get("/kasse/klaerfaelle").text
    assert "1 Zahlung(en) ohne Konto (Klärfälle)" in client.get("/worklist/").text
    refused = client.post("/kasse/klaerfaelle", data={"payment_id": payment.id, "kassenzeichen": number},
                          follow_redirects=True)
    assert "gehört zu einer Dienststelle, die Sie nicht sehen" in refused.text
    db.session.expire_all()
    assert payment.state == "klaerfall"
    client = _other_user(client)
    # the loan's unit assigns it: booked on the loan, gone from the queue, seen only through the loan
    login(client, "darlehen/kasse_nord")
    done = client.post("/kasse/klaerfaelle", data={"payment_id": payment.id, "kassenzeichen": number},
                       follow_redirects=True)
    assert "zugeordnet und gebucht" in done.text and "K-7" not in client.get("/kasse/klaerfaelle").text
    db.session.expire_all()
    assert (payment.state, payment.assigned_by) == ("zugeordnet", "darlehen/kasse_nord")
    booking = db.session.scalars(select(LoanBooking).where(LoanBooking.payment_id == payment.id)).one()
    assert (booking.loan_id, booking.amount) == (loan.id, Decimal("40.00"))
    assert "ohne Konto (Klärfälle)" not in client.get("/worklist/").text
    client = _other_user(client)
    login(client, "darlehen/kasse_sued")
    assert client.get(f"/darlehen/{loan.id}").status_code == 404


def _other_user(client):
    """A fresh client for the next user. The ``story`` fixture keeps an app context open for the whole test,
    so requests share ``g``, where Flask-Login and the permission cache keep the first user: forget them."""
    from flask import g
    for name in ("_login_user", "_fs_fast_user", "_fs_permissions"):
        g.pop(name, None)
    return client.application.test_client()
