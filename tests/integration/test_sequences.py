"""Rows bulk-inserted with their own ids leave room for the next record typed in (issue #10, finding 1).

On PostgreSQL the demo's bulk insert left every id sequence at 1: the next partner or case from a form
failed with ``UniqueViolation … partner_pkey (id)=(1)`` (a 500) until the sequence had caught up.
"""
from __future__ import annotations

from sqlalchemy import func, select, text

from tests.conftest import login


def _demo_rows(ctx):
    """What ``fachstelle demo`` writes, at a small size: partners, addresses, cases and their pages."""
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.services.demo import generate

    units = list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
    generate(db.session, ctx.config["FACHSTELLE_REGISTRY"], units, 30, 20, seed=7)
    db.session.commit()


def test_after_demo_rows_new_partner_and_case_get_free_ids(client, factory):
    from app.extensions import db

    registry = client.application.config["FACHSTELLE_REGISTRY"]
    Partner, Case = registry.model("partner"), registry.model("case")
    _demo_rows(client.application)
    highest = db.session.scalar(select(func.max(Partner.id)))
    assert highest >= 34  # four institutions and 30 persons, with ids the insert chose itself

    # Through the ORM, as a service or import would.
    partner = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Neumann")
    assert partner.id == highest + 1

    # Through the generated forms, as a clerk would.
    login(client, "sachbearbeitung_nord")
    response = client.post("/partner/add", data={"kind": factory.value("partner_kind", "person").id,
                                                  "surname": "Formular", "first_name": "Frieda",
                                                  "birth_date": "01.02.1980"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    typed = db.session.scalars(select(Partner).where(Partner.surname == "Formular")).one()
    assert typed.id == highest + 2
    highest_case = db.session.scalar(select(func.max(Case.id)))
    response = client.post("/case/add", data={"client": typed.id, "opened_on": "03.11.2025",
                                              "status": factory.value("case_status", "open").id,
                                              "file_number": "2025/4711"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    case = db.session.scalars(select(Case).where(Case.file_number == "2025/4711")).one()
    assert case.id == highest_case + 1


def test_reset_sequences_on_an_empty_table_starts_at_one(ctx):
    from app.extensions import db
    from app.services.sequences import reset_sequences

    Contact = ctx.config["FACHSTELLE_REGISTRY"].model("contact")
    reset = reset_sequences(db.session, [Contact])
    if db.engine.dialect.name != "postgresql":
        assert reset == []  # SQLite takes max(rowid) + 1 by itself
        return
    assert reset == ["contact"]
    assert db.session.scalar(text("SELECT nextval(pg_get_serial_sequence('contact', 'id'))")) == 1
    db.session.rollback()
