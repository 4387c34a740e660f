"""The `fachstelle` command as an admin uses it: non-interactive set-up, users, demo data, errors in German."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("FACHSTELLE_")}
    base.update(FACHSTELLE_INSTANCE_DIR=str(tmp_path / "instance"),
                FACHSTELLE_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
                FACHSTELLE_MIGRATIONS_DIR=str(tmp_path / "migrations"))
    return base


def fachstelle(env, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_init_from_environment_then_users_and_demo(env, tmp_path):
    env = {**env, "FACHSTELLE_ADMIN_USER": "chef", "FACHSTELLE_ADMIN_PASSWORD": "geheim"}
    out = fachstelle(env, "init").stdout
    assert "Admin-Konto 'chef' angelegt." in out
    assert "Rollen synchronisiert: Sachbearbeitung" in out
    assert "aktualisiert" in fachstelle(env, "init").stdout  # idempotent: the second run only updates

    added = fachstelle(env, "users", "add", "--username", "meier", "--password", "pw", "--role", "Sachbearbeitung",
                       "--org-unit", "nord")
    assert "Benutzer 'meier' angelegt." in added.stdout
    bad_role = fachstelle(env, "users", "add", "--username", "x", "--password", "pw", "--role", "Sachbearbeiter",
                          "--org-unit", "nord", check=False)
    assert bad_role.returncode != 0 and "Rolle 'Sachbearbeiter' gibt es nicht" in bad_role.stderr
    bad_unit = fachstelle(env, "users", "add", "--username", "x", "--password", "pw", "--role", "Sachbearbeitung",
                          "--org-unit", "west", check=False)
    assert bad_unit.returncode != 0 and "Dienststelle 'west' gibt es nicht. Vorhanden: nord, sued" in bad_unit.stderr
    no_unit = fachstelle(env, "users", "add", "--username", "ohne", "--password", "pw", "--role", "Sachbearbeitung",
                         check=False)  # #10: it used to file its records into the first unit
    assert no_unit.returncode != 0 and "bitte mindestens eine Dienststelle angeben (--org-unit)" in no_unit.stderr

    demo = fachstelle(env, "demo").stdout
    assert "Demodaten angelegt: 240 Partner, 160 Fallakten, 47 Doku-Einträge." in demo and "sb_nord" in demo
    names = _names(tmp_path / "cli.db")
    assert len(names) > 200 and any("ü" in n or "ö" in n or "ä" in n for n in names)
    assert "schon vorhanden" in fachstelle(env, "demo").stdout  # a second run books nothing twice
    assert _names(tmp_path / "cli.db") == names


def test_demo_is_deterministic(env, tmp_path):
    other = {**env, "FACHSTELLE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
             "FACHSTELLE_INSTANCE_DIR": str(tmp_path / "i2"), "FACHSTELLE_MIGRATIONS_DIR": str(tmp_path / "m2")}
    for e in (env, other):
        fachstelle(e, "init")
        fachstelle(e, "demo")
    assert _names(tmp_path / "cli.db") == _names(tmp_path / "other.db")


def test_unknown_city_and_unreachable_database_are_german_messages(env):
    result = fachstelle({**env, "FACHSTELLE_CITY": "berln"}, "check-config", check=False)
    assert result.returncode == 2
    assert "Stadt-Overlay 'berln' nicht gefunden" in result.stderr and "Meinten Sie 'berlin'?" in result.stderr
    result = fachstelle({**env, "FACHSTELLE_DATABASE_URL": "postgresql+psycopg://nobody:x@127.0.0.1:1/none"},
                        "init", check=False)
    assert result.returncode == 4 and "Datenbank nicht erreichbar" in result.stderr


def _names(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT surname || ',' || coalesce(first_name, '') FROM partner ORDER BY id")]


def test_migrate_brings_an_older_installation_up_to_date(env, tmp_path):
    # An installation from before the letters: their tables are missing. `migrate` must create them before
    # it seeds the shipped templates into them (seeding first failed with "no such table").
    fachstelle(env, "init")
    db = sqlite3.connect(tmp_path / "cli.db")
    for table in ("letter", "letter_series_job", "letter_template_version", "letter_template"):
        db.execute(f"DROP TABLE {table}")
    db.commit()
    out = fachstelle(env, "migrate").stdout
    assert "neue Tabelle: letter_template" in out and "Migration angewendet" in out
    assert db.execute("SELECT COUNT(*) FROM letter_template").fetchone()[0] == 4
    again = fachstelle(env, "migrate").stdout
    assert "Datenbankschema ist bereits aktuell." in again
    db.close()
