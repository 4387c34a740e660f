"""Safe schema evolution: compare the models built from YAML with the database, then migrate.

Additive changes (new tables, columns, indexes; widening a column; making a field optional) are
applied. Dropping, renaming (which Alembic sees as drop + add), narrowing or retyping a column is
refused unless explicitly allowed, and then the affected data is exported to CSV first. Changes that
cannot work on the existing rows (a new required field without a default) are refused with a hint.
Each applied change is an Alembic revision file, written and applied in one transaction. The files
belong to the deployment (one folder per database under ``instance/migrations/``), never to the
source tree; an empty database is created from the models and stamped with a baseline revision.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (Connection, Engine, MetaData, String, and_, cast, column, create_engine, event, func, inspect,
                        select, table)
from sqlalchemy.pool import NullPool

from .. import clock, settings
from ..domain.text import normalise
from .build_models import built_registry, column_name
from .kinds import kind_of
from .migration_hooks import AFTER_MIGRATE
from .revision_ops import backfill_sql, rewrite_directives, type_change_is_safe

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
    blocked: str = ""  # why it cannot be applied to the existing rows (German, with a hint)

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{KIND_TEXT.get(self.kind, self.kind)}: {where}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    # SQL that fills existing rows of a column that becomes required: (table, column) -> expression
    backfill: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    @property
    def blocked(self) -> list[Change]:
        return [c for c in self.changes if c.blocked]

    @property
    def empty(self) -> bool:
        return not self.changes

    def rename_suspects(self) -> list[str]:
        """Tables that lose a field and gain one: probably a rename, which Alembic cannot tell."""
        out = []
        for tname in sorted({c.table for c in self.changes if c.kind == "remove_column"}):
            removed = [c.column for c in self.changes if c.kind == "remove_column" and c.table == tname]
            added = [c.column for c in self.changes if c.kind == "add_column" and c.table == tname]
            if added:
                out.append(f"In '{tname}' entfällt {', '.join(removed)} und {', '.join(added)} kommt hinzu. "
                           "Eine Umbenennung erkennt die Migration nicht: die bisherigen Werte würden nicht "
                           "übernommen und stünden danach nur im CSV-Export.")
        return out


class MigrationRefused(Exception):
    def __init__(self, destructive: list[Change], blocked: list[Change] = (), export_dir: Path | None = None,
                 rename_suspects: list[str] = ()):
        self.changes = [*destructive, *blocked]
        parts = []
        if destructive:
            parts.append("Die Migration wurde abgelehnt, weil sie Daten verlieren könnte:\n"
                         + "\n".join(f"  - {c}" for c in destructive))
            parts.extend(f"Hinweis: {text}" for text in rename_suspects)
        if blocked:
            parts.append("Diese Änderungen lassen sich auf die vorhandenen Daten nicht anwenden:\n"
                         + "\n".join(f"  - {c}: {c.blocked}" for c in blocked))
        parts.append("Nichts wurde geändert.")
        if destructive and not blocked:
            where = f" nach {export_dir}" if export_dir else ""
            parts.append("Wenn der Datenverlust beabsichtigt ist, mit --allow-destructive erneut ausführen; "
                         f"die betroffenen Daten werden vorher als CSV-Datei{where} exportiert.")
        super().__init__("\n".join(parts))


class MigrationFailed(Exception):
    """The database rejected the generated revision; everything was rolled back, the file removed."""


def _twin_base(column_name: str) -> str | None:
    """The field a derived search column belongs to ("surname_lc", "surname_phon" -> "surname"), else None."""
    for suffix in ("_lc", "_phon"):
        if column_name.endswith(suffix) and len(column_name) > len(suffix):
            return column_name[: -len(suffix)]
    return None


def _field_specs(spec) -> dict[tuple[str, str], object]:
    if spec is None:
        return {}
    return {(e.name, column_name(f)): f for e in spec.entities for f in e.fields if kind_of(f).storage != "multiple"}


def _configured_spec(spec):
    if spec is not None:
        return spec
    registry = built_registry()
    return registry.spec if registry else None


def _count(conn: Connection, tname: str, where=None) -> int:
    query = select(func.count()).select_from(table(tname))
    return conn.execute(query.where(where) if where is not None else query).scalar_one()


def _cols(constraint) -> str:
    return ", ".join(c.name for c in constraint.columns) if hasattr(constraint, "columns") else ""


class _Classifier:
    """Turns Alembic's diff into German, classified changes; counts what is at stake in the database."""

    def __init__(self, conn: Connection, spec):
        self.conn = conn
        self.fields = _field_specs(spec)
        self.plan = Plan()
        self.existing = set(inspect(conn).get_table_names())
        self.removed_tables: set[str] = set()

    def columns(self, tname: str) -> set[str]:
        if tname not in self.existing:
            return set()
        return {c["name"] for c in inspect(self.conn).get_columns(tname)}

    def filled(self, tname: str, cname: str) -> int:
        col = column(cname)
        return _count(self.conn, tname, and_(col.isnot(None), cast(col, String) != ""))

    def rows(self, tname: str) -> int:
        return _count(self.conn, tname) if tname in self.existing else 0

    def add(self, kind, tname, cname, destructive, detail="", blocked=""):
        self.plan.changes.append(Change(kind, tname, cname, destructive, detail, blocked))

    def required(self, kind: str, tname: str, cname: str, empty_rows: int, detail: str = "") -> None:
        """A column that must hold a value: existing rows get the YAML default, or the change is blocked."""
        if not empty_rows:
            self.add(kind, tname, cname, False, detail or "Pflichtfeld")
            return
        spec_field = self.fields.get((tname, cname))
        sql, problem = backfill_sql(spec_field, self.conn)
        if sql is not None:
            self.plan.backfill[(tname, cname)] = sql
            self.add(kind, tname, cname, False,
                     f"Pflichtfeld; {empty_rows} vorhandene Datensätze erhalten den Standardwert {spec_field.default!r}")
            return
        name = spec_field.name if spec_field is not None else cname
        self.add(kind, tname, cname, False, detail or "Pflichtfeld", blocked=(
            f"{empty_rows} vorhandene Datensätze haben keinen Wert. {problem or ''}".strip()
            + f"\n    HINWEIS: In der YAML-Datei für '{name}' einen Standardwert angeben (default: …), mit dem die "
            "vorhandenen Datensätze gefüllt werden, oder das Feld zunächst ohne 'required: true' anlegen, "
            "die Werte nachtragen und danach 'required: true' setzen."))

    def item(self, item) -> None:
        kind = item[0]
        if kind == "add_table":
            self.add(kind, item[1].name, None, False)
        elif kind == "remove_table":
            tname = item[1].name
            self.add(kind, tname, None, True, f"{self.rows(tname)} Datensätze")
        elif kind == "add_column":
            tname, col = item[2], item[3]
            if col.server_default is not None:  # the database fills existing rows (e.g. version = 1)
                self.add(kind, tname, col.name, False)
            elif col.nullable is False and not col.primary_key:
                self.required(kind, tname, col.name, self.rows(tname))
            else:
                self.add(kind, tname, col.name, False)
        elif kind == "remove_column":
            tname, cname = item[2], item[3].name
            base = _twin_base(cname)
            if base and base in self.columns(tname):
                # A search twin (lower case, phonetic code) of a field that stays: its values are derived from
                # the field, nothing is lost when a field stops being searchable.
                self.add(kind, tname, cname, False, f"Suchspalte zu {base}")
            else:
                self.add(kind, tname, cname, True, f"{self.filled(tname, cname)} Datensätze mit Wert")
        elif kind in ("add_index", "remove_index"):
            index = item[1]
            if kind == "remove_index" and index.table.name in self.removed_tables:
                return  # goes with its table
            self.add(kind, index.table.name, index.name, False, _cols(index))
        elif kind in ("add_fk", "remove_fk", "add_constraint", "remove_constraint"):
            constraint = item[1]
            tname = constraint.table.name
            blocked = ""
            names = [c.name for c in getattr(constraint, "columns", [])]
            if kind == "add_constraint" and names and set(names) <= self.columns(tname):
                blocked = self._duplicates(tname, names)
            self.add(kind, tname, _cols(constraint) or constraint.name, False, "", blocked)
        elif kind == "modify_type":
            _, _, tname, cname, _, old, new = item
            safe = type_change_is_safe(old, new)
            detail = f"{old} → {new}"
            if not safe:
                length = getattr(new, "length", None)
                if length and hasattr(old, "length"):
                    longer = _count(self.conn, tname, func.length(column(cname)) > length)
                    detail += f"; {longer} Werte sind länger und würden gekürzt"
                else:
                    detail += f"; {self.filled(tname, cname)} bisherige Werte werden nicht übernommen"
            self.add(kind, tname, cname, not safe, detail)
        elif kind == "modify_nullable":
            _, _, tname, cname, _, old, new = item
            if new is False:  # becomes required: existing empty values need the default
                self.required(kind, tname, cname, _count(self.conn, tname, column(cname).is_(None)))
            else:
                self.add(kind, tname, cname, False, "optional")
        elif kind == "modify_default":
            self.add(kind, item[2], item[3], False)
        else:
            self.add(kind, "?", None, True, str(item))

    def _duplicates(self, tname: str, names: list[str]) -> str:
        cols = [column(n) for n in names]
        groups = (select(*cols).select_from(table(tname)).where(*[c.isnot(None) for c in cols])
                  .group_by(*cols).having(func.count() > 1).subquery())
        dupes = self.conn.execute(select(func.count()).select_from(groups)).scalar_one()
        if not dupes:
            return ""
        return (f"{dupes} Werte kommen mehrfach vor und verletzen die neue Eindeutigkeit.\n"
                "    HINWEIS: Doppelte Datensätze zuerst bereinigen (z. B. Partner zusammenführen).")


