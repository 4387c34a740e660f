"""Two clerks import the same payment file at the same moment on PostgreSQL: it is booked once (#13)."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.test_loans_service import actor, story  # noqa: F401  (fixture)


def test_same_file_twice_at_once_books_once(story, tmp_path):
    from app.extensions import db
    from app.integrations.treasury.payments import import_payments
    from app.services import loans
    from app.services.kassenzeichen import shown
    from app.treasury_models import LoanBooking, TreasuryPayment
    db_, loan, _ = story
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Sperren gibt es nur auf PostgreSQL; SQLite schreibt ohnehin nacheinander")
    loans.approve(db.session, actor(), loan)
    db.session.commit()
    rows = "".join(f"P-{i};{shown(loan.kassenzeichen)};1,00;02.01.2027;Rate\n" for i in range(500))
    path = tmp_path / "kasse.csv"
    path.write_text("buchungs_id;kassenzeichen;betrag;buchungstag;verwendungszweck\n" + rows, encoding="utf-8")
    app = db_.get_app() if hasattr(db_, "get_app") else None
    from flask import current_app
    flask_app = app or current_app._get_current_object()
    start, results, errors = threading.Barrier(2), [], []

    def clerk(name):
        with flask_app.app_context():
            try:
                start.wait()
                result = import_payments(db.session, path, actor(name))
                db.session.commit()
                results.append(result.booked)
            except Exception as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in ("anna", "bert")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(results) == [0, 500]
    assert db.session.scalar(select(func.count()).select_from(TreasuryPayment)) == 500
    assert db.session.scalar(select(func.count()).select_from(LoanBooking)) == 500
    assert loans.figures(db.session, loan, date(2027, 1, 31)).paid == Decimal("500.00")
