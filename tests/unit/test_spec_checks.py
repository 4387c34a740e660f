"""Cross-reference checks (checks.py), one case per line: the YAML an admin wrote and the exact issue.

Every case declares an entity 'visit' (lines 1-5 below); its own lines follow from line 6, and the
core entities of spec_support come after it.
"""
from __future__ import annotations

import pytest

from tests.unit.spec_support import issue, issues_for, write_config

HEAD = """\
entities:
  - name: visit
    label: Besuch
    fields:
      - {name: visited_on, type: date, label: Besuch am}
"""

CASES = [
    # (id, YAML after HEAD, line, path, message, hint)
    ("E101", "  - {name: visit, label: Zweiter Besuch, fields: [{name: x, type: date, label: X}]}",
     6, "entities[1].name", "Entität 'visit' ist doppelt definiert", None),
    ("E102", "      - {name: visited_on, type: datetime, label: Uhrzeit}",
     6, "entities[0].fields[1].name", "Feld 'visited_on' ist in 'visit' doppelt definiert", None),
    ("E103", "      - {name: created_at, type: date, label: Angelegt}",
     6, "entities[0].fields[1].name", "Feldname 'created_at' ist reserviert", "Das System legt dieses Feld selbst an."),
    ("E110", "      - {name: visitor, type: ref, label: Besucher}",
     6, "entities[0].fields[1].ref", "Feld 'visitor': Verweis ohne Ziel",
     "Mit 'ref: <entität>' angeben, worauf das Feld verweist."),
    ("E111", "      - {name: visitor, type: ref, ref: partnr, label: Besucher}",
     6, "entities[0].fields[1].ref", "unbekannte Entität 'partnr'", "Meinten Sie 'partner'?"),
    ("E111", "      - {name: visitor, type: ref, ref: employee, label: Besucher}",  # nothing close: say how
     6, "entities[0].fields[1].ref", "unbekannte Entität 'employee'", "Unter 'entities' anlegen oder Schreibweise prüfen."),
    ("E112", "      - {name: visitor, type: string, ref: partner, label: Besucher}",
     6, "entities[0].fields[1].ref", "'ref' passt nur zu Feldtyp 'ref', nicht 'string'", None),
    ("E113", "      - {name: group, type: choice, label: Gruppe}",
     6, "entities[0].fields[1].catalogue", "Feld 'group': Auswahl ohne Katalog",
     "Mit 'catalogue: <name>' den Katalog der Werte angeben."),
    ("E114", "      - {name: group, type: multichoice, catalogue: person_grup, label: Gruppe}",
     6, "entities[0].fields[1].catalogue", "unbekannter Katalog 'person_grup'", "Meinten Sie 'person_group'?"),
    ("E114", "      - {name: group, type: choice, catalogue: addiction, label: Sucht}",
     6, "entities[0].fields[1].catalogue", "unbekannter Katalog 'addiction'", "Unter 'catalogues' anlegen."),
    ("E115", "      - {name: group, type: string, catalogue: person_group, label: Gruppe}",
     6, "entities[0].fields[1].catalogue", "'catalogue' passt nur zu Auswahlfeldern, nicht 'string'", None),
    ("E116", "      - {name: note, type: text, length: 200, label: Notiz}",
     6, "entities[0].fields[1].length", "'length' gilt nur für Feldtyp 'string', nicht 'text'", None),
    ("E117", "      - {name: code, type: string, regex: '[0-9', label: Kennung}",
     6, "entities[0].fields[1].regex", "ungültiger regulärer Ausdruck '[0-9'",
     "Python meldet: unterminated character set at position 0"),
    ("E118", "      - {name: code, type: string, max: 5, label: Kennung}",
     6, "entities[0].fields[1].max", "'min'/'max' gelten nur für Zahlenfelder, nicht 'string'", None),
    ("E119", "      - {name: street, type: text, street_picker: true, label: Straße}",
     6, "entities[0].fields[1].street_picker", "Straßenauswahl nur für Textfelder (string)", None),
    ("E120", "    list_columns: [visited_on, visitor]",
     6, "entities[0].list_columns[1]", "unbekanntes Feld 'visitor' in 'visit'", "Meinten Sie 'visited_on'?"),
    ("E120", "    search_fields: [visted_on]",
     6, "entities[0].search_fields[0]", "unbekanntes Feld 'visted_on' in 'visit'", "Meinten Sie 'visited_on'?"),
    ("E120", "    order_by: visitedon",
     6, "entities[0].order_by", "unbekanntes Feld 'visitedon' in 'visit'", "Meinten Sie 'visited_on'?"),
    ("E120", "    pages: [{name: main, label: Besuch, fields: [visited_on, note]}]",
     6, "entities[0].pages[0].fields[1]", "unbekanntes Feld 'note' in 'visit'", None),
    ("E120", "    unique: [{fields: [visited_on, visitor]}]",
     6, "entities[0].unique[0].fields[1]", "unbekanntes Feld 'visitor' in 'visit'", "Meinten Sie 'visited_on'?"),
    ("E121", "    related: [adress]",
     6, "entities[0].related[0]", "unbekannte Entität 'adress'", "Meinten Sie 'address'?"),
    ("E122", "    related: [address]",
     6, "entities[0].related[0]", "'address' hat kein Verweisfeld auf 'visit'", None),
    ("E123", "    parent: cas",
     6, "entities[0].parent", "unbekannte Entität 'cas'", "Meinten Sie 'case'?"),
    ("E124", "    parent: case",
     6, "entities[0].parent", "'visit' braucht ein Verweisfeld 'case' auf 'case'", None),
    ("E124", "    parent: case\n    parent_field: visited_on",
     7, "entities[0].parent_field", "'visit' braucht ein Verweisfeld 'visited_on' auf 'case'", None),
    ("E125", "      - {name: visitor, type: string, label: Besucher, required: true, hidden: true}",
     6, "entities[0].fields[1].hidden", "Pflichtfeld 'visitor' ist ausgeblendet – kein Datensatz ließe sich speichern",
     "'required: false' setzen oder das Feld nicht ausblenden."),
]


