"""Bulk writes past SQLAlchemy's per-row parameter handling, for imports and bulk bookings.

Shared by the import pipeline (app/integrations/pipeline.py) and services that book many rows at once (loan
payments): one place decides how rows reach the table and tells the render caches which tables were written.
"""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

BULK_TABLES = "fachstelle.bulk_tables"  # session.info: tables written by COPY (app/web/render_cache.py)


def _prepared(session: Session, table: Table, rows: list[dict]) -> tuple[list[str], Iterator[list]]:
    """Column names and each row's values as the driver takes them: columns no row names get the Python-side
    scalar defaults (as Core's insert() would; server defaults come from the database), values go through
    the column types' bind processors (SQLite's dates and times as text)."""
    dialect = session.get_bind().dialect
    names = list(dict.fromkeys(name for row in rows for name in row))
    defaults = {c.key: c.default.arg for c in table.columns
                if c.key not in names and c.default is not None and c.default.is_scalar}
    names += list(defaults)
    processors = [table.c[name].type.bind_processor(dialect) for name in names]

    def values():
        for row in rows:
            cells = [row.get(name, defaults.get(name)) for name in names]
            yield [p(v) if p is not None and v is not None else v for p, v in zip(processors, cells)]
    return names, values()


def copy_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Write ``rows`` (dicts of column values) in the session's transaction, past SQLAlchemy's per-row
    parameter handling: PostgreSQL's ``COPY … FROM STDIN``, SQLite's ``executemany`` of one prepared INSERT
    (Core's executemany spends a third of an import's time building parameters). Other databases: Core."""
    dialect = session.get_bind().dialect
    if dialect.name not in ("postgresql", "sqlite"):
        session.execute(insert(table), rows)
        return
    names, values = _prepared(session, table, rows)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    raw = session.connection().connection.driver_connection
    if dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join('?' * len(names))})",
                               values)
        finally:
            cursor.close()
    # Core's statements tell the render caches through do_orm_execute; these do through the session.
    session.info.setdefault(BULK_TABLES, set()).add(table.name)
