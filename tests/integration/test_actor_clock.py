"""Who and when are explicit (issue #10, findings 4 and 5).

1. ``scope_query`` outside a request sees nothing unless an actor is passed; ``Actor.system()`` sees all.
2. An account without an org unit creates nothing (form: German flash; REST: 403 with German message),
   and an admin cannot make such an account (user form, ``fachstelle users add``).
3. One clock: at 00:30 in Berlin on 2 January the server's UTC date is still 1 January; the entry's
   default date, the worklist's overdue bucket and the header's due count use Berlin's 2 January.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from app import clock
from app.actor import Actor
from app.errors import NoHomeUnitError
from tests.conftest import PASSWORD, login

NO_UNIT = "Ihrem Konto ist keine Dienststelle zugeordnet; Sie können keine Datensätze anlegen."
# 00:30 in Berlin (CET, UTC+1) on 2 January 2026 is 23:30 UTC on 1 January.
AFTER_MIDNIGHT = datetime(2026, 1, 1, 23, 30, tzinfo=timezone.utc)


def _unit_id(code: str) -> int:
    from app.core_models import OrgUnit
    from app.extensions import db
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


# --- 1. fail closed ------------------------------------------------------------------------------------------
def test_scope_query_outside_a_request_needs_an_actor(ctx, factory):
    from app.extensions import db
    from app.scoping import can_see_record, scope_query
    kind = factory.value("partner_kind", "person")
    nord = factory("partner", "nord", kind=kind, surname="Nordfrau")
    sued = factory("partner", "sued", kind=kind, surname="Suedfrau")
    model = type(nord)
    query = select(model.surname).where(model.id.in_([nord.id, sued.id])).order_by(model.surname)

    assert list(db.session.scalars(scope_query(query, model))) == []  # no actor, no request: nothing
    assert not can_see_record(nord)
    assert list(db.session.scalars(scope_query(query, model, actor=Actor.system()))) == ["Nordfrau", "Suedfrau"]
    clerk = Actor(name="clerk", units=(_unit_id("nord"),))
    assert list(db.session.scalars(scope_query(query, model, actor=clerk))) == ["Nordfrau"]
    assert can_see_record(nord, clerk) and not can_see_record(sued, clerk)


def test_services_take_the_actor(ctx, factory):
    from app.extensions import db
    from app.services.indicators import report_units
    assert report_units(db.session) == []  # a job that forgot its actor reports on nothing
    assert [u.code for u in report_units(db.session, actor=Actor.system())] == ["nord", "sued"]
    only_sued = Actor(name="s", units=(_unit_id("sued"),))
    assert [u.code for u in report_units(db.session, actor=only_sued)] == ["sued"]


# --- 2. no unit, no records ----------------------------------------------------------------------------------
@pytest.fixture
def no_unit_clerk(ctx):
    """A Sachbearbeitung account without any org unit, made past the checks (as an old database may hold)."""
    from app.extensions import db
    sm = ctx.appbuilder.sm
    user = sm.find_user(username="sb_ohne_dienststelle")
    if user is None:
        user = sm.add_user("sb_ohne_dienststelle", "Ohne", "Dienststelle", "ohne@fachstelle.invalid",
                           sm.find_role("Sachbearbeitung"), password=PASSWORD)
    user.org_units = []
    db.session.commit()
    return user.username


def _partners_named(surname: str) -> int:
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    model = built_registry().model("partner")
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(model.surname == surname))


def test_clerk_without_unit_gets_a_german_refusal_in_the_form(client, factory, no_unit_clerk):
    login(client, no_unit_clerk)
    kind = factory.value("partner_kind", "person")
    response = client.post("/partner/add", data={"kind": kind.id, "surname": "Ohneamt", "first_name": "Olga"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert NO_UNIT in response.get_data(as_text=True)
    assert _partners_named("Ohneamt") == 0  # before: saved into unit "nord", then 404 for its author


def test_clerk_without_unit_gets_403_with_german_message_from_rest(client, factory, no_unit_clerk):
    login(client, no_unit_clerk)
    kind = factory.value("partner_kind", "person")
    response = client.post("/api/v1/partner/", json={"kind": kind.id, "surname": "Ohneamt", "first_name": "Rolf"})
    assert response.status_code == 403
    assert NO_UNIT in response.get_json()["message"]
    assert _partners_named("Ohneamt") == 0


def test_assign_org_unit_refuses_an_actor_without_home_unit(ctx):
    from app.metamodel.build_models import built_registry
    from app.services.records import assign_org_unit
    registry = built_registry()
    item = registry.model("partner")(surname="X")
    with pytest.raises(NoHomeUnitError):
        assign_org_unit(registry.entity("partner"), item, Actor(name="ohne", units=()))
    assign_org_unit(registry.entity("partner"), item, Actor(name="nord", units=(7,), home_unit=7))
    assert item.org_unit_id == 7


def test_admin_cannot_activate_a_clerk_without_unit(client):
    from app.extensions import db
    sm = client.application.appbuilder.sm
    login(client, "admin")
    role = sm.find_role("Sachbearbeitung")
    response = client.post("/users/add", data={
        "first_name": "Neu", "last_name": "Ohne", "username": "neu_ohne", "email": "neu_ohne@fachstelle.invalid",
        "active": "y", "roles": [role.id], "password": "Kaffeetasse Nordbahnhof blau", "conf_password": "Kaffeetasse Nordbahnhof blau"},
        follow_redirects=True)
    assert "braucht mindestens eine Dienststelle" in response.get_data(as_text=True)
    db.session.expire_all()
    assert sm.find_user(username="neu_ohne") is None


def test_admin_cannot_take_the_last_unit_of_an_active_clerk(client):
    from app.extensions import db
    sm = client.application.appbuilder.sm
    clerk = sm.find_user(username="sozialarbeit_sued")
    login(client, "admin")
    response = client.post(f"/users/edit/{clerk.id}", data={
        "first_name": clerk.first_name, "last_name": "Umbenannt", "username": clerk.username, "email": clerk.email,
        "active": "y", "roles": [r.id for r in clerk.roles]}, follow_redirects=True)  # no org_units
    assert "braucht mindestens eine Dienststelle" in response.get_data(as_text=True)
    db.session.expire_all()
    clerk = sm.find_user(username="sozialarbeit_sued")
    assert [u.code for u in clerk.org_units] == ["sued"] and clerk.last_name != "Umbenannt"


def test_users_add_without_org_unit_is_refused_for_clerks(ctx):
    # ``fachstelle users add`` passes this DomainError on as its message (test_cli runs the command itself).
    from app.errors import DomainError
    from app.services.users import ensure_user
    sm = ctx.appbuilder.sm
    with pytest.raises(DomainError, match="bitte mindestens eine Dienststelle angeben"):
        ensure_user(sm, "cli_ohne", "pw", "Sachbearbeitung", [])
    assert sm.find_user(username="cli_ohne") is None


# --- 3. one clock --------------------------------------------------------------------------------------------
def test_clock_is_berlins_after_midnight():
    with clock.frozen(AFTER_MIDNIGHT):
        assert AFTER_MIDNIGHT.date() == date(2026, 1, 1)  # the server's UTC date
        assert clock.today() == date(2026, 1, 2)
        assert clock.utcnow() == AFTER_MIDNIGHT and clock.now_naive() == datetime(2026, 1, 2, 0, 30)


def test_entry_default_date_is_berlins(client, factory):
    kind = factory.value("partner_kind", "person")
    partner = factory("partner", "nord", kind=kind, surname="Datum")
    case = factory("case", "nord", client=partner, opened_on=date(2025, 12, 1),
                   status=factory.value("case_status", "open"))
    login(client, "sachbearbeitung_nord")
    with clock.frozen(AFTER_MIDNIGHT):
        form = client.get(f"/doc-entry/add?_flt_0_case={case.id}").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="entry_date"[^>]*>', form).group(0)
    assert 'value="02.01.2026"' in field


def test_worklist_bucket_and_due_count_use_berlins_day(client, factory):
    from flask import g
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    kind = factory.value("partner_kind", "person")
    partner = factory("partner", "nord", kind=kind, surname="Frist")
    case = factory("case", "nord", client=partner, opened_on=date(2025, 12, 1),
                   status=factory.value("case_status", "open"))
    clerk = db.session.query(User).filter_by(username="sachbearbeitung_nord").one()
    factory("task", "nord", case=case, title="Fällig am Neujahrstag", due_on=date(2026, 1, 1),
            state=factory.value("task_state", "open"), assignee=clerk)
    factory("task", "nord", case=case, title="Fällig am 2. Januar", due_on=date(2026, 1, 2),
            state=factory.value("task_state", "open"), assignee=clerk)
    login(client, "sachbearbeitung_nord")
    with clock.frozen(AFTER_MIDNIGHT):
        g.pop("_fs_due_count", None)  # the ctx fixture's app context shares g between requests
        html = client.get("/worklist/").get_data(as_text=True)
    overdue = re.search(r'fs-worklist-overdue">(.*?)fs-worklist-today', html, re.S).group(1)
    assert "Fällig am Neujahrstag" in overdue  # UTC's "today" would call it due today
    assert "Fällig am 2. Januar" not in overdue
    assert re.search(r'Wiedervorlagen</span> <span class="badge fs-badge-due">2</span>', html)


def test_due_count_service_counts_by_the_given_day(ctx, factory):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.services.worklist import due_count
    kind = factory.value("partner_kind", "person")
    partner = factory("partner", "nord", kind=kind, surname="Zaehler")
    case = factory("case", "nord", client=partner, opened_on=date(2025, 12, 1),
                   status=factory.value("case_status", "open"))
    clerk = db.session.query(User).filter_by(username="sachbearbeitung_nord").one()
    factory("task", "nord", case=case, title="Morgen", due_on=date(2026, 1, 2),
            state=factory.value("task_state", "open"), assignee=clerk)
    nord = Actor(name=clerk.username, units=(_unit_id("nord"),), user_id=clerk.id)
    with clock.frozen(AFTER_MIDNIGHT):
        assert due_count(db.session, clerk.id, nord.today, nord) == 1
    assert due_count(db.session, clerk.id, date(2026, 1, 1), nord) == 0
    assert due_count(db.session, clerk.id, date(2026, 1, 2)) == 0  # no actor outside a request: nothing
