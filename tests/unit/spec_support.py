"""Helpers for the spec tests: a minimal configuration that fulfils the core contract, written to a tmp dir.

A test writes its own entities *first* (``entities:`` and its items), so the lines and indexes it
asserts are the ones it can see in its own text; the core entities and catalogues follow below.
"""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from app.metamodel.issues import ConfigError, SpecIssue
from app.metamodel.loader import load_spec
from app.metamodel.spec import AppSpec

# Entities and catalogues that checks.CORE_CONTRACT requires, nothing more.
CORE_ENTITIES = """\
  - name: partner
    label: Partner
    fields:
      - {name: kind, type: choice, catalogue: partner_kind, label: Partnerart}
      - {name: title, type: string, label: Titel}
      - {name: surname, type: string, label: Name, required: true}
      - {name: first_name, type: string, label: Vorname}
      - {name: sex, type: choice, catalogue: sex, label: Geschlecht}
      - {name: birth_date, type: date, label: Geburtsdatum}
  - name: address
    label: Adresse
    fields:
      - {name: partner, type: ref, ref: partner, label: Partner, required: true}
      - {name: street, type: string, label: Straße}
      - {name: house_number, type: string, label: Hausnummer}
      - {name: postcode, type: string, label: PLZ}
      - {name: city, type: string, label: Ort}
  - name: partner_role_assignment
    label: Partnerrolle
    fields:
      - {name: partner, type: ref, ref: partner, label: Partner, required: true}
      - {name: role, type: choice, catalogue: partner_role, label: Rolle, required: true}
  - name: case
    label: Fallakte
    fields:
      - {name: client, type: ref, ref: partner, label: Klient/in, required: true}
      - {name: opened_on, type: date, label: Fallbeginn, required: true}
      - {name: file_number, type: string, label: Aktenzeichen}
      - {name: external_ref, type: string, label: Fallnummer}
      - {name: info, type: text, label: Info}
  - name: housing_emergency
    label: Wohnungsnotfall
    fields:
      - {name: case, type: ref, ref: case, label: Fallakte, required: true}
  - name: service
    label: Leistung
    org_scope: none
    fields:
      - {name: code, type: string, label: Kürzel, required: true}
      - {name: name, type: string, label: Leistung, required: true}
      - {name: measurement_point, type: choice, catalogue: measurement_point, label: Messpunkt}
      - {name: counts_as_contact, type: boolean, label: Kontakt}
      - {name: letter_template, type: string, label: Briefvorlage}
      - {name: follow_up_days, type: integer, label: Tage}
      - {name: follow_up_title, type: string, label: Aufgabe}
      - {name: follow_up_closed_by, type: choice, catalogue: measurement_point, label: erledigt durch}
      - {name: follow_up_cancel_on_contact, type: boolean, label: entfällt bei Kontakt}
      - {name: active_from, type: date, label: ab}
      - {name: active_to, type: date, label: bis}
  - name: doc_entry
    label: Doku-Eintrag
    fields:
      - {name: case, type: ref, ref: case, label: Fallakte, required: true}
      - {name: entry_date, type: date, label: Datum, required: true}
      - {name: service, type: ref, ref: service, label: Leistung, required: true}
      - {name: info, type: string, label: Kurzinfo}
      - {name: provider, type: user, label: Erbringer/in}
      - {name: in_pairs, type: boolean, label: zu zweit}
      - {name: measurement_point, type: choice, catalogue: measurement_point, label: Messpunkt}
      - {name: counts_as_contact, type: boolean, label: Kontakt}
  - name: task
    label: Aufgabe
    fields:
      - {name: case, type: ref, ref: case, label: Fallakte, required: true}
      - {name: title, type: string, label: Aufgabe, required: true}
      - {name: due_on, type: date, label: fällig, required: true}
      - {name: assignee, type: user, label: zuständig}
      - {name: state, type: choice, catalogue: task_state, label: Status, required: true}
      - {name: closed_by, type: choice, catalogue: measurement_point, label: erledigt durch}
      - {name: cancel_on_contact, type: boolean, label: entfällt bei Kontakt}
      - {name: source_entry, type: ref, ref: doc_entry, label: Eintrag}
      - {name: done_on, type: date, label: erledigt am}
  - name: eviction_lawsuit
    label: Räumungsklage
    fields:
      - {name: case, type: ref, ref: case, label: Fallakte, required: true}
      - {name: court, type: ref, ref: partner, label: Amtsgericht}
      - {name: court_file_number, type: string, label: Aktenzeichen}
      - {name: received_on, type: date, label: Eingang, required: true}
      - {name: hearing_on, type: date, label: Verhandlung}
  - name: forced_eviction
    label: Zwangsräumung
    fields:
      - {name: case, type: ref, ref: case, label: Fallakte, required: true}
      - {name: bailiff, type: ref, ref: partner, label: Gerichtsvollzieher/in}
      - {name: received_on, type: date, label: Eingang, required: true}
      - {name: eviction_on, type: date, label: Räumungstermin, required: true}
      - {name: eviction_at, type: string, label: Uhrzeit}
  - name: appointment
    label: Termin
    fields:
      - {name: case, type: ref, ref: case, label: Fallakte, required: true}
      - {name: starts_on, type: date, label: Datum, required: true}
      - {name: starts_at, type: string, label: Uhrzeit}
      - {name: place, type: choice, catalogue: appointment_place, label: Ort, required: true}
      - {name: location, type: string, label: Raum}
      - {name: staff, type: user, label: Mitarbeiter/in}
      - {name: in_pairs, type: boolean, label: zu zweit}
"""
CORE_CATALOGUES = """\
catalogues:
  - name: partner_kind
    label: Partnerart
    values: [{code: person, label: Person}, {code: institution, label: Institution}]
  - name: sex
    label: Geschlecht
    values: [{code: female, label: weiblich}, {code: male, label: männlich}]
  - name: partner_role
    label: Partnerrolle
    values: [{code: klient, label: Klient}, {code: vermieter, label: Vermieter}]
  - name: person_group
    label: Personengruppe
    values: [{code: obdachlose, label: Obdachlose}]
  - name: measurement_point
    label: Messpunkt
    values: [{code: klage_eingang, label: Eingang Räumungsklage}, {code: kontakt, label: Kontakt}]
  - name: task_state
    label: Status
    values: [{code: open, label: offen}, {code: done, label: erledigt}, {code: cancelled, label: entfallen}]
  - name: service_group
    label: Gruppe
    values: [{code: beratung, label: Beratung}]
  - name: appointment_place
    label: Ort
    values: [{code: office, label: Dienststelle}]
"""
# Index of the first core entity when a test declares no entities of its own.
CORE = {"partner": 0, "address": 1, "partner_role_assignment": 2, "case": 3, "housing_emergency": 4, "service": 5,
        "doc_entry": 6, "task": 7, "eviction_lawsuit": 8, "forced_eviction": 9, "appointment": 10}


