"""A database whose revisions are not in its folder (issue #10): taken over from the old in-tree folder,
or a German refusal that changes nothing. Runs in-process on a SQLite file of its own, with the models of
the shipped configuration (the same the session's app builds, so both share one set of classes)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh(tmp_path):
    from flask_appbuilder import Model

    from app import core_models  # noqa: F401  (their tables belong to the schema too)
    from app.letters import models  # noqa: F401
    from app.metamodel.build_models import build_models
    from app.metamodel.loader import load_spec
    from app.metamodel.migrate import migrate

    build_models(load_spec(ROOT / "config", None))

    engine = create_engine(f"sqlite:///{tmp_path / 'own.db'}")
    made = migrate(engine, Model.metadata, versions_dir=tmp_path / "old")
    assert made.revision and made.revision_path.parent == tmp_path / "old"
    yield engine, Model.metadata, made.revision
    engine.dispose()


def test_revisions_from_the_old_in_tree_folder_are_taken_over(fresh, tmp_path, monkeypatch):
    from app.metamodel import migrate as migrations

    engine, metadata, baseline = fresh
    # An installation from before #10: its revisions lie where `migrate` used to write them.
    monkeypatch.setattr(migrations, "LEGACY_VERSIONS", tmp_path / "old")
    result = migrations.migrate(engine, metadata, versions_dir=tmp_path / "new")
    assert result.plan.empty
    assert result.notes == [f"1 Revisionen dieser Datenbank aus {tmp_path / 'old'} übernommen nach {tmp_path / 'new'}."]
    assert [p.name for p in (tmp_path / "new").glob("*.py")] == [p.name for p in (tmp_path / "old").glob("*.py")]
    assert migrations.migrate(engine, metadata, versions_dir=tmp_path / "new").notes == []  # once


def test_a_revision_found_nowhere_stops_the_migration_in_german(fresh, tmp_path, monkeypatch):
    from app.metamodel import migrate as migrations

    engine, metadata, baseline = fresh
    monkeypatch.setattr(migrations, "LEGACY_VERSIONS", tmp_path / "nothing")
    tables = sorted(inspect(engine).get_table_names())
    with pytest.raises(migrations.MigrationFailed) as refused:
        migrations.migrate(engine, metadata, versions_dir=tmp_path / "elsewhere")
    text = str(refused.value)
    assert text.startswith(f"Die Datenbank steht auf Revision {baseline}, die im Revisionsordner "
                           f"{tmp_path / 'elsewhere'} fehlt. Nichts wurde geändert.")
    assert "HINWEIS: Den Revisionsordner dieser Installation wiederherstellen" in text
    assert sorted(inspect(engine).get_table_names()) == tables
    assert not list(Path(tmp_path / "elsewhere").glob("*.py"))


def test_a_folder_of_another_database_is_refused(fresh, tmp_path):
    # Two deployments pointed at one FACHSTELLE_MIGRATIONS_DIR: the second must neither replay nor move
    # aside the first one's revisions.
    from app.metamodel import migrate as migrations

    engine, metadata, baseline = fresh
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(migrations.MigrationFailed) as refused:
        migrations.migrate(other, metadata, versions_dir=tmp_path / "old")
    other.dispose()
    assert str(refused.value).startswith(f"Der Revisionsordner {tmp_path / 'old'} gehört zur Datenbank "
                                         f"sqlite:{tmp_path / 'own.db'}, nicht zu sqlite:{tmp_path / 'other.db'}.")
    assert [p.stem.split("_")[0] for p in (tmp_path / "old").glob("*.py")] == [baseline]
    assert not inspect(create_engine(f"sqlite:///{tmp_path / 'other.db'}")).get_table_names()
    assert migrations.migrate(engine, metadata, versions_dir=tmp_path / "old").plan.empty  # its own still works
