"""Composite indexes declared in the YAML: fields are checked like every other field list."""
from __future__ import annotations

from tests.unit.spec_support import issue, issues_for, spec_for, write_config


def test_index_with_an_unknown_field_names_it(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            indexes: [[visited_on, org_unit], [visited, org_unit]]
            fields:
              - {name: visited_on, type: date, label: Besuch am}
        """)
    assert issues_for(root) == [
        issue("E120", root / "entities.yaml", 4, "entities[0].indexes[1][0]", "unbekanntes Feld 'visited' in 'visit'",
              "Meinten Sie 'visited_on'?")]


def test_system_columns_may_be_indexed(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            indexes: [[org_unit, visited_on], [created_at]]
            fields:
              - {name: visited_on, type: date, label: Besuch am}
        """)
    assert spec_for(root).entity("visit").indexes == [["org_unit", "visited_on"], ["created_at"]]