@pytest.mark.parametrize(("id", "extra", "line", "path", "message", "hint"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_entity_check(tmp_path, id, extra, line, path, message, hint):
    root = write_config(tmp_path, HEAD + extra + "\n")
    assert issues_for(root) == [issue(id, root / "entities.yaml", line, path, message, hint)]


def test_hidden_optional_and_boolean_fields_are_fine(tmp_path):
    root = write_config(tmp_path, HEAD + """\
      - {name: note, type: text, label: Notiz, hidden: true}
      - {name: done, type: boolean, label: erledigt, required: true, hidden: true}
""")
    assert issues_for(root) == []


def test_duplicate_profiles_and_org_units(tmp_path):
    root = write_config(tmp_path, HEAD, roles="""\
profiles:
  - name: Sachbearbeitung
  - name: Sozialarbeit
  - name: Sachbearbeitung
""", settings="""\
org_units:
  - {code: nord, name: Fachstelle Nord}
  - {code: nord, name: Fachstelle Süd}
""")
    # The repetition is reported, where it stands; the first one is the original.
    assert issues_for(root) == [
        issue("E131", root / "roles.yaml", 4, "profiles[2].name", "Profil 'Sachbearbeitung' ist doppelt"),
        issue("E132", root / "settings.yaml", 3, "org_units[1].code", "Dienststelle 'nord' ist doppelt"),
    ]


def test_duplicate_catalogues_and_values(tmp_path):
    root = write_config(tmp_path, cities={"x": {"entities.yaml": """\
        catalogues:
          - name: visit_kind
            label: Besuchsart
            values:
              - {code: home, label: Hausbesuch}
              - {code: office, label: Sprechstunde}
              - {code: home, label: Hausbesuch zu zweit}
          - {name: visit_kind, label: Besuchsart, values: []}
        """}})
    overlay = root / "cities" / "x" / "entities.yaml"
    # Within one file, named items do not merge: a repeated name is a mistake.
    assert issues_for(root, "x") == [
        issue("E134", overlay, 8, "catalogues[1].name", "Katalog 'visit_kind' ist doppelt definiert"),
        issue("E133", overlay, 7, "catalogues[0].values[2].code", "Wert 'home' im Katalog 'visit_kind' ist doppelt"),
    ]


def test_core_contract_missing_entities_and_catalogues(tmp_path):
    (tmp_path / "entities.yaml").write_text("""\
entities:
  - name: partner
    label: Partner
    fields:
      - {name: surname, type: string, label: Name}
""")
    hint = "Kernfelder lassen sich umbenennen (label) oder ausblenden (hidden), nicht entfernen."
    file = tmp_path / "entities.yaml"
    missing = "wird aber von der Fachlogik benötigt"
    assert issues_for(tmp_path) == [
        *[issue("E141", file, 4, "entities[0].fields", f"Feld 'partner.{name}' fehlt, {missing}", hint)
          for name in ("first_name", "birth_date", "sex", "title", "kind")],
        *[issue("E140", file, 1, "entities", f"Entität '{name}' fehlt, {missing}")
          for name in ("address", "partner_role_assignment", "case", "housing_emergency", "service", "doc_entry",
                       "task", "eviction_lawsuit", "forced_eviction", "appointment")],
        *[issue("E143", file, 1, "catalogues", f"Katalog '{name}' fehlt, {missing}")
          for name in ("appointment_place", "measurement_point", "partner_kind", "partner_role", "service_group",
                       "sex", "task_state")],
    ]
