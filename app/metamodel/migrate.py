"""Safe schema evolution: compare the models built from YAML with the database, then migrate.

Additive changes (new tables, columns, indexes; widening a column) are applied. Dropping, renaming
(which Alembic sees as drop + add) or narrowing a column is refused unless explicitly allowed, and
then the affected data is exported to CSV first. Each applied change is an Alembic revision file.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, String, inspect, select, table, column

from .. import settings

KIND_TEXT = {
    "add_table": "neue Tabelle", "add_column": "neues Feld", "add_index": "neuer Index",
    "remove_index": "Index entfällt", "add_fk": "neuer Verweis", "add_constraint": "neue Eindeutigkeit",
    "remove_table": "Tabelle entfällt", "remove_column": "Feld entfällt", "modify_type": "Feldtyp ändert sich",
    "modify_nullable": "Pflichtangabe ändert sich", "remove_fk": "Verweis entfällt",
    "remove_constraint": "Eindeutigkeit entfällt", "modify_default": "Standardwert ändert sich",
}


@dataclass(frozen=True)
class Change:
    kind: str
    table: str
    column: str | None
    destructive: bool
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{KIND_TEXT.get(self.kind, self.kind)}: {where}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    @property
    def empty(self) -> bool:
        return not self.changes


class MigrationRefused(Exception):
    def __init__(self, changes: list[Change]):
        self.changes = changes
        lines = "\n".join(f"  - {c}" for c in changes)
        super().__init__(
            "Die Migration wurde abgelehnt, weil sie Daten verlieren könnte:\n"
            f"{lines}\n"
            "Nichts wurde geändert. Wenn das beabsichtigt ist, mit --allow-destructive erneut ausführen; "
            "die betroffenen Daten werden vorher als CSV exportiert.")


def _widening(old_type, new_type) -> bool:
    if isinstance(old_type, String) and isinstance(new_type, String):
        return (new_type.length or 10**9) >= (old_type.length or 10**9)
    return False


def _classify(diff) -> list[Change]:
    out: list[Change] = []
    for item in diff:
        if isinstance(item, list):  # modify_* come grouped per column
            out.extend(_classify(item))
            continue
        kind = item[0]
        if kind == "add_table":
            out.append(Change(kind, item[1].name, None, False))
        elif kind == "remove_table":
            out.append(Change(kind, item[1].name, None, True))
        elif kind == "add_column":
            out.append(Change(kind, item[2], item[3].name, False))
        elif kind == "remove_column":
            out.append(Change(kind, item[2], item[3].name, True))
        elif kind in ("add_index", "remove_index"):
            out.append(Change(kind, item[1].table.name, item[1].name, False))
        elif kind in ("add_fk", "remove_fk", "add_constraint", "remove_constraint"):
            out.append(Change(kind, item[1].table.name, getattr(item[1], "name", None), False))
        elif kind == "modify_type":
            _, _, tname, cname, _, old, new = item
            out.append(Change(kind, tname, cname, not _widening(old, new), f"{old} → {new}"))
        elif kind == "modify_nullable":
            _, _, tname, cname, _, old, new = item
            # Making a field optional loses nothing; making it required may fail on existing rows.
            out.append(Change(kind, tname, cname, new is False, "Pflichtfeld" if new is False else "optional"))
        elif kind == "modify_default":
            out.append(Change(kind, item[2], item[3], False))
        else:
            out.append(Change(kind, "?", None, True, str(item)))
    return out


def plan(engine: Engine, metadata: MetaData) -> Plan:
    """The pending difference between the configured models and the database."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return Plan(_classify(compare_metadata(context, metadata)))


def alembic_config(engine: Engine, versions_dir: Path | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(settings.ROOT / "migrations"))
    directory = Path(versions_dir or settings.migrations_dir() / "versions")
    directory.mkdir(parents=True, exist_ok=True)
    cfg.set_main_option("version_locations", str(directory))
    cfg.set_main_option("path_separator", "os")
    return cfg


def export_affected(engine: Engine, changes: list[Change], export_dir: Path) -> list[Path]:
    """Write the data that a destructive change touches to CSV, before anything is changed."""
    export_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    written = []
    existing = inspect(engine)
    with engine.connect() as conn:
        for change in changes:
            if change.table not in existing.get_table_names():
                continue
            names = [c["name"] for c in existing.get_columns(change.table)]
            wanted = names if change.column is None else [n for n in ("id", change.column) if n in names]
            rows = conn.execute(select(*[column(n) for n in wanted]).select_from(table(change.table)))
            path = export_dir / f"{stamp}_{change.table}{'_' + change.column if change.column else ''}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, delimiter=";")
                writer.writerow(wanted)
                writer.writerows(rows)
            written.append(path)
    return written


@dataclass
class MigrationResult:
    plan: Plan
    revision: str | None
    exported: list[Path]


def migrate(engine: Engine, metadata: MetaData, allow_destructive: bool = False,
            versions_dir: Path | None = None, export_dir: Path | None = None,
            message: str = "fachstelle migrate") -> MigrationResult:
    """Bring the database up to the configured models, refusing data loss unless allowed."""
    cfg = alembic_config(engine, versions_dir)
    with engine.begin() as conn:
        cfg.attributes["connection"], cfg.attributes["metadata"] = conn, metadata
        command.upgrade(cfg, "heads")  # revisions written earlier (another database, another run)
    pending = plan(engine, metadata)
    if pending.empty:
        return MigrationResult(pending, None, [])
    exported: list[Path] = []
    if pending.destructive:
        if not allow_destructive:
            raise MigrationRefused(pending.destructive)
        exported = export_affected(engine, pending.destructive, export_dir or settings.instance_dir() / "exports")
    with engine.begin() as conn:
        cfg.attributes["connection"], cfg.attributes["metadata"] = conn, metadata
        script = command.revision(cfg, message=message, autogenerate=True)
        command.upgrade(cfg, "heads")
    revision = script.revision if script is not None and not isinstance(script, list) else None
    return MigrationResult(pending, revision, exported)


def current_heads(engine: Engine, versions_dir: Path | None = None) -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(engine, versions_dir)).get_heads())