def _flatten(diff):
    for item in diff:
        if isinstance(item, list):  # modify_* come grouped per column
            yield from _flatten(item)
        else:
            yield item


def plan(engine: Engine, metadata: MetaData, spec=None) -> Plan:
    """The pending difference between the configured models and the database, with what is at stake."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        classifier = _Classifier(conn, _configured_spec(spec))
        diff = list(_flatten(compare_metadata(context, metadata)))
        classifier.removed_tables = {item[1].name for item in diff if item[0] == "remove_table"}
        for item in diff:
            classifier.item(item)
        return classifier.plan


ENVIRONMENT = Path(__file__).resolve().parent / "alembic_env"  # env.py and the revision template
LEGACY_VERSIONS = settings.ROOT / "migrations" / "versions"    # where revisions were written before #10
BASELINE_MESSAGE = "Ausgangsstand: Schema aus der Konfiguration angelegt"


def revisions_dir(engine: Engine, versions_dir: Path | None = None) -> Path:
    """The folder of this database's revisions: ``versions_dir``, else the deployment's (see settings)."""
    return Path(versions_dir or settings.migrations_dir(engine.url.render_as_string(hide_password=False)))


def alembic_config(engine: Engine, versions_dir: Path | None = None) -> Config:
    # Alembic's own "Generating …" lines stay quiet: the command reports in German.
    cfg = Config(stdout=io.StringIO(), cmd_opts=argparse.Namespace(quiet=True))
    cfg.set_main_option("script_location", str(ENVIRONMENT))
    directory = revisions_dir(engine, versions_dir)
    directory.mkdir(parents=True, exist_ok=True)
    cfg.set_main_option("version_locations", str(directory))
    cfg.set_main_option("path_separator", "os")
    return cfg


def _export_path(export_dir: Path, stamp: str, change: Change) -> Path:
    base = f"{stamp}_{change.table}{'_' + change.column if change.column else ''}"
    path, n = export_dir / f"{base}.csv", 1
    while path.exists():
        n += 1
        path = export_dir / f"{base}_{n}.csv"
    return path


def export_affected(engine: Engine, changes: list[Change], export_dir: Path) -> list[Path]:
    """Write the data that a destructive change touches to CSV (';', header), before anything is changed.

    The files may hold sensitive data: the folder and files are readable by the owner only."""
    export_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(export_dir, 0o700)
    stamp = clock.now_naive().strftime("%Y%m%d-%H%M%S")
    written = []
    existing = inspect(engine)
    tables = set(existing.get_table_names())
    with engine.connect() as conn:
        for change in changes:
            if change.table not in tables:
                continue
            names = [c["name"] for c in existing.get_columns(change.table)]
            wanted = names if change.column is None else [n for n in ("id", change.column) if n in names]
            rows = conn.execute(select(*[column(n) for n in wanted]).select_from(table(change.table))
                                .order_by(*[column(n) for n in wanted[:1]]))
            path = _export_path(export_dir, stamp, change)
            # utf-8-sig: Excel opens the umlauts correctly.
            with path.open("w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle, delimiter=";")
                writer.writerow(wanted)
                writer.writerows(rows)
            os.chmod(path, 0o600)
            written.append(path)
    return written


@contextmanager
def _migration_connection(engine: Engine):
    """One transaction for the whole migration.

    SQLite: DDL is only transactional if we emit BEGIN ourselves, and batch mode rebuilds a table by
    copy, drop and rename, which with foreign keys on would fail or cascade-delete dependent rows. So
    foreign keys are off while migrating, and checked before the commit."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        with engine.begin() as conn:
            yield conn
        return
    own = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(own, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(own, "begin")
    def _begin(conn):
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("BEGIN")

    try:
        with own.begin() as conn:
            yield conn
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise MigrationFailed(f"Verweise zeigen ins Leere (Tabelle {broken[0][0]}, Zeile {broken[0][1]}).")
    finally:
        own.dispose()


def _run(cfg: Config, conn: Connection, metadata: MetaData, fn, *args, **kw):
    cfg.attributes.update(connection=conn, metadata=metadata)
    return fn(cfg, *args, **kw)


def _fill_search_twins(conn: Connection, pending: Plan) -> None:
    """A new lower-cased twin of an existing column gets its values, so search finds old rows too."""
    added = {(c.table, c.column) for c in pending.changes if c.kind == "add_column"}
    for tname, cname in added:
        base = cname[:-3] if cname.endswith("_lc") else None
        if not base or (tname, base) in added:
            continue
        t = table(tname, column("id"), column(base), column(cname))
        rows = conn.execute(select(t.c.id, t.c[base]).where(t.c[base].isnot(None))).all()
        for record_id, value in rows:
            conn.execute(t.update().where(t.c.id == record_id).values({cname: normalise(value) or None}))


@dataclass
class MigrationResult:
    plan: Plan
    revision: str | None
    exported: list[Path]
    revision_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # German lines for the admin (revisions moved or taken over)


def migrate(engine: Engine, metadata: MetaData, allow_destructive: bool = False,
            versions_dir: Path | None = None, export_dir: Path | None = None,
            message: str = "fachstelle migrate", spec=None) -> MigrationResult:
    """Bring the database up to the configured models (``_migrate``), then the rules of ``AFTER_MIGRATE``
    (app/metamodel/migration_hooks.py)."""
    result = _migrate(engine, metadata, allow_destructive, versions_dir, export_dir, message, spec)
    for hook in AFTER_MIGRATE:
        hook(engine)
    return result


def _migrate(engine: Engine, metadata: MetaData, allow_destructive: bool = False,
             versions_dir: Path | None = None, export_dir: Path | None = None,
             message: str = "fachstelle migrate", spec=None) -> MigrationResult:
    """Bring the database up to the configured models, refusing data loss unless allowed.

    1. An empty database is created from the models and stamped with a baseline revision; later YAML
       changes are diffed against it.
    2. Revisions live in the deployment's folder (``revisions_dir``), one folder per database.
    3. Revisions of the folder the database has not seen yet are applied first, then the difference
       between the models and the database becomes a new revision, written and applied in one transaction.
    """
    cfg = alembic_config(engine, versions_dir)
    directory = revisions_dir(engine, versions_dir)
    _claim(directory, engine)
    if not inspect(engine).get_table_names():
        return _create_from_models(engine, metadata, cfg, directory)
    notes = _find_missing_revisions(engine, cfg, directory)
    with _migration_connection(engine) as conn:
        _run(cfg, conn, metadata, command.upgrade, "heads")  # revisions written earlier
    pending = plan(engine, metadata, spec)
    if pending.empty:
        return MigrationResult(pending, None, [], notes=notes)
    export_dir = Path(export_dir or settings.instance_dir() / "exports")
    if pending.blocked or (pending.destructive and not allow_destructive):
        raise MigrationRefused(pending.destructive if not allow_destructive else [], pending.blocked,
                               export_dir, pending.rename_suspects())
    exported = export_affected(engine, pending.destructive, export_dir) if pending.destructive else []
    cfg.attributes["process_revision_directives"] = rewrite_directives(pending.backfill)
    script = None
    try:
        with _migration_connection(engine) as conn:
            script = _run(cfg, conn, metadata, command.revision, message=message, autogenerate=True)
            _run(cfg, conn, metadata, command.upgrade, "heads")
            _fill_search_twins(conn, pending)
    except Exception as exc:  # noqa: BLE001 - whatever the database says, leave no half-written revision
        path = Path(script.path) if script is not None and not isinstance(script, list) else None
        if path is not None and path.exists():
            path.unlink()
        if isinstance(exc, MigrationFailed):
            reason = str(exc)
        else:
            reason = f"{exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}".strip()
        raise MigrationFailed(
            "Die Migration ist fehlgeschlagen und wurde zurückgenommen; keine Revision wurde gespeichert.\n"
            f"  Ursache: {reason}") from exc
    revision = script.revision if script is not None and not isinstance(script, list) else None
    path = Path(script.path) if revision else None
    return MigrationResult(pending, revision, exported, path, notes)


OWNER_FILE = "DATENBANK.txt"


def _claim(directory: Path, engine: Engine) -> None:
    """A revisions folder belongs to one database: another one would replay (or move aside) its revisions."""
    owner = directory / OWNER_FILE
    mine = settings.database_identity(engine.url.render_as_string(hide_password=False))
    if not owner.exists():
        owner.write_text(mine + "\n", encoding="utf-8")
        return
    theirs = owner.read_text(encoding="utf-8").strip()
    if theirs != mine:
        raise MigrationFailed(
            f"Der Revisionsordner {directory} gehört zur Datenbank {theirs}, nicht zu {mine}. Nichts wurde geändert.\n"
            "    HINWEIS: Jede Datenbank braucht ihren eigenen Ordner: FACHSTELLE_MIGRATIONS_DIR weglassen (dann "
            "instance/migrations/<Datenbank>/) oder je Datenbank anders setzen. Ist es dieselbe Datenbank an neuem "
            f"Ort, {OWNER_FILE} in diesem Ordner anpassen.")


def _create_from_models(engine: Engine, metadata: MetaData, cfg: Config, directory: Path) -> MigrationResult:
    """A fresh database: every table from the models (as FAB's create_all would), stamped with a baseline.

    Revisions still in the folder belonged to a database that is gone (a deleted SQLite file, a dropped
    schema): replaying them here would add or drop columns of another configuration, so they are moved
    aside, not deleted."""
    notes = []
    old = sorted(directory.glob("*.py"))
    if old:
        aside = directory / f"ersetzt-{clock.now_naive().strftime('%Y%m%d-%H%M%S')}"
        aside.mkdir()
        for path in old:
            path.rename(aside / path.name)
        notes.append(f"{len(old)} Revisionen einer früheren Datenbank verschoben nach {aside}.")
    pending = Plan([Change("add_table", t.name, None, False) for t in metadata.sorted_tables])
    script = None
    try:
        with _migration_connection(engine) as conn:
            metadata.create_all(conn)
            script = command.revision(cfg, message=BASELINE_MESSAGE)  # empty: the tables exist already
            _run(cfg, conn, metadata, command.stamp, script.revision)
    except Exception as exc:  # noqa: BLE001 - leave no baseline for a database that was not created
        if script is not None and Path(script.path).exists():
            Path(script.path).unlink()
        raise MigrationFailed("Die Datenbank konnte nicht angelegt werden; nichts wurde gespeichert.\n"
                              f"  Ursache: {exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}") from exc
    return MigrationResult(pending, script.revision, [], Path(script.path), notes)


def _find_missing_revisions(engine: Engine, cfg: Config, directory: Path) -> list[str]:
    """The database stands on a revision the folder lacks: take its chain from the old in-tree folder,
    or stop with a German message that says where the revision is."""
    with engine.connect() as conn:
        stamped = MigrationContext.configure(conn).get_current_heads()
    script = ScriptDirectory.from_config(cfg)
    missing = [rev for rev in stamped if not _known(script, rev)]
    if not missing:
        return []
    notes = []
    legacy = _legacy_script(cfg)
    for rev in missing:
        if legacy is not None and _known(legacy, rev):
            chain = list(legacy.iterate_revisions(rev, "base"))
            for revision in chain:
                target = directory / Path(revision.path).name
                if not target.exists():
                    target.write_bytes(Path(revision.path).read_bytes())
            notes.append(f"{len(chain)} Revisionen dieser Datenbank aus {LEGACY_VERSIONS} übernommen nach {directory}.")
            continue
        elsewhere = sorted(str(p.parent) for p in settings.instance_dir().glob("migrations/*/*.py")
                           if p.parent != directory and f"revision = {rev!r}" in p.read_text(encoding="utf-8"))
        hint = (f"Sie liegt in {elsewhere[0]}: FACHSTELLE_MIGRATIONS_DIR={elsewhere[0]} setzen oder den Ordner "
                "dorthin verschieben." if elsewhere else
                "Den Revisionsordner dieser Installation wiederherstellen (Sicherung) oder mit "
                "FACHSTELLE_MIGRATIONS_DIR angeben.")
        raise MigrationFailed(f"Die Datenbank steht auf Revision {rev}, die im Revisionsordner {directory} "
                              f"fehlt. Nichts wurde geändert.\n    HINWEIS: {hint}")
    return notes


def _known(script: ScriptDirectory, rev: str) -> bool:
    try:
        return script.get_revision(rev) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        return False


def _legacy_script(cfg: Config) -> ScriptDirectory | None:
    if not any(LEGACY_VERSIONS.glob("*.py")):
        return None
    legacy = Config(stdout=io.StringIO(), cmd_opts=argparse.Namespace(quiet=True))
    legacy.set_main_option("script_location", cfg.get_main_option("script_location"))
    legacy.set_main_option("version_locations", str(LEGACY_VERSIONS))
    legacy.set_main_option("path_separator", "os")
    try:
        return ScriptDirectory.from_config(legacy)
    except Exception:  # noqa: BLE001 - broken old files: treated as absent, the message names the folder
        return None


def current_heads(engine: Engine, versions_dir: Path | None = None) -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(engine, versions_dir)).get_heads())
