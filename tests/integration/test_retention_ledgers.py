"""Retention over cases with ledgers (#15 with #13 loans and #12 §4 fees), on SQLite and PostgreSQL: a loan
counts 10 years from its settlement (derived from the bookings); an unsettled loan, or postings not yet
delivered to the treasury, keep the case and are reported as blocked with the reason; an erased case takes
its loan bookings and events along, and leaves the treasury's postings, Kassenzeichen and fee lines detached
and anonymised."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

TODAY = date(2031, 6, 30)


def _actor(day):
    from app.actor import Actor
    return Actor(name="sb", units="all", profiles=("Teamleitung",), day=day)


@pytest.fixture
def ledgers(ctx, factory):
    from app.extensions import db
    from app.fee_models import FeeLine
    from app.services import loans
    from app.treasury_models import TreasuryBatch, TreasuryPosting
    person = factory.value("partner_kind", "person")
    landlord = factory("partner", "nord", kind=factory.value("partner_kind", "institution"), surname="Wohnbau Ret")
    made = {}
    # name: closed on, loan (None | "settled" 2020 | "recent" settled 2024 | "open"), fee lines
    for name, closed, loan_kind in [("settled", date(2025, 1, 1), "settled"), ("recent", date(2025, 1, 1), "recent"),
                                    ("unsettled", date(2025, 1, 1), "open"), ("fees", date(2025, 1, 1), None)]:
        client = factory("partner", "nord", kind=person, surname=f"Ledger{name.capitalize()}", first_name="Eva",
                         birth_date=date(1970, 1, 1))
        case = factory("case", "nord", client=client, opened_on=date(2019, 1, 1), closed_on=closed,
                       file_number=f"L-{name}", status=factory.value("case_status", "closed"))
        made[name] = (case, client)
        if loan_kind is None:
            continue
        loan = factory("loan", "nord", case_id=case.id, borrower_id=client.id, payee_id=landlord.id,
                       payee_iban="DE89370400440532013000", amount_rent=Decimal("200.00"), applied_on=date(2019, 6, 1),
                       kind_id=factory.value("loan_kind", "darlehen").id,
                       legal_basis_id=factory.value("loan_legal_basis", "sgb2_22_8").id,
                       state_id=factory.value("loan_state", "beantragt").id)
        start = date(2019, 7, 1) if loan_kind != "recent" else date(2024, 1, 1)
        loans.approve(db.session, _actor(start), loan)
        loans.set_plan(db.session, _actor(start), loan, Decimal("100"), date(start.year, start.month + 1, 1))
        loans.book_payment(db.session, _actor(start), loan, date(start.year, start.month + 1, 1), Decimal("100"))
        if loan_kind != "open":
            loans.book_payment(db.session, _actor(start), loan, date(start.year, start.month + 2, 3), Decimal("100"))
        made[name] += (loan,)
    # fee lines of the "fees" case, handed over in one posting (not yet delivered)
    case, client = made["fees"][:2]
    posting = TreasuryPosting(kassenzeichen="FEE1", faellig_am=date(2024, 6, 1), betrag=Decimal("90.00"), art="soll",
                              name="LedgerFees", vorname="Eva", vorgang="shelter_fee-x-1", source_kind="shelter_fee",
                              source_id=client.id, created_by="test")
    db.session.add(posting)
    db.session.flush()
    for month in ("2024-05", "2024-06"):
        db.session.add(FeeLine(month=month, key=f"s:1:{month}", kind="hand", case_id=case.id, person_id=client.id,
                               shelter_name="Haus A", tariff="T", component="Nutzung", label="Nutzungsgebühr",
                               first_day=date(2024, 5, 1), last_day=date(2024, 5, 31), days=31, amount=Decimal("45.00"),
                               calculation="31 Tage", payer_id=client.id, posting_id=posting.id, created_by="test"))
    # every loan posting delivered except those of the unsettled loan's case, which does not matter: it is open
    batch = TreasuryBatch(number="2020-0001", layout="csv", sha256="0" * 64, count=0, total=Decimal("0"),
                          created_by="test")
    db.session.add(batch)
    db.session.flush()
    db.session.execute(TreasuryPosting.__table__.update().where(TreasuryPosting.source_kind == "loan")
                       .values(batch_id=batch.id))
    db.session.commit()
    return made, posting, batch


def test_dry_run_blocks_unsettled_loans_and_undelivered_postings(ledgers):
    from app.extensions import db
    from app.services.retention import find_due
    made, posting, batch = ledgers
    report = find_due(db.session, TODAY)
    db.session.rollback()
    due = {d.record_id for d in report.due if d.entity == "case"}
    assert made["settled"][0].id in due  # settled 01.09.2019: 10 years ran out on 01.09.2029
    blocked = {b.record_id: " ".join(b.reasons) for b in report.blocked}
    assert set(blocked) == {made["recent"][0].id, made["unsettled"][0].id, made["fees"][0].id}
    assert "nicht getilgt" in blocked[made["unsettled"][0].id]
    assert "10 Jahre nach 03.03.2024 laufen noch (fällig ab 04.03.2034)" in blocked[made["recent"][0].id]
    assert "nicht an die Kasse übergeben" in blocked[made["fees"][0].id]
    # the fee posting delivered: the fees case is due as well
    db.session.get(type(posting), posting.id).batch_id = batch.id
    db.session.commit()
    assert made["fees"][0].id in {d.record_id for d in find_due(db.session, TODAY).due}


def test_apply_erases_the_loan_ledger_and_anonymises_what_the_treasury_holds(ledgers):
    from app.actor import Actor
    from app.extensions import db
    from app.fee_models import FeeLine
    from app.metamodel.build_models import built_registry
    from app.services.retention import apply
    from app.treasury_models import KassenzeichenEntry, LoanBooking, LoanEvent, TreasuryPosting
    made, posting, batch = ledgers
    registry = built_registry()
    db.session.get(TreasuryPosting, posting.id).batch_id = batch.id
    db.session.commit()
    gone_loan, kept_loan = made["settled"][2].id, made["unsettled"][2].id
    gone_clients = {made["settled"][1].id, made["fees"][1].id}
    fees_case = made["fees"][0].id
    postings_before = db.session.scalar(select(func.count()).select_from(TreasuryPosting))
    report = apply(db.session, TODAY, Actor.system("test"))
    db.session.commit()
    db.session.expire_all()
    cases = set(db.session.scalars(select(registry.model("case").file_number)))
    assert "L-settled" not in cases and "L-fees" not in cases and {"L-recent", "L-unsettled"} <= cases
    assert set(db.session.scalars(select(registry.model("loan").id))) >= {kept_loan}
    assert gone_loan not in set(db.session.scalars(select(registry.model("loan").id)))
    for table in (LoanBooking, LoanEvent):
        assert db.session.scalar(select(func.count()).select_from(table).where(table.loan_id == gone_loan)) == 0
        assert db.session.scalar(select(func.count()).select_from(table).where(table.loan_id == kept_loan)) > 0
    # the treasury's postings stay (same number), without name, IBAN or the erased ids
    assert db.session.scalar(select(func.count()).select_from(TreasuryPosting)) == postings_before
    names = set(db.session.scalars(select(TreasuryPosting.name).where(TreasuryPosting.source_id == 0)))
    assert names == {"anonymisiert"}
    leftovers = db.session.scalars(select(TreasuryPosting).where(TreasuryPosting.source_kind == "loan",
                                                                 TreasuryPosting.source_id == gone_loan)).all()
    assert leftovers == []
    assert db.session.scalar(select(func.count()).select_from(TreasuryPosting).where(
        TreasuryPosting.iban.isnot(None), TreasuryPosting.source_id == 0)) == 0
    assert db.session.scalar(select(func.count()).select_from(KassenzeichenEntry).where(
        KassenzeichenEntry.source_kind == "loan", KassenzeichenEntry.source_id == gone_loan)) == 0
    lines = db.session.scalars(select(FeeLine)).all()
    assert len(lines) == 2 and all(ln.case_id is None and ln.person_id == 0 and ln.payer_id == 0 for ln in lines)
    assert sum(ln.amount for ln in lines) == Decimal("90.00")  # the amounts stay for the treasury's audit
    partners = set(db.session.scalars(select(registry.model("partner").id)))
    assert not gone_clients & partners
    assert report.erased["loan_booking"] == 2 and report.erased["fee_line (anonymisiert)"] == 2
    assert fees_case not in set(db.session.scalars(select(registry.model("case").id)))


def test_the_loan_shows_its_settlement_day(ledgers):
    """The loans service keeps the stamp current: paid in full → the day of the last payment; a reversal
    reopens it."""
    from app.extensions import db
    from app.services import loans
    made, *_ = ledgers
    settled, unsettled = made["settled"][2], made["unsettled"][2]
    assert settled.settled_on == date(2019, 9, 3) and unsettled.settled_on is None
    loans.book_payment(db.session, _actor(date(2020, 1, 1)), settled, date(2020, 1, 1), Decimal("-100"))
    assert settled.settled_on is None


def test_success_measures_give_the_same_numbers_before_and_after_apply(ledgers, factory):
    """The success measures over past years (evictions averted, services per product number, loans) read the
    frozen figures of the erased records: the report before ``--apply`` equals the report after it."""
    from app.actor import Actor
    from app.core_models import OrgUnit
    from app.domain.periods import Period
    from app.extensions import db
    from app.services.retention import apply
    from app.services.success_measures import success_measures
    from app.treasury_models import TreasuryPosting
    made, posting, batch = ledgers
    db.session.get(TreasuryPosting, posting.id).batch_id = batch.id
    old, kept = made["settled"][0], made["recent"][0]
    service = factory("service", None, code="ret-beratung", name="Beratung Ret", product_number="31.5")
    for case, result, day in ((old, "erhalt_mietschuld", date(2021, 3, 1)), (kept, "wohnungsverlust", date(2021, 4, 1)),
                              (made["fees"][0], "erhalt_vereinbarung", date(2022, 5, 1))):
        factory("housing_emergency", "nord", case=case, started_on=date(2020, 1, 1), closed_on=day,
                result=factory.value("case_result", result))
        for d in (date(2021, 2, 1), date(2021, 2, 2)):
            factory("doc_entry", "nord", case=case, entry_date=d, service=service)
    db.session.commit()

    def figures():
        units = list(db.session.query(OrgUnit).order_by(OrgUnit.id))
        m = success_measures(db.session, Period(date(2019, 1, 1), date(2022, 12, 31)), units, actor=Actor.system())
        outcomes = {k: (o.closed, o.averted, dict(o.by_result)) for k, o in m.outcomes.items() if o.closed}
        return (outcomes, [(u.code, p, n, c) for u, p, n, c in m.products],
                [(u.code, p, name, n) for u, p, name, n in m.services],
                [(u.code, label, n, total, prevented) for u, label, n, total, prevented in m.loans])

    before = figures()
    assert [o[:2] for o in before[0].values()] == [(3, 2)]
    assert any(c == 3 for *_x, c in before[1])  # three cases with entries
    report = apply(db.session, TODAY, Actor.system("test"))
    db.session.commit()
    assert report.erased["case"] == 2 and report.erased["housing_emergency"] == 2 and report.erased["loan"] == 1
    assert figures() == before


def test_the_dry_run_command_lists_blocked_cases_with_their_reason(ledgers):
    import json

    from click.testing import CliRunner

    from app.cli import main
    made, *_ = ledgers
    out = CliRunner().invoke(main, ["retention", "--dry-run", "--as-of", "30.06.2031"])
    assert out.exit_code == 0, out.output
    assert "3 trotz abgelaufener Frist blockiert" in out.output
    assert f"case {made['unsettled'][0].id}: Darlehen" in out.output and "nicht getilgt/erlassen" in out.output
    data = json.loads(CliRunner().invoke(main, ["retention", "--dry-run", "--as-of", "30.06.2031", "--format",
                                                "json"]).output)
    assert data["blocked_count"] == {"case": 3} and data["due_count"] == {"case": 1}


def test_the_run_derives_missing_settlement_days_from_the_ledger(ledgers):
    """Loans from before the stamp existed (or imported): the run derives the day from bookings and events."""
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    from app.services.loans import refresh_settlement
    made, *_ = ledgers
    loan = built_registry().model("loan")
    db.session.execute(loan.__table__.update().values(settled_on=None))
    db.session.commit()
    assert refresh_settlement(db.session, TODAY) == 2
    db.session.expire_all()
    days = dict(db.session.execute(select(loan.id, loan.settled_on)).all())
    assert days == {made["settled"][2].id: date(2019, 9, 3), made["recent"][2].id: date(2024, 3, 3),
                    made["unsettled"][2].id: None}
    assert refresh_settlement(db.session, TODAY) == 0  # nothing changed: nothing written