def write_config(root: Path, entities: str = "entities:\n", *, roles: str | None = None,
                 settings: str | None = None, cities: dict[str, dict[str, str]] | None = None) -> Path:
    """Write ``root/entities.yaml`` = the test's own text, then the core; other files as given."""
    root.mkdir(parents=True, exist_ok=True)
    own = dedent(entities)
    if not own.endswith("\n"):
        own += "\n"
    (root / "entities.yaml").write_text(own + CORE_ENTITIES + CORE_CATALOGUES, encoding="utf-8")
    if roles is not None:
        (root / "roles.yaml").write_text(dedent(roles), encoding="utf-8")
    if settings is not None:
        (root / "settings.yaml").write_text(dedent(settings), encoding="utf-8")
    for city, files in (cities or {}).items():
        city_dir = root / "cities" / city
        city_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (city_dir / name).write_text(dedent(text), encoding="utf-8")
    return root


def issues_for(root: Path, city: str | None = None) -> list[SpecIssue]:
    """Every issue the loader reports for the configuration in ``root`` (empty list: valid)."""
    try:
        load_spec(root, city)
    except ConfigError as exc:
        return exc.issues
    return []


def spec_for(root: Path, city: str | None = None) -> AppSpec:
    return load_spec(root, city)


def issue(id: str, file: Path, line: int, path: str, message: str, hint: str | None = None) -> SpecIssue:
    """SpecIssue with the arguments in reading order (where, then what)."""
    return SpecIssue(f"spec.{id}", message, str(file), line, path, hint)
