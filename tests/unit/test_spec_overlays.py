"""City overlays (config/cities/<name>/): what they may change, and issues that point into the overlay file."""
from __future__ import annotations

from datetime import date

from tests.unit.spec_support import CORE, issue, issues_for, spec_for, write_config

BASE_PAGES = """\
    entities:
      - name: visit
        label: Besuch
        fields:
          - {name: visited_on, type: date, label: Besuch am}
          - {name: visitor, type: string, label: Besucher/in}
          - {name: note, type: text, label: Notiz}
        pages:
          - {name: main, label: Besuch, fields: [visited_on, visitor, note]}
    """


def test_overlay_adds_relabels_hides_and_merges_by_name(tmp_path):
    root = write_config(tmp_path, BASE_PAGES, roles="""\
        profiles:
          - name: Sachbearbeitung
            default: write
            entities: {visit: read}
        """, cities={"x": {
        "entities.yaml": """\
            catalogues:
              - name: person_group
                values:
                  - {code: haftentlassene, label: Haftentlassene}
              - name: visit_kind
                label: Besuchsart
                values: [{code: home, label: Hausbesuch}]
            entities:
              - name: case
                label: Fallakte (Soziale Wohnhilfe)
              - name: visit
                fields:
                  - {name: visitor, label: Besuchende Person}
                  - {name: note, hidden: true}
                  - {name: kind, type: choice, catalogue: visit_kind, label: Besuchsart}
                pages:
                  - {name: main, label: Hausbesuch, fields: [kind, visitor, visited_on]}
              - name: room
                label: Zimmer
                fields:
                  - {name: number, type: string, label: Nummer}
            """,
        "roles.yaml": """\
            profiles:
              - name: Sachbearbeitung
                entities: {room: write}
              - name: Obdachverwaltung
                default: read
            """}})
    spec = spec_for(root, "x")

    visit = spec.entity("visit")
    assert [(f.name, f.label, f.hidden) for f in visit.fields] == [
        ("visited_on", "Besuch am", False),
        ("visitor", "Besuchende Person", False),  # relabelled, type kept from the base
        ("note", "Notiz", True),                  # hidden: the column stays, the forms drop it
        ("kind", "Besuchsart", False),            # new fields come last; pages set the order on screen
    ]
    assert [(p.name, p.label, p.fields) for p in visit.pages] == [
        ("main", "Hausbesuch", ["kind", "visitor", "visited_on"])]
    assert spec.entity("case").label == "Fallakte (Soziale Wohnhilfe)"
    assert [f.name for f in spec.entity("case").fields] == ["client", "opened_on", "file_number", "external_ref", "info"]
    assert [e.name for e in spec.entities] == ["visit", *CORE, "room"]
    assert [v.code for v in spec.catalogue("person_group").values] == ["obdachlose", "haftentlassene"]
    assert spec.catalogue("person_group").label == "Personengruppe"
    assert spec.catalogue("visit_kind").label == "Besuchsart"
    profiles = {p.name: p for p in spec.roles.profiles}
    assert list(profiles) == ["Sachbearbeitung", "Obdachverwaltung"]
    assert profiles["Sachbearbeitung"].entities == {"visit": "read", "room": "write"}
    assert profiles["Sachbearbeitung"].default == "write"


def test_overlay_settings_replace_values_and_org_units(tmp_path):
    root = write_config(tmp_path, settings="""\
        city_name: Fachstelle
        org_units:
          - {code: nord, name: Fachstelle Nord}
          - {code: sued, name: Fachstelle Süd}
        """, cities={"berlin": {"settings.yaml": """\
        city_name: Soziale Wohnhilfen Berlin
        holiday_subdivision: BE
        closure_days: [2025-12-24]
        org_units:
          - {code: mitte, name: Soziale Wohnhilfe Mitte}
          - {code: pankow, name: Soziale Wohnhilfe Pankow}
        """}})
    settings = spec_for(root, "berlin").settings
    assert (settings.city_name, settings.holiday_subdivision, settings.closure_days) == (
        "Soziale Wohnhilfen Berlin", "BE", [date(2025, 12, 24)])
    # A city brings its own offices; the sample ones of the base must not appear in Berlin.
    assert [u.code for u in settings.org_units] == ["mitte", "pankow"]
    assert [u.code for u in spec_for(root).settings.org_units] == ["nord", "sued"]


def test_issue_in_an_overlay_names_the_overlay_file_line_and_path(tmp_path):
    root = write_config(tmp_path, BASE_PAGES, cities={"x": {"entities.yaml": """\
        entities:
          - name: case
            fields:
              - {name: lds_relevant, type: bool, label: LDS-Statistik relevant}
              - name: household
                type: choice
                catalogue: lds_household
                lable: Haushaltsstruktur
        """}})
    overlay = root / "cities" / "x" / "entities.yaml"
    # Paths as written in the overlay (entities[0] is 'case' there), not as merged (entities[4]).
    assert issues_for(root, "x") == [
        issue("E012", overlay, 4, "entities[0].fields[0].type", "unbekannter Feldtyp 'bool'",
              "Meinten Sie 'boolean'?"),
        issue("E010", overlay, 8, "entities[0].fields[1].lable", "unbekannter Schlüssel 'lable'",
              "Meinten Sie 'label'?"),
    ]


