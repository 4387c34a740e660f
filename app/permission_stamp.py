"""The permission stamp: a counter the database raises whenever a role's permissions change (#10).

Every request needs the permissions of the signed-in user's roles. Reading them is a four-table join on
every request; they change a few times a year. So each worker keeps them per role set
(``app.web.security``) and the stamp tells when to read them again: triggers on FAB's role and permission
tables raise it on every insert, update and delete — from the admin pages, ``fachstelle sync-roles`` or
plain SQL alike — and the stamp comes along with the user's own query (a scalar subquery on ``User``),
so checking it costs no extra query and a changed role counts from the next request on, in every worker.

Without its row (a database the migration has not reached, or tables made without it) the stamp is
NULL and the permissions are read on every request, as before.
"""
from __future__ import annotations

import secrets

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Engine, Integer, inspect, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column

from .metamodel.migration_hooks import after_migrate

STAMP_ID = 1
# FAB's tables whose rows make up what a role may do (and which roles are built-in: by name).
WATCHED = ("ab_role", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role")


class PermissionStamp(Model):
    """One row (id 1): raised by the database on every change of roles and permissions."""

    __tablename__ = "permission_stamp"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


if not hasattr(User, "permission_stamp"):
    # Deferred: only the sign-in's user load asks for it (security.get_user_by_id).
    User.permission_stamp = column_property(
        select(PermissionStamp.n).where(PermissionStamp.id == STAMP_ID).scalar_subquery(), deferred=True)

_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION fs_raise_permission_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN UPDATE permission_stamp SET n = n + 1 WHERE id = {STAMP_ID}; RETURN NULL; END $$")


def _sqlite_trigger(table: str, event: str) -> str:
    return (f"CREATE TRIGGER IF NOT EXISTS trg_permission_stamp_{table}_{event} AFTER {event.upper()} ON {table} "
            f"BEGIN UPDATE permission_stamp SET n = n + 1 WHERE id = {STAMP_ID}; END")


@after_migrate
def install_triggers(engine: Engine) -> None:
    """Install (idempotently) the triggers, then the stamp's row: the row only exists with its triggers."""
    with engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        if "permission_stamp" not in present or not set(WATCHED) <= present:
            return  # another schema (a migration test's own tables)
        if conn.dialect.name == "postgresql":
            conn.execute(text(_PG_FUNCTION))
            for table in WATCHED:
                conn.execute(text(f"DROP TRIGGER IF EXISTS trg_permission_stamp ON {table}"))
                conn.execute(text(f"CREATE TRIGGER trg_permission_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                                  f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION fs_raise_permission_stamp()"))
        elif conn.dialect.name == "sqlite":
            for table in WATCHED:
                for event in ("insert", "update", "delete"):
                    conn.execute(text(_sqlite_trigger(table, event)))
        else:
            return  # no triggers: no row, the permissions are read on every request
        # A random start: a database made anew (tests, a second city) does not repeat a stamp a worker holds.
        conn.execute(text(f"INSERT INTO permission_stamp (id, n) SELECT {STAMP_ID}, :start "
                          f"WHERE NOT EXISTS (SELECT 1 FROM permission_stamp WHERE id = {STAMP_ID})"),
                     {"start": secrets.randbelow(2**30)})
