"""Retention on the database (#15): what the dry run lists and what ``--apply`` erases, as a table of seeded
cases: closed dates, legal hold, shared persons; letters, documents and history go with their record;
the protocol and the frozen counts stay; the access log is never touched."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

TODAY = date(2031, 6, 30)

# name, closed on, legal hold, shares its client with the case "open"
CASES = [
    ("old", date(2025, 6, 29), False, False),       # 5 years and a day: due
    ("boundary", date(2026, 6, 30), False, False),  # the period ends today: kept until tomorrow
    ("recent", date(2029, 1, 1), False, False),     # 2 years: kept
    ("held", date(2020, 1, 1), True, False),        # legal hold: kept whatever the date
    ("shared", date(2024, 1, 1), False, True),      # due, but its client has another live case
    ("open", None, False, False),                   # still open: kept
]
EXPECT_DUE = {"old", "shared"}


@pytest.fixture
def cases(ctx, factory):
    from app.extensions import db
    from app.privacy_models import AccessLog
    person = factory.value("partner_kind", "person")
    made, clients = {}, {}
    for name, closed, hold, _shared in CASES:
        clients[name] = factory("partner", "nord", kind=person, surname=f"Ret{name.capitalize()}")
    for name, closed, hold, shared in CASES:
        client = clients["open"] if shared else clients[name]
        made[name] = factory("case", "nord", client=client, opened_on=date(2019, 1, 1), closed_on=closed,
                             file_number=f"R-{name}", legal_hold=hold,
                             status=factory.value("case_status", "closed" if closed else "open"))
    # Pages, a member, a letter-like entry and history on the old case.
    member = factory("partner", "nord", kind=person, surname="RetMitbewohner")
    factory("household_member", "nord", case=made["old"], member=member)
    factory("social_situation", "nord", case=made["old"], person=clients["old"], info="alt")
    care = factory("care", "nord", case=made["old"], started_on=date(2020, 1, 1),
                   legal_basis=factory.value("care_legal_basis", "own_help"))
    plan = factory("help_plan", "nord", care=care, valid_from=date(2020, 1, 1),
                   state=factory.value("help_plan_state", "agreed"))
    factory("help_goal", "nord", plan=plan, area=factory.value("help_area", "wohnen"), goal="alt")
    court = factory("partner", None, kind=factory.value("partner_kind", "institution"), surname="Amtsgericht Ret")
    factory("eviction_lawsuit", "nord", case=made["old"], court=court, received_on=date(2020, 2, 2))
    db.session.add(AccessLog(username="x", entity="social_situation", record_id=999, channel="show"))
    db.session.commit()
    return made, clients, member, court


def test_dry_run_lists_what_is_due(cases):
    from app.extensions import db
    from app.services.retention import find_due
    made, *_ = cases
    report = find_due(db.session, TODAY)
    assert {d.record_id for d in report.due} == {made[n].id for n in EXPECT_DUE}
    assert report.held["case"] == 1
    assert all(d.action == "erase" and d.period == "5 Jahre" for d in report.due)


def test_apply_erases_with_pages_and_keeps_shared_persons(cases):
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    from app.privacy_models import AccessLog, RetentionAggregate, RetentionProtocol
    from app.actor import Actor
    from app.services.retention import apply
    made, clients, member, court = cases
    registry = built_registry()
    Case, Partner = registry.model("case"), registry.model("partner")
    ids = {n: c.id for n, c in made.items()}
    people = {n: p.id for n, p in clients.items()}
    member_id, court_id = member.id, court.id
    logged = db.session.scalar(select(func.count()).select_from(AccessLog))
    report = apply(db.session, TODAY, Actor.system("test"))
    db.session.commit()
    db.session.expire_all()
    left = set(db.session.scalars(select(Case.file_number)))
    assert {f"R-{n}" for n in EXPECT_DUE}.isdisjoint(left)
    assert {"R-boundary", "R-recent", "R-held", "R-open"} <= left
    for entity in ("household_member", "social_situation", "care", "help_plan", "help_goal", "eviction_lawsuit"):
        model = registry.model(entity)
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, entity
    partners = set(db.session.scalars(select(Partner.id)))
    assert people["old"] not in partners and member_id not in partners  # nobody else names them
    assert people["open"] in partners          # client of "shared" and of the open case: kept
    assert court_id in partners                # institutions stay
    assert people["shared"] in partners        # the "shared" case's own partner row is another person's: untouched
    protocol = {(p.entity, p.record_id, p.action) for p in db.session.scalars(select(RetentionProtocol))}
    assert ("case", ids["old"], "erase") in protocol and ("partner", people["open"], "keep") in protocol
    frozen = db.session.scalars(select(RetentionAggregate)).all()
    assert sum(a.count for a in frozen) == 2 and {a.year for a in frozen} == {2024, 2025}
    assert db.session.scalar(select(func.count()).select_from(AccessLog)) == logged  # the log is never erased
    assert report.erased["case"] == 2


def test_retention_command(cases):
    from app.cli import main
    runner = CliRunner()
    both = runner.invoke(main, ["retention"])
    assert both.exit_code == 2 and "--dry-run oder --apply" in both.output
    out = runner.invoke(main, ["retention", "--dry-run", "--as-of", "30.06.2031", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["due_count"] == {"case": 2} and data["held"] == {"case": 1}
    out = runner.invoke(main, ["retention", "--apply", "--as-of", "30.06.2031"])
    assert out.exit_code == 0 and "case: 2" in out.output
    again = runner.invoke(main, ["retention", "--dry-run", "--as-of", "30.06.2031"])
    assert "fällig nichts" in again.output


def test_a_ruled_child_page_holds_its_case_back(cases):
    """A page of the case with a rule of its own (as a loan: 10 years after settlement) keeps the case until it
    is due too: here the household income, configured by YAML alone."""
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    from app.metamodel.spec import RetentionSpec
    from app.services.retention import find_due
    from app.core_models import CatalogueValue
    made, clients, *_ = cases
    registry = built_registry()
    income = registry.spec.entity("household_income")
    model = registry.model("household_income")
    kind = db.session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "income_type")).first()
    row = model(case=made["old"], income_type=kind, amount=100, valid_from=date(2024, 1, 1))
    row.org_unit_id = made["old"].org_unit_id
    db.session.add(row)
    db.session.commit()
    income.retention = RetentionSpec(after="valid_from", years=10)
    try:
        due = {d.record_id for d in find_due(db.session, TODAY).due}
        assert made["old"].id not in due and made["shared"].id in due  # the income runs until 2034
        assert made["old"].id in {d.record_id for d in find_due(db.session, date(2034, 1, 2)).due}
    finally:
        income.retention = None


def test_anonymise_keeps_the_row_and_clears_texts(cases):
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    from app.services.retention import anonymise_rows
    made, *_ = cases
    registry = built_registry()
    case_id = made["recent"].id
    anonymise_rows(db.session, registry, "case", {case_id})
    db.session.commit()
    db.session.expire_all()
    case = db.session.get(registry.model("case"), case_id)
    assert case.file_number is None and case.closed_on == date(2029, 1, 1) and case.status.code == "closed"


def test_letters_and_documents_go_with_their_case(cases, factory):
    """The plan's print (an archived letter) and a scanned document of the old case are erased with it, files
    included; the letters of kept cases stay."""
    from flask_appbuilder.security.sqla.models import User

    from app.actor import Actor
    from app.core_models import Attachment
    from app.extensions import db
    from app.letters.models import Letter
    from app.letters.storage import absolute
    from app.metamodel.build_models import built_registry
    from app.services import care as care_service
    from app.services.attachments import attach
    from app.services.retention import apply
    made, clients, *_ = cases
    registry = built_registry()
    factory("address", "nord", partner=clients["old"], kind=factory.value("address_kind", "main"), street="Altweg",
            house_number="1", postcode="33100", city="Musterstadt")
    system = Actor.system("test")
    admin = db.session.query(User).filter_by(username="admin").one()
    Plan = registry.model("help_plan")
    plan = db.session.scalars(select(Plan)).one()
    letter = care_service.print_plan(db.session, plan, user=admin, actor=system)
    entry = db.session.get(registry.model("doc_entry"), plan.signed_entry_id)
    scan = attach(db.session, entry.id, "unterschrieben.pdf", b"%PDF-1.4 signed", actor=system)
    db.session.commit()
    files = [absolute(letter.path), absolute(scan.path)]
    assert all(path.exists() for path in files)
    apply(db.session, TODAY, system)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert not any(path.exists() for path in files)