def test_cross_reference_issue_in_an_overlay(tmp_path):
    root = write_config(tmp_path, BASE_PAGES, cities={"x": {
        "entities.yaml": """\
            entities:
              - name: visit
                fields:
                  - {name: kind, type: choice, catalogue: visit_knd, label: Besuchsart}
                list_columns: [visited_on, knd]
            catalogues:
              - {name: visit_kind, label: Besuchsart, values: [{code: home, label: Hausbesuch}]}
            """,
        "roles.yaml": """\
            profiles:
              - name: Obdachverwaltung
                entities:
                  shelter: write
            """}})
    overlay = root / "cities" / "x"
    assert issues_for(root, "x") == [
        issue("E114", overlay / "entities.yaml", 4, "entities[0].fields[0].catalogue",
              "unbekannter Katalog 'visit_knd'", "Meinten Sie 'visit_kind'?"),
        issue("E120", overlay / "entities.yaml", 5, "entities[0].list_columns[1]", "unbekanntes Feld 'knd' in 'visit'",
              "Meinten Sie 'kind'?"),
        issue("E130", overlay / "roles.yaml", 4, "profiles[0].entities.shelter",
              "unbekannte Entität 'shelter' im Profil 'Obdachverwaltung'"),
    ]


def test_removing_a_core_contract_field_is_refused_at_the_overlay_line(tmp_path):
    root = write_config(tmp_path, cities={"x": {"entities.yaml": """\
        entities:
          - name: partner
            remove_fields: [title]
          - name: case
            label: Fallakte
            remove_fields: [info, opened_on, opend_on]
        """}})
    overlay = root / "cities" / "x" / "entities.yaml"
    hint = "Kernfelder lassen sich umbenennen (label) oder ausblenden (hidden), nicht entfernen."
    assert issues_for(root, "x") == [
        issue("E006", overlay, 6, "entities[1].remove_fields[2]", "Feld 'opend_on' gibt es in 'case' nicht",
              "Meinten Sie 'opened_on'?"),
        issue("E141", overlay, 3, "entities[0].remove_fields[0]",
              "Feld 'partner.title' entfernt, wird aber von der Fachlogik benötigt", hint),
        issue("E141", overlay, 6, "entities[1].remove_fields[1]",
              "Feld 'case.opened_on' entfernt, wird aber von der Fachlogik benötigt", hint),
    ]


def test_removing_other_fields_works(tmp_path):
    root = write_config(tmp_path, BASE_PAGES, cities={"x": {"entities.yaml": """\
        entities:
          - name: case
            remove_fields: [info]
          - name: visit
            remove_fields: [note]
            pages:
              - {name: main, label: Besuch, fields: [visited_on, visitor]}
        """}})
    spec = spec_for(root, "x")
    assert [f.name for f in spec.entity("case").fields] == ["client", "opened_on", "file_number", "external_ref"]
    assert [f.name for f in spec.entity("visit").fields] == ["visited_on", "visitor"]


def test_remove_fields_must_be_a_list(tmp_path):
    root = write_config(tmp_path, cities={"x": {"entities.yaml": """\
        entities:
          - name: case
            remove_fields: info
        """}})
    assert issues_for(root, "x") == [
        issue("E008", root / "cities" / "x" / "entities.yaml", 3, "entities[0].remove_fields",
              "'info' ist kein(e) Liste", "Schreibweise: remove_fields: [feld1, feld2]"),
    ]


def test_retyping_a_core_contract_field_is_refused(tmp_path):
    root = write_config(tmp_path, cities={"x": {"entities.yaml": """\
        entities:
          - name: partner
            fields:
              - {name: birth_date, type: string, label: Geburtsdatum (Text)}
        """}})
    assert issues_for(root, "x") == [
        issue("E142", root / "cities" / "x" / "entities.yaml", 4, "entities[0].fields[0].type",
              "Feld 'partner.birth_date' muss vom Typ 'date' sein"),
    ]


def test_hiding_a_required_field_is_refused(tmp_path):
    # case.client is required: a form without it could never be saved. partner.title is optional.
    root = write_config(tmp_path, cities={"x": {"entities.yaml": """\
        entities:
          - name: partner
            fields:
              - {name: title, hidden: true}
          - name: case
            fields:
              - {name: client, hidden: true}
        """}})
    assert issues_for(root, "x") == [
        issue("E125", root / "cities" / "x" / "entities.yaml", 7, "entities[1].fields[0].hidden",
              "Pflichtfeld 'client' ist ausgeblendet – kein Datensatz ließe sich speichern",
              "'required: false' setzen oder das Feld nicht ausblenden."),
    ]


def test_yaml_error_in_an_overlay_file(tmp_path):
    root = write_config(tmp_path, cities={"x": {"settings.yaml": "city_name: Musterhausen\n  holiday: NW\n"}})
    assert issues_for(root, "x") == [
        issue("E001", root / "cities" / "x" / "settings.yaml", 2, "(Datei)",
              "YAML-Syntaxfehler: unerwarteter Doppelpunkt – Einrückung prüfen oder Wert in Anführungszeichen"),
    ]
