"""The loader as an admin meets it: YAML mistakes reported with file, line, path, and a suggestion.

Each test writes a configuration into a tmp dir and compares the exact list of issues (no DB, no app).
"""
from __future__ import annotations

import pytest

from app.metamodel.issues import ConfigError
from app.metamodel.loader import load_spec
from tests.unit.spec_support import CORE, issue, issues_for, spec_for, write_config


def test_minimal_config_is_valid(tmp_path):
    spec = spec_for(write_config(tmp_path))
    assert [e.name for e in spec.entities] == list(CORE)
    assert spec.settings.city_name == "Fachstelle"


def test_unknown_field_type_suggests_the_closest(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            fields:
              - {name: visited_on, type: dat, label: Besuch am}
        """)
    assert issues_for(root) == [
        issue("E012", root / "entities.yaml", 5, "entities[0].fields[0].type", "unbekannter Feldtyp 'dat'",
              "Meinten Sie 'date'?"),
    ]


def test_unknown_value_without_a_close_match_lists_the_allowed_ones(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            order_direction: upwards
            fields:
              - {name: visited_on, type: date, label: Besuch am}
        """)
    assert issues_for(root) == [
        issue("E012", root / "entities.yaml", 4, "entities[0].order_direction", "unbekannter Wert 'upwards'",
              "Erlaubt: asc, desc"),
    ]


def test_misspelt_key_is_one_issue_with_a_suggestion(tmp_path):
    # 'lable' is unknown and makes 'label' missing; the admin reads one line that says both.
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            fields:
              - name: visited_on
                type: date
                lable: Besuch am
        """)
    assert issues_for(root) == [
        issue("E010", root / "entities.yaml", 7, "entities[0].fields[0].lable", "unbekannter Schlüssel 'lable'",
              "Meinten Sie 'label'?"),
    ]


def test_unknown_key_far_from_any_known_one(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            colour: blue
            fields:
              - {name: visited_on, type: date, label: Besuch am}
        """)
    assert issues_for(root) == [
        issue("E010", root / "entities.yaml", 4, "entities[0].colour", "unbekannter Schlüssel 'colour'"),
    ]


def test_missing_required_key_points_at_its_mapping(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            fields:
              - {name: visited_on, type: date}
        """)
    assert issues_for(root) == [
        issue("E011", root / "entities.yaml", 2, "entities[0].label", "Pflichtangabe 'label' fehlt"),
        issue("E011", root / "entities.yaml", 4, "entities[0].fields[0].label", "Pflichtangabe 'label' fehlt"),
    ]


def test_wrong_value_types_and_names(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: Visit
            label: Besuch
            fields:
              - {name: visited_on, type: date, label: Besuch am, required: vielleicht}
              - {name: note, type: string, label: Notiz, length: 0}
              - {name: place, type: string, label: Ort, default: {city: Berlin}}
        """)
    assert issues_for(root) == [
        issue("E013", root / "entities.yaml", 2, "entities[0].name", "ungültiger Name 'Visit'",
              "Namen bestehen aus a–z, 0–9 und _ und beginnen mit einem Buchstaben."),
        issue("E014", root / "entities.yaml", 5, "entities[0].fields[0].required",
              "'vielleicht' ist kein(e) ja/nein (true/false)"),
        issue("E016", root / "entities.yaml", 6, "entities[0].fields[1].length", "'0' ist zu klein",
              "Erlaubt ist mindestens 1."),
        # One issue for the value, not one per type the key would accept.
        issue("E014", root / "entities.yaml", 7, "entities[0].fields[2].default",
              "'{'city': 'Berlin'}' ist kein(e) Text, ganze Zahl, Zahl oder ja/nein (true/false)"),
    ]


def test_too_long_text_for_its_database_column(tmp_path):
    root = write_config(tmp_path, settings=f"""\
        org_units:
          - {{code: nord, name: {"Fachstelle " * 12}}}
        """)
    assert issues_for(root) == [
        issue("E015", root / "settings.yaml", 2, "org_units[0].name",
              "'Fachstelle Fachstelle Fachstelle Fach...' ist zu lang (131 Zeichen)", "Höchstens 120 Zeichen."),
    ]


def test_yaml_syntax_error_names_the_line_in_german(tmp_path):
    root = write_config(tmp_path)
    (root / "roles.yaml").write_text("profiles:\n  - name: Sachbearbeitung\n    label: Sachbearbeitung: Nord\n")
    assert issues_for(root) == [
        issue("E001", root / "roles.yaml", 3, "(Datei)",
              "YAML-Syntaxfehler: unerwarteter Doppelpunkt – Einrückung prüfen oder Wert in Anführungszeichen"),
    ]


def test_unclosed_quote_points_where_it_was_opened(tmp_path):
    root = write_config(tmp_path, settings='city_name: "Musterhausen\nholiday_subdivision: NW\n\n')
    assert issues_for(root) == [
        issue("E001", root / "settings.yaml", 1, "(Datei)", "YAML-Syntaxfehler: Anführungszeichen nicht geschlossen"),
    ]


def test_tab_indentation(tmp_path):
    root = write_config(tmp_path, settings="org_units:\n\t- {code: nord, name: Nord}\n")
    assert issues_for(root) == [
        issue("E001", root / "settings.yaml", 2, "(Datei)",
              "YAML-Syntaxfehler: Tabulator gefunden – bitte nur mit Leerzeichen einrücken"),
    ]


