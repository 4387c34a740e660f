"""``fachstelle import-events``: the districts' old event lists become documentation entries.

All-or-nothing, idempotent (case by the district's number, entry by measurement point and date), placeholder
clients marked as imported, follow-ups only where they are not already overdue, entries in the case's unit.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.integrations.events_import import PLACEHOLDER_SURNAME, EventImportError, import_events
from tests.conftest import ROOT, login

TODAY = date(2026, 11, 20)  # a Friday
SAMPLE = ROOT / "docs" / "beispiele" / "ereignisse.csv"
HEADER = "fall_id;bezirk;ereignis;datum;zu_zweit\n"


@pytest.fixture
def models(ctx):
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    return {name: registry.model(name) for name in ("case", "partner", "doc_entry", "task", "service")}


def run(tmp_path, content: str | bytes, name: str = "ereignisse.csv", today: date = TODAY, dry_run: bool = False):
    """Import as the CLI does: commit, or roll back on an error and for a dry run."""
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    try:
        result = import_events(db.session, path, today=today)
    except EventImportError:
        db.session.rollback()
        raise
    db.session.rollback() if dry_run else db.session.commit()
    return result


def counts(models) -> dict[str, int]:
    return {name: db.session.scalar(select(func.count()).select_from(model))
            for name, model in models.items() if name != "service"}


def entries(models, case) -> list[tuple]:
    db.session.expire_all()
    Entry = models["doc_entry"]
    rows = db.session.scalars(select(Entry).where(Entry.case_id == case.id).order_by(Entry.entry_date, Entry.id))
    return [(e.entry_date, e.service.code, e.measurement_point.code, e.in_pairs, e.counts_as_contact) for e in rows]


def case_of(models, ref: str, unit: str):
    from app.core_models import OrgUnit
    Case = models["case"]
    return db.session.scalars(select(Case).join(OrgUnit, Case.org_unit_id == OrgUnit.id)
                              .where(Case.external_ref == ref, OrgUnit.code == unit)).one()


HAPPY = (HEADER +
         "N-2023-17;Nord;klage_eingang;06.03.2023;\n"
         "N-2023-17;Nord;klage_anschreiben;08.03.2023;\n"
         "N-2023-17;Nord;hausbesuch;22.03.2023;ja\n"
         "N-2023-17;Nord;kontakt;2023-03-24;\n"
         "S-0451;sued;zr_mitteilung_eingang;04.09.2023;\n"
         "S-0451;sued;zr_termin;12.10.2023;\n"
         "S-0451;sued;zr_anwesenheit;12.10.2023;nein\n")


def test_events_become_entries_at_their_measurement_points(tmp_path, models):
    result = run(tmp_path, HAPPY)
    assert (result.cases_created, result.cases_found, result.entries_created, result.entries_unchanged,
            result.partners_created, result.follow_ups_created) == (2, 0, 7, 0, 2, 0)
    case = case_of(models, "N-2023-17", "nord")
    assert (case.opened_on, case.status.code, case.file_number) == (date(2023, 3, 6), "open", "N-2023-17")
    assert entries(models, case) == [
        (date(2023, 3, 6), "klage_eingang", "klage_eingang", False, False),
        (date(2023, 3, 8), "einladung_raeumungsklage", "klage_anschreiben", False, False),
        (date(2023, 3, 22), "hausbesuch", "hausbesuch", True, False),
        (date(2023, 3, 24), "beratung_persoenlich", "kontakt", False, True)]
    entry = db.session.scalars(select(models["doc_entry"]).where(models["doc_entry"].case_id == case.id)).first()
    assert (entry.info, entry.provider, entry.org_unit.code, entry.created_by) == (
        "Import: ereignisse.csv", None, "nord", "import")
    client = case.client
    assert (client.surname, client.first_name, client.kind.code, client.org_unit.code) == (
        PLACEHOLDER_SURNAME, "N-2023-17", "person", "nord")
    assert client.info.startswith("Platzhalter aus Import ereignisse.csv, 20.11.2026")
    other = case_of(models, "S-0451", "sued")
    assert [e[2] for e in entries(models, other)] == ["zr_mitteilung_eingang", "zr_termin", "zr_anwesenheit"]
    assert other.org_unit.code == other.client.org_unit.code == "sued"
    # Events of 2023: their follow-ups (due in 2023) would only flood the worklist.
    assert counts(models)["task"] == 0
    assert "klage_anschreiben → 1. Einladung Räumungsklage (einladung_raeumungsklage)" in result.report()


def test_the_same_file_twice_books_nothing_twice(tmp_path, models):
    run(tmp_path, HAPPY)
    before = counts(models)
    again = run(tmp_path, HAPPY)
    assert (again.cases_created, again.cases_found, again.entries_created, again.entries_unchanged,
            again.partners_created) == (0, 2, 0, 7, 0)
    assert counts(models) == before
    report = again.report()
    assert "Fallakten: 0 neu angelegt, 2 vorhanden." in report and "Doku-Einträge: 0 neu, 7 unverändert." in report


def test_bom_commas_both_date_formats_and_unit_names(tmp_path, models):
    result = run(tmp_path, "\ufefffall_id,bezirk,ereignis,datum,zu_zweit\r\n"
                           "S-1,Fachstelle Süd,kontakt,2024-01-15,\r\n"
                           "S-1,SÜD,hausbesuch,16.01.2024,JA\r\n"
                           "S-1,sued,kontakt,1.2.2024,\r\n")
    assert (result.cases_created, result.entries_created) == (1, 3)
    case = case_of(models, "S-1", "sued")
    assert [(e[0], e[3]) for e in entries(models, case)] == [
        (date(2024, 1, 15), False), (date(2024, 1, 16), True), (date(2024, 2, 1), False)]


def test_a_bad_row_writes_nothing_and_every_bad_row_is_named(tmp_path, models):
    run(tmp_path, HAPPY)
    before = counts(models)
    content = (HEADER +
               "N-9;nord;kontakt;01.03.2024;\n"            # 2: fine, but must not be written either
               "N-9;West;kontakt;01.03.2024;\n"            # 3
               "N-9;nord;anruf;01.03.2024;\n"              # 4
               "N-9;nord;kontakt;31.02.2024;\n"            # 5
               "N-9;nord;hausbesuch;02.03.2024;zu dritt\n"  # 6
               ";nord;kontakt;01.03.2024;\n")              # 7
    with pytest.raises(EventImportError) as error:
        run(tmp_path, content)
    lines = str(error.value).splitlines()
    assert lines[0] == "ereignisse.csv: Nichts importiert, die Datei enthält Fehler:"
    assert lines[1].startswith("Zeile 3: Bezirk „West“ unbekannt (bekannt: nord, sued).")
    assert lines[2].startswith("Zeile 4: Ereignis „anruf“ unbekannt (erlaubt: klage_eingang, ")
    assert lines[3:] == ["Zeile 5: Datum „31.02.2024“ gibt es nicht.",
                         "Zeile 6: zu_zweit „zu dritt“ ist weder ja noch nein (oder leer).",
                         "Zeile 7: fall_id fehlt."]
    assert counts(models) == before
    with pytest.raises(EventImportError, match="Kopfzeile unvollständig, es fehlt datum"):
        run(tmp_path, "fall_id;bezirk;ereignis;Datum des Ereignisses\nN-9;nord;kontakt;01.03.2024\n")
    # Issue #10: Windows-1252 is read; a byte it leaves undefined makes the file unreadable.
    with pytest.raises(EventImportError, match="Zeile 2: Die Datei ist weder UTF-8 noch Windows-1252 kodiert"):
        run(tmp_path, (HEADER + "N\x81-9;nord;kontakt;01.03.2024;\n").encode("latin-1"))
    assert counts(models) == before


def test_dry_run_reports_the_same_numbers_and_writes_nothing(tmp_path, models):
    before = counts(models)
    dry = run(tmp_path, HAPPY, dry_run=True)
    assert counts(models) == before
    assert dry.report(dry_run=True).startswith("Probelauf (--dry-run) für ereignisse.csv: so würde importiert, "
                                               "gespeichert wurde nichts.")
    real = run(tmp_path, HAPPY)
    assert dry.report() == real.report()


def test_an_event_without_an_active_service_stops_the_file(tmp_path, models):
    Service = models["service"]
    for service in db.session.scalars(select(Service)):
        if service.measurement_point is not None and service.measurement_point.code == "zr_termin":
            service.active_to = date(2025, 12, 31)
    db.session.commit()
    with pytest.raises(EventImportError, match="Für das Ereignis zr_termin gibt es keine aktive Leistung"):
        run(tmp_path, HAPPY)
    assert counts(models)["doc_entry"] == 0


def test_known_case_is_found_in_its_own_unit_only_and_clerk_entries_count_as_booked(tmp_path, models, factory):
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Wonlos")
    case = factory("case", "nord", client=person, opened_on=date(2023, 1, 10), external_ref="N-2023-17",
                   status=factory.value("case_status", "open"), file_number="2023/0017")
    visit = db.session.scalars(select(models["service"]).where(models["service"].code == "hausbesuch_kontakt")).one()
    factory("doc_entry", "nord", case=case, service=visit, entry_date=date(2023, 3, 22), in_pairs=False)
    result = run(tmp_path, HAPPY + "N-2023-17;sued;kontakt;01.04.2023;\n")
    # Nord's case is found by its number; the same number in Süd is another district's case.
    assert (result.cases_found, result.cases_created, result.partners_created) == (1, 2, 2)
    # The clerk's visit on 22.03. (another service, same measurement point) is the imported visit.
    assert (result.entries_created, result.entries_unchanged) == (7, 1)
    assert result.notes == ["Zeile 4: hausbesuch am 22.03.2023 ist schon gebucht, dort mit zu_zweit „nein“; "
                            "nicht geändert."]
    assert [e[1] for e in entries(models, case)] == ["klage_eingang", "einladung_raeumungsklage",
                                                    "hausbesuch_kontakt", "beratung_persoenlich"]
    db.session.refresh(case)
    assert (case.client.surname, case.opened_on, case.file_number) == ("Wonlos", date(2023, 1, 10), "2023/0017")
    assert case_of(models, "N-2023-17", "sued").client.surname == PLACEHOLDER_SURNAME


def test_follow_ups_only_where_not_already_overdue(tmp_path, models):
    result = run(tmp_path, HEADER +
                 "N-1;nord;klage_eingang;02.11.2026;\n"    # letter due 05.11.: overdue, not created
                 "N-2;nord;klage_eingang;18.11.2026;\n")   # letter due Mon 23.11.: created, for the team
    assert result.follow_ups_created == 1
    Task = models["task"]
    task, = db.session.scalars(select(Task))
    assert (task.case.external_ref, task.due_on, task.state.code, task.assignee, task.org_unit.code) == (
        "N-2", date(2026, 11, 23), "open", None, "nord")
    # Outside an import, every follow-up is created as before.
    from app.services.documentation import FOLLOW_UPS_NOT_BEFORE
    assert FOLLOW_UPS_NOT_BEFORE not in db.session.info


def test_imported_history_does_not_complete_a_later_task(tmp_path, models, factory):
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Wonlos")
    case = factory("case", "nord", client=person, opened_on=date(2026, 11, 2), external_ref="N-5",
                   status=factory.value("case_status", "open"))
    letter = db.session.scalars(select(models["service"]).where(
        models["service"].code == "einladung_raeumungsklage")).one()
    factory("doc_entry", "nord", case=case, service=letter, entry_date=date(2026, 11, 16))  # opens "1. Hausbesuch"

    def visit_task():
        db.session.expire_all()
        task, = db.session.scalars(select(models["task"]).where(models["task"].case_id == case.id))
        return task.state.code, task.done_on

    run(tmp_path, HEADER + "N-5;nord;hausbesuch;01.10.2026;\n")  # before the letter: no answer to it
    assert visit_task() == ("open", None)
    run(tmp_path, HEADER + "N-5;nord;hausbesuch;19.11.2026;ja\n")
    assert visit_task() == ("done", date(2026, 11, 19))


def test_imported_entries_stay_in_their_unit(tmp_path, models, client):
    run(tmp_path, HAPPY)
    nord_entry = db.session.scalars(select(models["doc_entry"]).join(models["case"])
                                    .where(models["case"].external_ref == "N-2023-17")).first()
    login(client, "sachbearbeitung_sued")
    assert client.get(f"/api/v1/doc_entry/{nord_entry.id}").status_code in (403, 404)
    listed = client.get("/api/v1/doc_entry/").json
    assert listed["count"] == 3  # Süd's three events, none of Nord's


def test_cli_import_events(tmp_path):
    """``fachstelle import-events FILE [--dry-run]`` in the Berlin overlay, as an admin runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACHSTELLE_")}
    env.update(FACHSTELLE_INSTANCE_DIR=str(tmp_path / "instance"), FACHSTELLE_CITY="berlin",
               FACHSTELLE_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               FACHSTELLE_MIGRATIONS_DIR=str(tmp_path / "migrations"))

    def fachstelle(*args):
        result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert "Traceback" not in result.stderr
        return result

    assert fachstelle("init").returncode == 0
    dry = fachstelle("import-events", str(SAMPLE), "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("Probelauf (--dry-run) für ereignisse.csv")
    assert "Fallakten: 2 neu angelegt, 0 vorhanden." in dry.stdout and "Doku-Einträge: 8 neu" in dry.stdout
    ok = fachstelle("import-events", str(SAMPLE))
    assert ok.returncode == 0 and "Doku-Einträge: 8 neu, 0 unverändert." in ok.stdout  # the dry run wrote nothing
    assert "Platzhalter-Partner: 2 angelegt." in ok.stdout
    again = fachstelle("import-events", str(SAMPLE))
    assert "Fallakten: 0 neu angelegt, 2 vorhanden." in again.stdout and "0 neu, 8 unverändert." in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "MI-1;Mitt;kontakt;07.03.2023;\n", encoding="utf-8")
    failed = fachstelle("import-events", str(bad))
    assert failed.returncode == 1 and "bad.csv: Nichts importiert" in failed.stderr
    assert "Zeile 2: Bezirk „Mitt“ unbekannt (meinten Sie „Mitte“?)." in failed.stderr
    missing = fachstelle("import-events", str(tmp_path / "fehlt.csv"))
    assert missing.returncode == 1 and "fehlt.csv: Datei nicht lesbar" in missing.stderr


def test_a_number_twice_in_one_unit_is_an_error(tmp_path, models, factory):
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Wonlos")
    first, second = (factory("case", "nord", client=person, opened_on=date(2023, 1, 10), external_ref="N-7",
                             status=factory.value("case_status", "open")) for _ in range(2))
    with pytest.raises(EventImportError) as error:
        run(tmp_path, HEADER + "N-8;nord;kontakt;01.03.2024;\nN-7;nord;kontakt;01.03.2024;\n")
    assert (f"Zeile 3: Fall „N-7“ gibt es in Fachstelle Nord mehrfach (Fallakten Nr. {first.id}, {second.id}); "
            "bitte in der Anwendung bereinigen.") in str(error.value)
    assert counts(models)["doc_entry"] == 0
