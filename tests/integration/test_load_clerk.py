"""The load benchmark's clerk (bench/load.py) against the app served on 127.0.0.1 with CSRF on, as under
gunicorn: it logs in through the form, opens the documentation entry's add form, fills it from the served
fields and saves; every request kind answers without error and the saved marker is in the database once.
This is what keeps the benchmark working when the forms change (a new hidden field, a renamed field)."""
from __future__ import annotations

import random
import threading
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bench.load import Budget, Clerk, account_writes, markers_in_db
from tests.conftest import PASSWORD, username


@pytest.fixture
def served(ctx):
    """The app on a free port of 127.0.0.1, CSRF checked as in production, for the length of one test."""
    ctx.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(10)
        ctx.config["WTF_CSRF_ENABLED"] = False


def _clerk(port, user, cases, run_id="t1"):
    account = {"username": user, "password": PASSWORD, "unit": "nord"}
    clerk = Clerk(port, account, cases, ["mü"], run_id, 1, random.Random(3), timeout=30)
    clerk.measuring = True
    return clerk


def test_a_clerk_works_through_the_mix_and_its_saves_are_in_the_database(served, factory, ctx):
    from app.extensions import db
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Müller",
                     first_name="Anna")
    case = factory("case", "nord", client=person, opened_on=date(2026, 1, 5), file_number="L-1",
                   status=factory.value("case_status", "open"))
    clerk = _clerk(served, username("Sachbearbeitung", "nord"), [case.id])
    clerk.login()
    budget = Budget(100)
    for kind in ("list", "case", "search", "lookup", "save", "save"):
        clerk.act(kind, budget, "07.12.2026")
    assert dict(clerk.log.errors) == {}
    assert sorted({kind for kind, _, _ in clerk.log.samples}) == ["case", "form", "list", "lookup", "save", "search"]
    assert len(clerk.log.confirmed) == 2 and not clerk.log.unconfirmed
    check = account_writes(clerk.log.confirmed, clerk.log.unconfirmed,
                           markers_in_db(ctx.config["SQLALCHEMY_DATABASE_URI"], "t1"))
    assert check.lost == 0 and not check.unknown
    entry = ctx.config["FACHSTELLE_REGISTRY"].model("doc_entry")
    db.session.expire_all()
    saved = db.session.scalars(select(entry).where(entry.info == clerk.log.confirmed[0])).one()
    # The served defaults were posted: the case from the link, today's date as served, the clerk as provider.
    assert saved.case_id == case.id and saved.service_id is not None
    assert saved.provider.username == username("Sachbearbeitung", "nord")


def test_errors_are_counted_not_hidden(served, factory, ctx):
    """Another unit's case file is a 404 for this clerk; saving on it is refused: both are errors, and a
    refused save is not taken as saved."""
    person = factory("partner", "sued", kind=factory.value("partner_kind", "person"), surname="Süd")
    other = factory("case", "sued", client=person, opened_on=date(2026, 1, 5), file_number="S-1",
                    status=factory.value("case_status", "open"))
    clerk = _clerk(served, username("Sachbearbeitung", "nord"), [other.id], run_id="t2")
    clerk.login()
    clerk.act("case", Budget(10), "07.12.2026")
    clerk.act("save", Budget(10), "07.12.2026")
    assert clerk.log.errors[("case", "Status 404")] == 1
    # The form may open (FAB's related filter), the post is refused (today with a 404): one error either way.
    assert [kind for kind, _ in clerk.log.errors] == ["case", "save"] or ("form", "Status 404") in clerk.log.errors
    assert not clerk.log.confirmed and len(clerk.log.unconfirmed) <= 1
    assert markers_in_db(ctx.config["SQLALCHEMY_DATABASE_URI"], "t2") == {}


def test_a_wrong_password_stops_the_clerk_with_a_message(served):
    clerk = _clerk(served, username("Sachbearbeitung", "nord"), [1])
    clerk.account["password"] = "falsch"
    with pytest.raises(RuntimeError, match="Anmeldung als sachbearbeitung_nord fehlgeschlagen"):
        clerk.login()
