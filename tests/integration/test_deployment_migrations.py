"""Revisions live with each deployment, not in the source tree (issue #10, finding 3).

Before, ``init``/``migrate`` wrote revisions into ``migrations/versions/`` of the checkout: running the
Berlin overlay once, then the default configuration on a fresh database, replayed Berlin's revision and
then refused to drop its columns. Here two cities run from one checkout and one instance folder, each on
its own SQLite file, as a consultant would; every configuration runs in its own process.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp: Path, db: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACHSTELLE_")}
    env.update(FACHSTELLE_INSTANCE_DIR=str(tmp / "instance"), FACHSTELLE_DATABASE_URL=f"sqlite:///{tmp / db}")
    env.update(extra)
    return env


def fachstelle(env, *args) -> str:
    result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _folders(tmp: Path) -> dict[str, list[str]]:
    root = tmp / "instance" / "migrations"
    return {d.name: sorted(p.name for p in d.glob("*.py")) for d in sorted(root.iterdir())}


def _columns(db: Path, table: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def test_two_cities_from_one_checkout_each_init_and_migrate(tmp_path):
    legacy = ROOT / "migrations" / "versions"
    before = sorted(legacy.glob("*.py")) if legacy.exists() else []
    berlin, default = _env(tmp_path, "berlin.db", FACHSTELLE_CITY="berlin"), _env(tmp_path, "default.db")

    assert "Fertig." in fachstelle(berlin, "init")
    assert "lor" in _columns(tmp_path / "berlin.db", "address")
    # The default configuration on a fresh database: created from its own models, Berlin's columns unseen.
    assert "Fertig." in fachstelle(default, "init")
    assert "lor" not in _columns(tmp_path / "default.db", "address")
    for env in (default, berlin):
        assert "Datenbankschema ist bereits aktuell." in fachstelle(env, "migrate")
        assert "Datenbankschema ist aktuell." in fachstelle(env, "check-config")

    folders = _folders(tmp_path)
    assert len(folders) == 2 and all(len(files) == 1 for files in folders.values()), folders  # one baseline each
    berlin_folder = next(name for name in folders if name.startswith("sqlite-berlin-"))
    default_folder = next(name for name in folders if name.startswith("sqlite-default-"))
    assert "Ausgangsstand" in (tmp_path / "instance" / "migrations" / default_folder / folders[default_folder][0]) \
        .read_text(encoding="utf-8")

    # A YAML change of the default deployment diffs against its baseline; the revision stays in its folder.
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    entities = (config / "entities.yaml").read_text(encoding="utf-8")
    (config / "entities.yaml").write_text(entities.replace(
        "      - {name: birth_place, type: string, length: 80, label: Geburtsort}\n",
        "      - {name: birth_place, type: string, length: 80, label: Geburtsort}\n"
        "      - {name: maiden_name, type: string, length: 80, label: Geburtsname}\n", 1), encoding="utf-8")
    changed = {**default, "FACHSTELLE_CONFIG_DIR": str(config)}
    out = fachstelle(changed, "migrate")
    assert "+ neues Feld: partner.maiden_name" in out and "Migration angewendet" in out
    assert "maiden_name" in _columns(tmp_path / "default.db", "partner")
    assert "Datenbankschema ist bereits aktuell." in fachstelle(changed, "migrate")
    folders = _folders(tmp_path)
    assert (len(folders[default_folder]), len(folders[berlin_folder])) == (2, 1)
    assert "Datenbankschema ist bereits aktuell." in fachstelle(berlin, "migrate")
    assert "maiden_name" not in _columns(tmp_path / "berlin.db", "partner")

    # The default database is deleted and made anew: its old revisions are moved aside, not replayed.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'default.db'}{suffix}").unlink(missing_ok=True)
    out = fachstelle(default, "init")
    assert "2 Revisionen einer früheren Datenbank verschoben" in out and "Fertig." in out
    assert "maiden_name" not in _columns(tmp_path / "default.db", "partner")
    assert len(_folders(tmp_path)[default_folder]) == 1
    assert "Datenbankschema ist bereits aktuell." in fachstelle(default, "migrate")

    # Nothing was written into the source tree.
    assert (sorted(legacy.glob("*.py")) if legacy.exists() else []) == before


def test_migrations_dir_from_the_environment(tmp_path):
    chosen = tmp_path / "revisionen"
    env = _env(tmp_path, "own.db", FACHSTELLE_MIGRATIONS_DIR=str(chosen))
    out = fachstelle(env, "migrate")
    assert "Migration angewendet" in out and f"Revision gespeichert: {chosen}/" in out
    assert len(list(chosen.glob("*.py"))) == 1 and not (tmp_path / "instance" / "migrations").exists()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A database of its own: a SQLite file, or a PostgreSQL database next to the test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL nicht verfügbar (FACHSTELLE_TEST_DATABASE_URL setzen)")
    url = make_url(base)
    name = f"{url.database}_version"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_version_column_is_added_to_a_database_from_before(tmp_path, database):
    # A database set up before #10: records, but no version column (and no record version in the history).
    env = _env(tmp_path, "unused.db", FACHSTELLE_DATABASE_URL=database)
    fachstelle(env, "init")
    engine = create_engine(database)
    with engine.begin() as conn:
        kind = conn.execute(text("SELECT id FROM catalogue_value WHERE catalogue = 'partner_kind' AND code = 'person'"))
        conn.execute(text("INSERT INTO partner (kind_id, surname) VALUES (:kind, 'Altbestand')"),
                     {"kind": kind.scalar_one()})
        # letter_template_version and statistic_snapshot (#14) number their own versions: not the lock column.
        versioned = [t for t in inspect(conn).get_table_names()
                     if t not in ("letter_template_version", "statistic_snapshot")
                     and "version" in {c["name"] for c in inspect(conn).get_columns(t)}]
        for table in versioned:
            conn.execute(text(f'ALTER TABLE "{table}" DROP COLUMN version'))
        conn.execute(text("ALTER TABLE change_log DROP COLUMN record_version"))
    assert "partner" in versioned and "case" in versioned

    out = fachstelle(env, "migrate")
    assert "+ neues Feld: partner.version" in out and "+ neues Feld: change_log.record_version" in out
    assert "Migration angewendet" in out
    with engine.begin() as conn:
        assert conn.execute(text("SELECT surname, version FROM partner")).all() == [("Altbestand", 1)]
        nullable = {c["name"]: c["nullable"] for c in inspect(conn).get_columns("partner")}
        assert nullable["version"] is False
    engine.dispose()
    assert "Datenbankschema ist aktuell." in fachstelle(env, "check-config")
