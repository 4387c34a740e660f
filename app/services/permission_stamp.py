"""Installs the permission stamp's triggers and row after every migration (#10; the table: app/permission_stamp.py).

Triggers on FAB's role and permission tables raise the stamp on every insert, update and delete, whoever writes:
the profile page, ``sync-roles``, FAB's raw pages or plain SQL. The row is written only together with its
triggers, so a database without them has no stamp and its workers read the permissions on every request.
"""
from __future__ import annotations

import secrets

from sqlalchemy import Engine, inspect, text

from ..metamodel.migration_hooks import after_migrate
from ..permission_stamp import STAMP_ID, WATCHED

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
