"""A field that stops being searchable loses its search twin column: that is no data loss (the values are
derived from the field), so ``migrate`` applies it without --allow-destructive. Found when #11 made the
case's old free-text "Sachbearbeitung" read-only and a loaded database refused to migrate (case.clerk_lc).
A real column that goes away is still refused."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, text

from app.metamodel.migrate import MigrationRefused, migrate


def _metadata(*columns: str) -> MetaData:
    metadata = MetaData()
    Table("akte", metadata, Column("id", Integer, primary_key=True), *(Column(c, String(40)) for c in columns))
    return metadata


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine, _metadata("clerk", "clerk_lc", "name", "name_phon"), versions_dir=tmp_path / "versions")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO akte (clerk, clerk_lc, name, name_phon) VALUES ('Meier', 'meier', 'A', '0')"))
    yield engine
    engine.dispose()


def test_a_search_twin_of_a_field_that_stays_is_dropped_without_permission(engine, tmp_path):
    migrate(engine, _metadata("clerk", "name"), versions_dir=tmp_path / "versions")
    assert {c["name"] for c in inspect(engine).get_columns("akte")} == {"id", "clerk", "name"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT clerk FROM akte")).scalar() == "Meier"


def test_a_field_that_goes_is_still_refused(engine, tmp_path):
    with pytest.raises(MigrationRefused):
        migrate(engine, _metadata("name", "name_phon"), versions_dir=tmp_path / "versions")
