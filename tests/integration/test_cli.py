"""The `fachstelle` command as an admin uses it: non-interactive set-up, users, demo data, errors in German."""
from __future__ import annotations

import re

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


STRONG = "Kaffeetasse Nordbahnhof blau"  # passes the password policy (#11)


def test_init_from_environment_then_users_and_demo(env, tmp_path):
    env = {**env, "FACHSTELLE_ADMIN_USER": "chef", "FACHSTELLE_ADMIN_PASSWORD": STRONG}
    out = fachstelle(env, "init").stdout
    assert "Admin-Konto 'chef' angelegt." in out
    assert "Rollen synchronisiert: Sachbearbeitung" in out
    assert "aktualisiert" in fachstelle(env, "init").stdout  # idempotent: the second run only updates

    added = fachstelle(env, "users", "add", "--username", "meier", "--password", STRONG, "--role", "Sachbearbeitung",
                       "--org-unit", "nord")
    assert "Benutzer 'meier' angelegt." in added.stdout
    bad_role = fachstelle(env, "users", "add", "--username", "x", "--password", STRONG, "--role", "Sachbearbeiter",
                          "--org-unit", "nord", check=False)
    assert bad_role.returncode != 0 and "Rolle 'Sachbearbeiter' gibt es nicht" in bad_role.stderr
    bad_unit = fachstelle(env, "users", "add", "--username", "x", "--password", STRONG, "--role", "Sachbearbeitung",
                          "--org-unit", "west", check=False)
    assert bad_unit.returncode != 0 and "Dienststelle 'west' gibt es nicht. Vorhanden: nord, sued" in bad_unit.stderr
    no_unit = fachstelle(env, "users", "add", "--username", "ohne", "--password", STRONG, "--role", "Sachbearbeitung",
                         check=False)  # #10: it used to file its records into the first unit
    assert no_unit.returncode != 0 and "bitte mindestens eine Dienststelle angeben (--org-unit)" in no_unit.stderr

    weak = fachstelle(env, "users", "add", "--username", "schwach", "--password", "1", "--role", "Sachbearbeitung",
                      "--org-unit", "nord", check=False)  # #11: any password was accepted
    assert weak.returncode == 1 and "--password: Das Passwort ist zu kurz: mindestens 12 Zeichen." in weak.stderr
    guessable = fachstelle(env, "users", "add", "--username", "schwach", "--password", "passwort1234", "--role",
                           "Sachbearbeitung", "--org-unit", "nord", check=False)
    assert guessable.returncode == 1 and "Das Passwort ist zu leicht zu erraten." in guessable.stderr
    assert _user_count(tmp_path / "cli.db", "schwach") == 0

    demo = fachstelle(env, "demo").stdout
    # #12: the demo shelters' occupancies are counted too (and the board is not empty)
    assert re.search(r"Demodaten angelegt: 240 Partner, 160 Fallakten, 47 Doku-Einträge, [1-9]\d* Belegungen\.", demo)
    assert "sb_nord" in demo and "ov_nord" in demo
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


def test_init_refuses_a_weak_admin_password_before_writing_anything(env, tmp_path):
    # #11: README's `--admin-password admin` used to be accepted for the admin account.
    result = fachstelle(env, "init", "--admin-user", "admin", "--admin-password", "admin", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "--admin-password: Das Passwort ist zu kurz: mindestens 12 Zeichen."
    assert not (tmp_path / "cli.db").exists() or _user_count(tmp_path / "cli.db", "admin") == 0
    named = fachstelle(env, "init", "--admin-user", "stadtadmin", "--admin-password", "stadtadmin2026", check=False)
    assert named.returncode == 1 and "Namen oder Benutzernamen" in named.stderr


def test_users_add_temporary_password_must_be_changed(env, tmp_path):
    fachstelle(env, "init")
    out = fachstelle(env, "users", "add", "--username", "neu", "--password", STRONG, "--role", "Sachbearbeitung",
                     "--org-unit", "nord", "--temporary-password").stdout
    assert "Benutzer 'neu' angelegt. Das Passwort muss bei der ersten Anmeldung geändert werden." in out
    assert _must_change(tmp_path / "cli.db", "neu") == 1
    fachstelle(env, "users", "add", "--username", "neu", "--password", STRONG + "!", "--role", "Sachbearbeitung",
               "--org-unit", "nord")  # without the flag the operator's password is final
    assert _must_change(tmp_path / "cli.db", "neu") == 0


def _user_count(db: Path, username: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM ab_user WHERE username = ?", (username,)).fetchone()[0]


def _must_change(db: Path, username: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT s.must_change FROM user_password_state s JOIN ab_user u ON u.id = s.user_id "
                            "WHERE u.username = ?", (username,)).fetchone()[0]


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
    from app.letters.versions import SHIPPED
    assert db.execute("SELECT COUNT(*) FROM letter_template").fetchone()[0] == len(SHIPPED)  # four of #13 too
    again = fachstelle(env, "migrate").stdout
    assert "Datenbankschema ist bereits aktuell." in again
    db.close()