def test_duplicate_key_is_reported_with_its_path(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            fields:
              - name: visited_on
                type: date
                label: Besuch am
                type: datetime
        """)
    assert issues_for(root) == [
        issue("E003", root / "entities.yaml", 8, "entities[0].fields[0].type", "Schlüssel 'type' steht doppelt",
              "Einen der beiden Einträge löschen (sonst gilt der untere)."),
    ]


def test_file_that_is_not_a_mapping(tmp_path):
    root = write_config(tmp_path, roles="- name: Sachbearbeitung\n")
    assert issues_for(root) == [
        issue("E004", root / "roles.yaml", 1, "(Datei)", "Die Datei muss eine Zuordnung (Schlüssel: Wert) sein"),
    ]


def test_missing_entities_file(tmp_path):
    tmp_path.joinpath("settings.yaml").write_text("city_name: Musterhausen\n")
    assert issues_for(tmp_path) == [issue("E007", tmp_path / "entities.yaml", 1, "(Datei)", "Datei fehlt")]


def test_several_errors_in_one_file_are_all_listed(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            fields:
              - {name: visited_on, type: dat, label: Besuch am}
              - {name: visitor, type: string, lable: Besucher}
              - {name: rooms, type: integr, label: Zimmer}
          - name: note
            lable: Notiz
            fields: []
        """)
    file = root / "entities.yaml"
    assert issues_for(root) == [
        issue("E012", file, 5, "entities[0].fields[0].type", "unbekannter Feldtyp 'dat'", "Meinten Sie 'date'?"),
        issue("E010", file, 6, "entities[0].fields[1].lable", "unbekannter Schlüssel 'lable'", "Meinten Sie 'label'?"),
        issue("E012", file, 7, "entities[0].fields[2].type", "unbekannter Feldtyp 'integr'",
              "Meinten Sie 'integer'?"),
        issue("E010", file, 9, "entities[1].lable", "unbekannter Schlüssel 'lable'", "Meinten Sie 'label'?"),
    ]


def test_cross_reference_errors_in_several_files_are_all_listed(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            list_columns: [visited_on, vistor]
            fields:
              - {name: visited_on, type: date, label: Besuch am}
              - {name: visitor, type: ref, ref: partnr, label: Besucher}
        """, roles="""\
        profiles:
          - name: Sachbearbeitung
            entities:
              visits: write
        """)
    assert issues_for(root) == [
        issue("E111", root / "entities.yaml", 7, "entities[0].fields[1].ref", "unbekannte Entität 'partnr'",
              "Meinten Sie 'partner'?"),
        issue("E120", root / "entities.yaml", 4, "entities[0].list_columns[1]", "unbekanntes Feld 'vistor' in 'visit'",
              "Meinten Sie 'visitor'?"),
        issue("E130", root / "roles.yaml", 4, "profiles[0].entities.visits",
              "unbekannte Entität 'visits' im Profil 'Sachbearbeitung'", "Meinten Sie 'visit'?"),
    ]


def test_unknown_city_suggests_the_closest_overlay(tmp_path):
    root = write_config(tmp_path, cities={"berlin": {"settings.yaml": "holiday_subdivision: BE\n"},
                                          "musterhausen": {"settings.yaml": "holiday_subdivision: NW\n"}})
    assert issues_for(root, "berln") == [
        issue("E005", root / "cities" / "berln", 1, "FACHSTELLE_CITY", "Stadt-Overlay 'berln' nicht gefunden",
              "Meinten Sie 'berlin'?"),
    ]
    assert issues_for(root, "koeln") == [
        issue("E005", root / "cities" / "koeln", 1, "FACHSTELLE_CITY", "Stadt-Overlay 'koeln' nicht gefunden",
              "Vorhanden: berlin, musterhausen"),
    ]


def test_config_error_prints_every_issue_in_the_startup_format(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: visit
            label: Besuch
            fields:
              - {name: visited_on, type: dat, label: Besuch am}
              - {name: rooms, type: integer}
        """)
    with pytest.raises(ConfigError) as raised:
        load_spec(root)
    assert raised.value.report() == (
        "Die Konfiguration enthält 2 Fehler:\n"
        f"{root}/entities.yaml:5: entities[0].fields[0].type: (spec.E012) unbekannter Feldtyp 'dat'\n"
        "    HINWEIS: Meinten Sie 'date'?\n"
        f"{root}/entities.yaml:6: entities[0].fields[1].label: (spec.E011) Pflichtangabe 'label' fehlt"
    )


def test_cross_references_are_checked_once_the_structure_is_valid(tmp_path):
    # Structure first (like a compiler's parse errors): a reserved name is reported after the typo is fixed.
    text = """\
        entities:
          - name: visit
            label: Besuch
            fields:
              - {name: visited_on, type: %s, label: Besuch am}
              - {name: id, type: integer, label: Nummer}
        """
    root = write_config(tmp_path, text % "dat")
    assert [i.id for i in issues_for(root)] == ["spec.E012"]
    root = write_config(tmp_path, text % "date")
    assert issues_for(root) == [
        issue("E103", root / "entities.yaml", 6, "entities[0].fields[1].name", "Feldname 'id' ist reserviert",
              "Das System legt dieses Feld selbst an."),
    ]
