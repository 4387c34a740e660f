"""The shared import pipeline with a database (issue #10): bulk rows carry what the ORM path writes (audit
columns, search twins, history, documentation rules), batches beyond one executemany, all-or-nothing in a big
file, ids that the next ORM insert does not collide with, the street directory's duplicates and encodings,
and the upload page (check with problems, then import, with progress)."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app import clock
from app.core_models import ChangeLog, Street
from app.extensions import db
from app.integrations import pipeline
from app.integrations.events_import import PLACEHOLDER_SURNAME, EventImportError
from app.integrations.streets import StreetImportError
from tests.conftest import login
from tests.integration.test_events_import import HEADER, TODAY, counts, run
from tests.integration.test_streets import run_import, streets


@pytest.fixture
def models(ctx):
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    return {name: registry.model(name) for name in ("case", "partner", "doc_entry", "task", "service")}


def history(entity: str, record_id: int) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(ChangeLog.action, ChangeLog.field, ChangeLog.new_value, ChangeLog.changed_by)
        .where(ChangeLog.entity == entity, ChangeLog.record_id == record_id).order_by(ChangeLog.id))]


def test_bulk_rows_carry_what_the_orm_path_writes(tmp_path, models, factory):
    run(tmp_path, HEADER + "N-1;nord;klage_eingang;18.11.2026;\n")  # a recent lawsuit: its follow-up is created
    db.session.expire_all()
    Case, Partner, Entry, Task = models["case"], models["partner"], models["doc_entry"], models["task"]
    case = db.session.scalars(select(Case).where(Case.external_ref == "N-1")).one()
    entry = db.session.scalars(select(Entry).where(Entry.case_id == case.id)).one()
    task = db.session.scalars(select(Task).where(Task.case_id == case.id)).one()
    client = case.client
    for record in (case, entry, task, client):
        assert (record.created_by, record.updated_by) == ("import", "import")
        assert record.created_at is not None and record.created_at == record.updated_at
    # The documentation rules, as before_flush applies them.
    assert (entry.measurement_point.code, entry.counts_as_contact, entry.provider_id) == ("klage_eingang", False, None)
    assert (task.source_entry_id, task.due_on, task.state.code, task.org_unit_id) == (
        entry.id, date(2026, 11, 23), "open", case.org_unit_id)
    # Search twins and phonetic codes as the history listener derives them for an ORM insert.
    twin = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname=PLACEHOLDER_SURNAME,
                   first_name="N-1")
    derived = ("surname_lc", "first_name_lc", "surname_phon", "first_name_phon")
    assert [getattr(client, c) for c in derived] == [getattr(twin, c) for c in derived]
    assert case.external_ref_lc == "n-1" and case.file_number_lc == "n-1"
    # History: every record's creation, and the entry on the case's page, as the flush listeners write them.
    assert history("doc_entry", entry.id) == [("create", None, None, "import")]
    assert history("task", task.id) == [("create", None, None, "import")]
    assert history("partner", client.id) == [("create", None, None, "import")]
    assert history("case", case.id) == [("create", None, None, "import"),
                                        ("entry_added", "doc_entry", str(entry), "import")]


def test_a_task_done_by_an_imported_entry_has_its_history(tmp_path, models, factory):
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Wonlos")
    case = factory("case", "nord", client=person, opened_on=date(2026, 11, 2), external_ref="N-5",
                   status=factory.value("case_status", "open"))
    letter = db.session.scalars(select(models["service"]).where(
        models["service"].code == "einladung_raeumungsklage")).one()
    factory("doc_entry", "nord", case=case, service=letter, entry_date=date(2026, 11, 16))  # opens "1. Hausbesuch"
    run(tmp_path, HEADER + "N-5;nord;hausbesuch;19.11.2026;ja\n")
    db.session.expire_all()
    task, = db.session.scalars(select(models["task"]).where(models["task"].case_id == case.id))
    assert (task.state.code, task.done_on, task.updated_by) == ("done", date(2026, 11, 19), "import")
    assert ("update", "state", "erledigt", "import") in [(a, f, n.lower() if n else n, b)
                                                         for a, f, n, b in history("task", task.id)]


def test_many_rows_in_several_batches_and_the_next_orm_insert_gets_a_fresh_id(tmp_path, models, factory,
                                                                              monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH", 400)  # 1,000 rows: three batches and a rest, quickly
    events = ("klage_eingang", "kontakt", "hausbesuch", "zr_termin")
    rows = "".join(f"B-{i // 4:04d};{'nord' if i % 8 < 4 else 'sued'};{events[i % 4]};{1 + i % 28:02d}.0{1 + i % 9}.2024;\n"
                   for i in range(1000))
    result = run(tmp_path, HEADER + rows)
    assert (result.rows, result.cases_created, result.entries_created) == (1000, 250, 1000)
    assert counts(models) == {"case": 250, "partner": 250, "doc_entry": 1000, "task": 0}
    # Each entry is on the case its row names (ids in batches map back to the right rows).
    Entry, Case = models["doc_entry"], models["case"]
    pairs = set(db.session.execute(select(Case.external_ref, Entry.entry_date).join(Case, Entry.case_id == Case.id)))
    assert ("B-0010", date(2024, 5, 13)) in pairs and len(pairs) == 1000
    # An ORM insert after the bulk insert: its id comes after the imported ones (PostgreSQL: the sequence).
    top = db.session.scalar(select(func.max(Entry.id)))
    case = db.session.scalars(select(Case).where(Case.external_ref == "B-0000")).one()
    service = db.session.scalars(select(models["service"]).where(models["service"].code == "hausbesuch")).one()
    assert factory("doc_entry", "nord", case=case, service=service, entry_date=date(2024, 12, 1)).id > top
    again = run(tmp_path, HEADER + rows)
    assert (again.entries_created, again.entries_unchanged) == (0, 1000)


def test_a_bad_last_row_of_a_big_file_writes_nothing(tmp_path, models, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH", 300)
    rows = "".join(f"B-{i:04d};nord;kontakt;01.03.2024;\n" for i in range(900))
    with pytest.raises(EventImportError) as error:
        run(tmp_path, HEADER + rows + "B-9999;nord;kontakt;01.13.2024;\n")
    assert str(error.value).splitlines()[1:] == ["Zeile 902: Datum „01.13.2024“ gibt es nicht."]
    assert error.value.problems[0].source.column == "datum"
    assert counts(models) == {"case": 0, "partner": 0, "doc_entry": 0, "task": 0}


def test_windows_1252_and_tabs_read_with_their_umlauts(tmp_path, models):
    result = run(tmp_path, (HEADER.replace(";", "\t") + "SÜD-1\tFachstelle Süd\tkontakt\t01.03.2024\t\n").encode("cp1252"))
    assert result.entries_created == 1
    assert db.session.scalars(select(models["case"].external_ref)).one() == "SÜD-1"


def test_streets_duplicate_with_another_district_is_an_error_and_cp1252_is_read(ctx, tmp_path):
    with pytest.raises(StreetImportError) as error:
        run_import(tmp_path, "Straße;PLZ;Ort;Ortsteil\n"
                             "Am Markt;47110;Musterhausen;Mitte\n"
                             "Am Markt;47110;Musterhausen;Mitte\n"      # the same line twice: fine
                             "Am Markt;47110;Musterhausen;Altstadt\n")
    assert str(error.value).splitlines()[1] == (
        "Zeile 4: Am Markt, 47110 Musterhausen steht schon in Zeile 2 mit Ortsteil „Mitte“, hier mit „Altstadt“.")
    assert [(p.id, p.source.column) for p in error.value.problems] == [("import.E005", "Ortsteil")]
    assert streets() == []
    result = run_import(tmp_path, "Straße;PLZ;Ort\r\nKönigstraße;47110;Musterhausen\r\n".encode("cp1252"))
    assert result.added == 1 and streets() == [("Königstraße", "47110", "Musterhausen", None)]
    assert db.session.scalars(select(Street.name_lc)).one() == "königstraße"


def _upload(client, content: bytes, name: str = "liste.csv", kind: str = "events") -> str:
    response = client.post("/import/check", data={"kind": kind, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_upload_page_checks_then_imports(client, models):
    login(client, "fachadmin_nord")
    form = client.get("/import/").get_data(as_text=True)
    assert "Prüfen (Probelauf)" in form and 'name="csrf_token"' in form and "fall_id;bezirk;ereignis" in form
    bad = _upload(client, (HEADER + "N-1;nord;kontakt;01.03.2024;\nN-2;nord;kontakt;31.02.2024;\n").encode())
    assert "liste.csv: Nichts importiert, die Datei enthält Fehler:" in bad
    assert "Zeile 3: Datum „31.02.2024“ gibt es nicht." in bad and "Jetzt importieren" not in bad
    good = (HEADER + "N-1;nord;klage_eingang;18.11.2026;\nN-1;nord;kontakt;19.11.2026;\n").encode()
    with clock.frozen(TODAY):  # the import's day is Berlin's today: the lawsuit's follow-up is not yet due
        checked = _upload(client, good)
    assert "Probelauf (--dry-run) für liste.csv" in checked and "Doku-Einträge: 2 neu, 0 unverändert." in checked
    assert 'class="fs-import-progress">… 2 von 2 Zeilen geprüft' in checked
    db.session.rollback()
    assert counts(models)["doc_entry"] == 0  # the check wrote nothing
    token = re.search(r'name="token" value="([^"]+)"', checked).group(1)
    with clock.frozen(TODAY):
        done = client.post("/import/run", data={"token": token}).get_data(as_text=True)
    assert "Ereignisse aus liste.csv importiert." in done and "Doku-Einträge: 2 neu" in done
    db.session.rollback()
    assert counts(models) == {"case": 1, "partner": 1, "doc_entry": 2, "task": 1}
    entry = db.session.scalars(select(models["doc_entry"])).first()
    assert entry.created_by == "fachadmin_nord"  # who uploaded it, as for a form
    # The upload is gone after the import: the same token does not import twice.
    again = client.post("/import/run", data={"token": token}, follow_redirects=True).get_data(as_text=True)
    assert "nicht mehr vorhanden" in again
    assert counts(models)["doc_entry"] == 2


def test_upload_page_for_streets_and_an_unreadable_file(client):
    login(client, "fachadmin_nord")
    page = _upload(client, "Straße;PLZ;Ort\nAm Markt;47110;Musterhausen\n".encode("cp1252"), "s.csv", "streets")
    assert "Straßenverzeichnis: 1 neu, 0 aktualisiert, 0 unverändert." in page and "Jetzt importieren" in page
    page = _upload(client, b"PK\x03\x04\x00\x00", "mappe.xlsx")
    assert "Die Datei ist keine CSV-Datei" in page and "Jetzt importieren" not in page


def test_upload_page_needs_the_import_permission(client):
    login(client, "sachbearbeitung_nord")
    assert client.get("/import/").status_code in (302, 403)
    response = client.post("/import/check", data={"kind": "events", "file": (io.BytesIO(b"x"), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 403)
