"""Loan accounts (#13): the story of the issue through the services, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import clock
from app.actor import Actor
from app.domain.loans import LoanError


@pytest.fixture
def story(factory, ctx):
    """A case with client, a minor child in the household, a landlord with IBAN and a loan of 1.234,56 €."""
    from app.extensions import db
    person = factory.value("partner_kind", "person").id
    client = factory("partner", "nord", surname="Meier", first_name="Sieglinde", birth_date=date(1980, 5, 1),
                     kind_id=person)
    child = factory("partner", "nord", surname="Meier", first_name="Tim", birth_date=date(2015, 1, 1), kind_id=person)
    landlord = factory("partner", "nord", surname="Wohnbau GmbH", kind_id=factory.value("partner_kind", "institution").id)
    case = factory("case", "nord", client_id=client.id, opened_on=date(2026, 11, 1), file_number="2026/0042",
                   status_id=factory.value("case_status", "open").id)
    factory("household_member", "nord", case_id=case.id, member_id=child.id)
    loan = factory("loan", "nord", case_id=case.id, borrower_id=client.id, payee_id=landlord.id,
                   payee_iban="DE89370400440532013000", amount_rent=Decimal("1000.00"),
                   amount_operating=Decimal("234.56"), applied_on=date(2026, 12, 1),
                   kind_id=factory.value("loan_kind", "darlehen").id,
                   legal_basis_id=factory.value("loan_legal_basis", "sgb2_22_8").id,
                   state_id=factory.value("loan_state", "beantragt").id)
    return db, loan, child


def actor(name="sb", profiles=("Teamleitung",), day=date(2026, 12, 6)):
    return Actor(name=name, units="all", profiles=profiles, day=day)


def test_story_approve_plan_pay_defer(story):
    from app.core_models import ChangeLog
    from app.services import loans
    from app.treasury_models import TreasuryPosting
    db, loan, _child = story
    loans.approve(db.session, actor(), loan)
    assert loan.amount == Decimal("1234.56") and loan.kassenzeichen and loan.state.code == "ausgezahlt"
    payout = db.session.scalars(select(TreasuryPosting).where(TreasuryPosting.art == "auszahlung")).one()
    assert (payout.betrag, payout.name, payout.iban) == (Decimal("1234.56"), "Wohnbau GmbH", "DE89370400440532013000")
    plan = loans.set_plan(db.session, actor(), loan, Decimal("100"), date(2027, 1, 1))
    assert len(plan.instalments) == 13 and loan.state.code == "tilgung"
    assert len(loans.postings(db.session, loan)) == 14  # payout + 13 Soll
    loans.book_payment(db.session, actor(), loan, date(2027, 1, 3), Decimal("100"))
    f = loans.figures(db.session, loan, date(2027, 2, 15))
    assert (f.paid, f.open, f.due, f.arrears, f.status) == (Decimal("100.00"), Decimal("1134.56"), Decimal("200.00"),
                                                            Decimal("100.00"), "laufend")
    loans.defer(db.session, actor(day=date(2027, 2, 15)), loan, date(2027, 2, 15), date(2027, 5, 14))
    rows = loans.plan_rows(db.session, loan)
    # the instalment of 01.02. was due before the deferral: stays; 01.03. is the first inside [15.02., 14.05.]
    assert [r.due for r in rows[:4]] == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 6, 1), date(2027, 7, 1)]
    assert loans.figures(db.session, loan, date(2027, 3, 15)).status == "gestundet"
    moved = [p for p in loans.postings(db.session, loan) if p.art == "sollabgang"]
    assert len(moved) == 11 and moved[0].faellig_am == date(2027, 3, 1)
    db.session.commit()
    history = db.session.scalars(select(ChangeLog).where(ChangeLog.entity == "loan", ChangeLog.record_id == loan.id)).all()
    assert {h.field for h in history} >= {"Stand", "Kassenzeichen", "Bewilligung", "Ratenplan", "Stundung", "Zahlung"}
    assert {h.changed_by for h in history if h.field in ("Stand", "Bewilligung", "Stundung", "Zahlung")} == {"sb"}


def test_bad_input_is_refused_with_german_messages(story):
    from app.services import loans
    db, loan, child = story
    loan.borrower_id = child.id
    with pytest.raises(LoanError, match="Minderjährige"):
        loans.approve(db.session, actor(), loan)
    db.session.rollback()
    loans.approve(db.session, actor(), loan)
    with pytest.raises(LoanError, match="Rate: muss größer als 0,00 €"):
        loans.set_plan(db.session, actor(), loan, Decimal("0"), date(2027, 1, 1))
    loans.set_plan(db.session, actor(), loan, Decimal("100"), date(2027, 1, 1))
    with pytest.raises(LoanError, match="Ende .* liegt vor dem Beginn"):
        loans.defer(db.session, actor(), loan, date(2027, 5, 1), date(2027, 4, 1))
    with pytest.raises(LoanError, match="Betragsgrenze"):
        loans.waive(db.session, actor(profiles=("Sachbearbeitung",)), loan)


def test_four_eyes_waiver_and_write_off(story):
    from app.services import loans
    db, loan, _ = story
    loans.approve(db.session, actor(), loan)
    loans.set_plan(db.session, actor(), loan, Decimal("100"), date(2027, 1, 1))
    event = loans.waive(db.session, actor("lead"), loan)
    assert event.pending  # 1.234,56 € above the four-eyes amount of 1.000 €
    assert loans.figures(db.session, loan, date(2027, 1, 1)).status == "laufend"
    with pytest.raises(LoanError, match="zweite Person"):
        loans.approve_pending(db.session, actor("lead"), loan, event.id)
    loans.approve_pending(db.session, actor("lead2"), loan, event.id)
    f = loans.figures(db.session, loan, date(2027, 1, 1))
    assert (f.status, f.open, f.due) == ("erlassen", Decimal("0.00"), None)


def test_write_off_limited_then_payment(story):
    from app.services import loans
    db, loan, _ = story
    loan.amount_operating = Decimal("0")
    loans.approve(db.session, actor(), loan)
    loans.set_plan(db.session, actor(), loan, Decimal("100"), date(2027, 1, 1))
    loans.write_off(db.session, actor(), loan, review_on=date(2027, 12, 1))
    f = loans.figures(db.session, loan, date(2027, 3, 1))
    assert (f.status, f.due, f.arrears) == ("niedergeschlagen", None, None)
    with pytest.raises(LoanError, match="Wiedervorlage: muss nach"):
        loans.write_off(db.session, actor(), loan, review_on=date(2026, 1, 1))


def test_success_measures_gain_the_loans(story, tmp_path):
    from openpyxl import load_workbook

    from app import clock
    from app.core_models import OrgUnit
    from app.domain.periods import year_period
    from app.services import loans
    from app.services.success_measures import success_measures, write_xlsx
    db, loan, _ = story
    loan.prevented_loss = True
    loans.approve(db.session, actor(), loan)
    db.session.commit()
    units = list(db.session.query(OrgUnit).order_by(OrgUnit.id))
    measures = success_measures(db.session, year_period(2026), units, actor=Actor.system())
    assert [(u.code, label, n, total, prevented) for u, label, n, total, prevented in measures.loans] == [
        ("nord", "Darlehen", 1, Decimal("1234.56"), 1)]
    target = tmp_path / "erfolg.xlsx"
    write_xlsx(measures, target, clock.now())
    sheet = load_workbook(target)["Darlehen"]
    assert [c.value for c in sheet[5]][:4] == ["nord", "Fachstelle Nord", "Darlehen", 1]


@pytest.mark.parametrize("kind", ["bewilligung", "stundung", "niederschlagung", "erlass"])
def test_letters_archived_with_documentation_entry(story, factory, kind):
    import io

    from docx import Document

    from app.letters.models import Letter
    from app.letters.storage import read_verified
    from app.metamodel.build_models import built_registry
    from app.services import loans
    db, loan, _ = story
    loan.amount_operating = Decimal("0")
    event = loans.approve(db.session, actor(), loan)
    loans.set_plan(db.session, actor(), loan, Decimal("100"), date(2027, 1, 1))
    if kind == "stundung":
        event = loans.defer(db.session, actor(), loan, date(2027, 2, 1), date(2027, 4, 30))
    elif kind == "niederschlagung":
        event = loans.write_off(db.session, actor(), loan, review_on=date(2027, 12, 1))
    elif kind == "erlass":
        event = loans.waive(db.session, actor(), loan)   # 1.000 € is not above the four-eyes amount
    from app.letters.models import OfficeDetails
    office = db.session.query(OfficeDetails).filter_by(org_unit_id=loan.org_unit_id).first()
    if office is None:
        office = OfficeDetails(org_unit_id=loan.org_unit_id, authority="Stadt Musterstadt")
        db.session.add(office)
    office.legal_remedy = "Gegen diesen Bescheid kann innerhalb eines Monats Widerspruch erhoben werden."
    from flask_appbuilder.security.sqla.models import User
    factory("address", None, partner_id=loan.borrower_id, kind_id=factory.value("address_kind", "main").id,
            street="Lindenweg", house_number="3", postcode="12345", city="Musterstadt")
    user = db.session.query(User).filter_by(username="sachbearbeitung_nord").one()
    letter = loans.write_letter(db.session, actor(), loan, event, user=user)
    db.session.commit()
    assert letter.doc_entry_id is not None
    entry = db.session.get(built_registry().model("doc_entry"), letter.doc_entry_id)
    assert entry.service.code == f"darlehen_{kind}" and entry.case_id == loan.case_id
    text = "\n".join(p.text for p in Document(io.BytesIO(read_verified(letter.path, letter.sha256))).paragraphs)
    assert loans.shown(loan.kassenzeichen) in text and "Widerspruch" in text
    expected = {"bewilligung": "1.000,00 €", "stundung": "bis zum 30.04.2027", "niederschlagung": "01.12.2027",
                "erlass": "erlassen"}[kind]
    assert expected in text, text
    assert db.session.query(Letter).count() == 1


def test_kassenzeichen_entered_from_the_treasury(story):
    from app.domain import kassenzeichen as kz
    from app.services import loans
    db, loan, _ = story
    given = "52000777" + kz.check_digit("52000777", "mod11")
    wrong = given[:-1] + str((int(given[-1]) + 1) % 10)
    with pytest.raises(LoanError, match="Prüfziffer stimmt nicht"):
        loans.approve(db.session, actor(), loan, kassenzeichen=kz.display(wrong, "##.######-#"))
    db.session.rollback()
    loans.approve(db.session, actor(), loan, kassenzeichen=kz.display(given, "##.######-#"))
    assert loan.kassenzeichen == given and loans.shown(loan.kassenzeichen) == "52.000777-" + given[-1]


def test_dashboard_tile_counts_loans_in_arrears_per_district(story):
    # #14's start page: the tile "Darlehen mit Rückstand" counts running loans with arrears (#13's figures).
    from app.services import loans
    from app.services.dashboard import loans_in_arrears
    db, loan, _child = story
    loans.approve(db.session, actor(), loan)
    loans.set_plan(db.session, actor(), loan, Decimal("100"), date(2027, 1, 1))
    loans.book_payment(db.session, actor(), loan, date(2027, 1, 3), Decimal("100"))
    db.session.flush()
    day = date(2027, 2, 15)
    tile = loans_in_arrears(db.session, actor(day=day), day)
    assert tile.total == 1 and sum(tile.per_unit.values()) == 1
    assert [name for name, n in tile.per_unit.items() if n] == [loan.org_unit.name]
    loans.book_payment(db.session, actor(), loan, date(2027, 2, 10), Decimal("100"))
    db.session.flush()
    assert loans_in_arrears(db.session, actor(day=day), day).total == 0
