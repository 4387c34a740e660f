"""The roles' permissions are kept per worker while the permission stamp stands (#10, app/permission_stamp.py).

A change of a role — by FAB's security manager (the admin pages, sync-roles) or by plain SQL — raises the
stamp in the database, and counts from the next request on; while nothing changes, a request does not
read the permissions again.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event, select, text

from app.extensions import db
from app.permission_stamp import PermissionStamp
from tests.conftest import login, username

USER = username("Sachbearbeitung", "nord")


def _stamp() -> int | None:
    db.session.rollback()  # a fresh snapshot
    return db.session.scalar(select(PermissionStamp.n).where(PermissionStamp.id == 1))


def _role_and_list_permission(app):
    sm = app.appbuilder.sm
    role = sm.find_role("Sachbearbeitung")
    pv = sm.find_permission_view_menu("can_list", "entity_partner")
    assert role is not None and pv is not None and pv in role.permissions
    return sm, role, pv


def test_the_stamp_is_installed_with_its_triggers_and_raised_by_every_kind_of_change(app):
    with app.app_context():
        before = _stamp()
        assert before is not None, "migrate installs the stamp's row (after_migrate)"
        sm, role, pv = _role_and_list_permission(app)
        sm.del_permission_role(role, pv)  # what the admin's role page does
        after_removal = _stamp()
        assert after_removal != before
        sm.add_permission_role(role, pv)
        after_adding = _stamp()
        assert after_adding not in (before, after_removal)
        db.session.execute(text("UPDATE ab_role SET name = name WHERE name = 'Sachbearbeitung'"))  # plain SQL
        db.session.commit()
        assert _stamp() != after_adding


class _Statements:
    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append(statement)

    def reading_permissions(self) -> int:
        return sum(1 for s in self.seen if re.search(r"FROM ab_permission_view\b", s))


@contextmanager
def _statements_of(app):
    """The SQL of the requests inside; they run outside an app context of the test, so each gets its own
    ``g`` (no per-request permission cache shared between them)."""
    with app.app_context():
        engine = db.engine
    statements = _Statements()
    event.listen(engine, "before_cursor_execute", statements)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", statements)


def test_a_request_does_not_read_the_permissions_again_while_the_stamp_stands(app):
    client = login(app.test_client(), USER)
    assert client.get("/partner/list/").status_code == 200
    with _statements_of(app) as statements:
        assert client.get("/partner/list/").status_code == 200
        assert client.get("/case/list/").status_code == 200
    assert statements.reading_permissions() == 0
    assert sum("permission_stamp" in s for s in statements.seen) == 2  # with the user's own query


def test_a_removed_permission_counts_from_the_next_request(app):
    client = login(app.test_client(), USER)
    assert client.get("/partner/list/").status_code == 200  # the permissions are now kept by this worker
    with app.app_context():
        sm, role, pv = _role_and_list_permission(app)
        sm.del_permission_role(role, pv)
    try:
        denied = client.get("/partner/list/")
        assert denied.status_code in (302, 403), denied.status_code  # FAB: "Access is Denied", to the start page
    finally:
        with app.app_context():
            sm = app.appbuilder.sm
            pv = sm.find_permission_view_menu("can_list", "entity_partner")
            sm.add_permission_role(sm.find_role("Sachbearbeitung"), pv)
    assert client.get("/partner/list/").status_code == 200  # given back: counts at once, too


def test_without_the_stamps_row_the_permissions_are_read_on_every_request(app):
    client = login(app.test_client(), USER)
    with app.app_context():
        row = db.session.get(PermissionStamp, 1)
        kept = row.n
        db.session.delete(row)
        db.session.commit()
    try:
        with _statements_of(app) as statements:
            assert client.get("/partner/list/").status_code == 200
            assert client.get("/partner/list/").status_code == 200
    finally:
        with app.app_context():
            db.session.add(PermissionStamp(id=1, n=kept + 1))
            db.session.commit()
    assert statements.reading_permissions() == 2
