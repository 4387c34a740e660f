"""PostgreSQL sequences follow rows written with explicit ids.

A bulk insert that sets ``id`` itself (demo data, the benchmark data set, imports that keep their
numbers) leaves the table's sequence where it was: the next ``INSERT`` without an id then takes 1,
2, … and fails with a unique violation on the primary key until the sequence has caught up (issue
#10: after ``fachstelle demo`` every new partner or case was a 500). SQLite takes max(rowid) + 1 and
needs nothing.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.orm import Session

from ..metamodel.build_models import built_registry


def entity_tables() -> list[Table]:
    """The tables of the generated entities (the ones bulk inserts write with explicit ids)."""
    registry = built_registry()
    return [em.model.__table__ for em in registry] if registry is not None else []


def reset_sequences(session: Session | Connection, tables: Iterable[Table | str | type] | None = None) -> list[str]:
    """Move each table's id sequence to max(id), so the next insert without an id gets max(id) + 1.

    1. ``tables``: tables, table names or model classes; ``None`` means every entity table.
    2. An empty table gets its sequence back to 1 (the next id is 1).
    3. A no-op on SQLite (and any other database without sequences); returns the tables it reset.
    4. Runs in the transaction of the session (or connection): call it after the bulk insert, before the
       commit.
    """
    bind = session if isinstance(session, Connection) else session.get_bind()  # Session or scoped_session
    if bind.dialect.name != "postgresql":
        return []
    wanted = entity_tables() if tables is None else [_table(t) for t in tables]
    done = []
    for table in wanted:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        sequence = session.scalar(select(func.pg_get_serial_sequence(_quoted(table), "id")))
        if sequence is None:  # an id without a sequence (not SERIAL/IDENTITY)
            continue
        session.execute(text(
            f"SELECT setval(:sequence, coalesce(max(id), 1), max(id) IS NOT NULL) FROM {_quoted(table)}"),
            {"sequence": sequence})
        done.append(table.name)
    return done


def _table(value) -> Table:
    if isinstance(value, Table):
        return value
    if isinstance(value, str):
        from flask_appbuilder import Model
        return Model.metadata.tables[value]
    return value.__table__


def _quoted(table: Table) -> str:
    # Also what pg_get_serial_sequence parses as its first argument: "case" needs its quotes.
    name = '"' + table.name.replace('"', '""') + '"'
    return f'"{table.schema}".{name}' if table.schema else name
