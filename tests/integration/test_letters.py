"""Letters end to end (SQLite and PostgreSQL): every shipped template for a real case, archive and download with
SHA-256, org-unit isolation (404), immutability, template upload check, series letters with progress.
"""
from __future__ import annotations

import io
import os
import stat
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import delete, func, select

from app.actor import Actor
from tests.conftest import login
from tests.unit.letter_docs import docx_with, text_of

SYSTEM = Actor.system("test")  # outside a request the archive shows nothing without an actor (#10)

CODES = ["einladung_raeumungsklage", "anschreiben_zwangsraeumung", "einladung_allgemein", "bescheid"]
EXTRA = {"appointment": {"date": date(2026, 11, 12), "time": "10:30"},
         "notice": {"subject": "Übernahme von Mietschulden", "decision": "Die Mietschulden werden übernommen.",
                    "reasons": "Die Wohnung wird so erhalten."}}
GRANTS = [("can_create", "LetterView"), ("can_series", "LetterView"), ("can_form", "MyLetterheadView")]


@pytest.fixture(scope="module")
def letter_permissions(app):
    """roles.yaml grants letter writing with documentation writing (build_roles.LETTER_WRITING)."""
    sm = app.appbuilder.sm
    with app.app_context():
        granted = {(pv.permission.name, pv.view_menu.name) for pv in sm.find_role("Sachbearbeitung").permissions}
    assert set(GRANTS) <= granted
    yield


class _AsUser:
    """A logged-in client whose requests each start without the per-request caches of ``g``.

    The ``ctx`` fixture keeps an app context open, and Flask reuses it (and its ``g``) for test requests,
    so the user loaded by one client's request would be seen by the next client's."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)
        if name not in ("get", "post"):
            return method

        def call(*args, **kwargs):
            _forget_request_caches()
            return method(*args, **kwargs)
        return call


def _forget_request_caches():
    from flask import g
    for key in ("_login_user", "_fs_org_units", "_fs_permissions"):
        g.pop(key, None)


@pytest.fixture
def users(user_client):
    def get(name):
        _forget_request_caches()  # the login itself must not see the previous client's user
        return _AsUser(user_client(name))
    return get


@pytest.fixture
def world(ctx, factory, letter_permissions):
    """A client with an address, a case with its housing-emergency page, letterhead data; cleaned up after."""
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.letters.models import Letter, LetterSeriesJob, OfficeDetails, StaffDetails
    from app.letters.versions import seed_letter_templates

    ctx.config["FACHSTELLE_LETTERS_PDF"] = "off"
    seed_letter_templates(db.session)
    db.session.commit()
    sm = ctx.appbuilder.sm
    nord = db.session.scalars(select(OrgUnit).where(OrgUnit.code == "nord")).one()
    clerk = sm.find_user(username="sachbearbeitung_nord")
    clerk.first_name, clerk.last_name = "Max", "Supervisor"
    db.session.add(StaffDetails(user_id=clerk.id, address_as="Herr", room="204", phone="0411/11151223", sign="27/92"))
    db.session.add(OfficeDetails(org_unit_id=nord.id, authority="Stadt Paderborn",
                                 consultation_hours="Di und Do 9–12 Uhr",
                                 legal_remedy="Gegen diesen Bescheid kann Klage erhoben werden."))
    db.session.commit()
    person = factory.value("partner_kind", "person")
    partner = factory("partner", "nord", kind_id=person.id, surname="Wonlos", first_name="Günther",
                      sex_id=factory.value("sex", "male").id, title="Dr.")
    factory("address", "nord", partner_id=partner.id, kind_id=factory.value("address_kind", "main").id,
            street="Lagesche Str.", house_number="1", postcode="33102", city="Paderborn", country="Deutschland")
    case = factory("case", "nord", client_id=partner.id, file_number="2026/0815", opened_on=date(2026, 11, 1),
                   status_id=factory.value("case_status", "open").id)
    factory("housing_emergency", "nord", case_id=case.id, started_on=date(2026, 11, 1),
            eviction_date=date(2026, 12, 15), rent_arrears=Decimal("1200.00"))
    homeless = factory("partner", "nord", kind_id=person.id, surname="Ohneadresse", first_name="Olga",
                       sex_id=factory.value("sex", "female").id)
    case2 = factory("case", "nord", client_id=homeless.id, file_number="2026/0816", opened_on=date(2026, 11, 2),
                    status_id=factory.value("case_status", "open").id)
    yield {"case": case, "case2": case2, "partner": partner, "clerk": clerk, "unit": nord, "factory": factory}
    db.session.rollback()
    for model in (Letter, LetterSeriesJob, StaffDetails, OfficeDetails):
        db.session.execute(delete(model))  # Core delete: the archive's own guard refuses ORM deletes
    db.session.commit()
    ctx.config.pop("FACHSTELLE_LETTERS_PDF", None)


def _letter(world, code, pdf=False):
    from app.extensions import db
    from app.letters.archive import generate_letter
    from app.letters.sources import case_letter_context
    context = case_letter_context(db.session, world["case"].id, user=world["clerk"], today=date(2026, 11, 3),
                                  extra=EXTRA)
    letter = generate_letter(db.session, code, context, case=world["case"], doc_entry_id=None,
                             org_unit_id=world["unit"].id, user=world["clerk"], pdf=pdf, today=date(2026, 11, 3))
    db.session.commit()
    return letter


@pytest.mark.parametrize("code", CODES)
def test_every_shipped_template_makes_a_letter_to_the_client(world, code):
    import hashlib

    from app.extensions import db
    from app.letters.archive import letter_file
    from app.letters.storage import absolute
    letter = _letter(world, code)
    found = letter_file(db.session, letter.id, actor=SYSTEM)
    assert hashlib.sha256(found.data).hexdigest() == letter.sha256 and len(found.data) == letter.size
    text = text_of(found.data)
    document = Document(io.BytesIO(found.data))  # opens as a Word document
    assert document.paragraphs
    for expected in ("Herrn\nDr. Günther Wonlos\nLagesche Str. 1\n33102 Paderborn", "Sehr geehrter Herr Dr. Wonlos,",
                     "Auskunft erteilt\tHerr Supervisor", "Mein Zeichen\t27/92", "Datum\t03.11.2026", "Max Supervisor"):
        assert expected in text, (code, expected)
    assert letter.org_unit_id == world["unit"].id and letter.template_version.template.code == code
    assert letter.file_name == f"2026-11-03_{code}_2026-0815_Wonlos.docx"
    path = absolute(letter.path)
    assert Path(path).is_file() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    if code == "anschreiben_zwangsraeumung":
        assert "15.12.2026" in text and "Di und Do 9–12 Uhr" in text
    if code == "einladung_raeumungsklage":
        assert "Donnerstag, 12.11.2026, um 10:30 Uhr" in text
    if code == "bescheid":
        assert "Gegen diesen Bescheid kann Klage erhoben werden." in text


def test_seed_is_idempotent_and_keeps_admin_versions(world):
    from app.extensions import db
    from app.letters.models import LetterTemplateVersion
    from app.letters.versions import seed_letter_templates
    before = db.session.scalar(select(func.count()).select_from(LetterTemplateVersion))
    assert seed_letter_templates(db.session) == 0
    assert db.session.scalar(select(func.count()).select_from(LetterTemplateVersion)) == before


def test_letter_without_needed_data_is_refused_naming_it(world):
    from app.extensions import db
    from app.letters.archive import generate_letter
    from app.letters.render import TemplateProblem
    from app.letters.sources import case_letter_context
    context = case_letter_context(db.session, world["case2"].id, user=world["clerk"])
    with pytest.raises(TemplateProblem) as caught:
        generate_letter(db.session, "einladung_raeumungsklage", context, case=world["case2"], user=world["clerk"])
    assert {p.id for p in caught.value.problems} == {"letter.E020"}
    assert caught.value.lines == [
        "Für diesen Brief fehlt: Anschrift des Empfängers (beim Partner ist heute keine vollständige Adresse gültig).",
        "Für diesen Brief fehlt: Termin: Datum.", "Für diesen Brief fehlt: Termin: Uhrzeit."]


def test_clerk_makes_a_letter_on_the_page_and_downloads_it(world, client):
    import hashlib

    from app.extensions import db
    from app.letters.models import Letter
    login(client, "sachbearbeitung_nord")
    case_id = world["case"].id
    form = client.get(f"/letters/case/{case_id}/new?template=einladung_raeumungsklage").get_data(as_text=True)
    assert "Datum des Termins" in form and "Uhrzeit des Termins" in form
    bad = client.post(f"/letters/case/{case_id}/new", data={"template": "einladung_raeumungsklage",
                                                            "f_appointment__date": "31.02.2026"})
    assert bad.status_code == 200
    assert "„Datum des Termins“: kein gültiges Datum (TT.MM.JJJJ)." in bad.get_data(as_text=True)
    response = client.post(f"/letters/case/{case_id}/new", data={
        "template": "einladung_raeumungsklage", "f_appointment__date": "12.11.2026", "f_appointment__time": "9:30"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    listing = client.get(f"/letters/case/{case_id}").get_data(as_text=True)
    assert "Räumungsklage: Einladung zu einem Gespräch (QS 1.1)" in listing and "Dr. Günther Wonlos" in listing
    letter = db.session.scalars(select(Letter).where(Letter.case_id == case_id)).one()
    assert letter.created_by == "sachbearbeitung_nord"
    download = client.get(f"/letters/{letter.id}/docx")
    assert download.status_code == 200
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert hashlib.sha256(download.data).hexdigest() == letter.sha256
    assert "Donnerstag, 12.11.2026, um 09:30 Uhr" in text_of(download.data)
    assert client.get(f"/letters/{letter.id}/pdf").status_code == 404  # PDFs are off in this test


def test_other_units_user_gets_404_everywhere(world, users):
    letter = _letter(world, "einladung_allgemein")
    sued = users("sachbearbeitung_sued")
    case_id = world["case"].id
    for url in (f"/letters/{letter.id}/docx", f"/letters/{letter.id}/pdf", f"/letters/case/{case_id}",
                f"/letters/case/{case_id}/new?template=einladung_allgemein"):
        response = sued.get(url)
        assert response.status_code == 404, url
        assert b"Wonlos" not in response.data
    post = sued.post(f"/letters/case/{case_id}/new", data={"template": "einladung_allgemein",
                                                           "f_appointment__date": "12.11.2026"})
    assert post.status_code == 404
    admin = users("admin")
    assert admin.get(f"/letters/{letter.id}/docx").status_code == 200


def test_read_only_profile_downloads_but_cannot_make_letters(world, users):
    letter = _letter(world, "einladung_allgemein")
    controlling = users("controlling_nord")
    assert controlling.get(f"/letters/{letter.id}/docx").status_code == 200
    assert controlling.get(f"/letters/case/{world['case'].id}").status_code == 200
    assert controlling.get(f"/letters/case/{world['case'].id}/new").status_code == 403
    assert controlling.get("/letters/series/").status_code == 403
    assert controlling.get("/letter-templates/").status_code == 403


def test_a_changed_file_is_not_handed_out(world, users):
    from app.letters.storage import absolute
    letter = _letter(world, "einladung_allgemein")
    path = absolute(letter.path)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    response = users("sachbearbeitung_nord").get(f"/letters/{letter.id}/docx")
    assert response.status_code == 409
    assert "Prüfsumme SHA-256 stimmt nicht" in response.get_data(as_text=True)


def test_archived_letters_and_versions_cannot_be_changed_or_deleted(world):
    from app.extensions import db
    from app.letters.models import ImmutableRecordError
    letter = _letter(world, "einladung_allgemein")
    letter.file_name = "anders.docx"
    with pytest.raises(ImmutableRecordError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(letter.template_version)
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(letter)
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()


def test_rolled_back_letter_leaves_no_file(world):
    from app.extensions import db
    from app.letters.archive import generate_letter
    from app.letters.sources import case_letter_context
    from app.letters.storage import files_root
    before = {p for p in files_root().rglob("*") if p.is_file()}
    context = case_letter_context(db.session, world["case"].id, user=world["clerk"], extra=EXTRA)
    generate_letter(db.session, "einladung_allgemein", context, case=world["case"], user=world["clerk"], pdf=False)
    assert len({p for p in files_root().rglob("*") if p.is_file()} - before) == 1
    db.session.rollback()
    assert {p for p in files_root().rglob("*") if p.is_file()} == before


def test_template_upload_checks_versions_and_old_letters_keep_theirs(world, users):
    from app.extensions import db
    from app.letters.models import LetterTemplate, LetterTemplateVersion
    admin = users("admin")
    code = "probe_upload"
    try:
        created = admin.post("/letter-templates/new", data={
            "code": code, "label": "Probe", "file": (io.BytesIO(docx_with("{{ recipient.salutation }}", "Version 1")),
                                                     "probe.docx")}, content_type="multipart/form-data")
        assert created.status_code == 302
        letter1 = _letter(world, code)
        broken = admin.post(f"/letter-templates/{code}/upload", data={
            "file": (io.BytesIO(docx_with("{{ recipient.salutation }}", "{{ recipient.nmae }}")), "neu.docx")},
            content_type="multipart/form-data", follow_redirects=True)
        page = broken.get_data(as_text=True)
        assert "Die Vorlage wurde nicht übernommen:" in page
        assert "Hauptteil, Absatz 2 („{{ recipient.nmae }}“): unbekannter Platzhalter „recipient.nmae“. " \
               "Meinten Sie „recipient.name“?" in page
        not_docx = admin.post(f"/letter-templates/{code}/upload", data={
            "file": (io.BytesIO(b"%PDF-1.4"), "brief.docx")}, content_type="multipart/form-data", follow_redirects=True)
        assert "Die Datei ist keine Word-Datei (.docx)." in not_docx.get_data(as_text=True)
        wrong_name = admin.post(f"/letter-templates/{code}/upload", data={
            "file": (io.BytesIO(b"x"), "brief.doc")}, content_type="multipart/form-data", follow_redirects=True)
        assert "Bitte eine Word-Datei mit der Endung .docx hochladen." in wrong_name.get_data(as_text=True)
        template = db.session.scalars(select(LetterTemplate).where(LetterTemplate.code == code)).one()
        assert [v.version for v in template.versions] == [1]
        good = admin.post(f"/letter-templates/{code}/upload", data={
            "file": (io.BytesIO(docx_with("{{ recipient.salutation }}", "Version 2")), "neu.docx"), "note": "neu"},
            content_type="multipart/form-data", follow_redirects=True)
        assert "Version 2 gespeichert" in good.get_data(as_text=True)
        letter2 = _letter(world, code)
        assert (letter1.template_version.version, letter2.template_version.version) == (1, 2)
        assert "Version 1" in text_of(admin.get(f"/letters/{letter1.id}/docx").data)
        assert "Version 2" in text_of(admin.get(f"/letters/{letter2.id}/docx").data)
        v1 = db.session.scalars(select(LetterTemplateVersion).where(LetterTemplateVersion.template_id == template.id,
                                                                    LetterTemplateVersion.version == 1)).one()
        assert "Version 1" in text_of(admin.get(f"/letter-templates/version/{v1.id}/download").data)
        assert admin.post(f"/letter-templates/version/{v1.id}/restore").status_code == 302
        assert "Version 1" in text_of(_letter_data(world, code))
        detail = admin.get(f"/letter-templates/{code}").get_data(as_text=True)
        assert "wiederhergestellt aus Version 1" in detail and "recipient.salutation" in detail
    finally:
        from app.letters.models import Letter
        db.session.rollback()
        template_id = db.session.scalar(select(LetterTemplate.id).where(LetterTemplate.code == code))
        if template_id is not None:
            version_ids = select(LetterTemplateVersion.id).where(LetterTemplateVersion.template_id == template_id)
            db.session.execute(delete(Letter).where(Letter.template_version_id.in_(version_ids)))
            db.session.execute(delete(LetterTemplateVersion).where(LetterTemplateVersion.template_id == template_id))
            db.session.execute(delete(LetterTemplate).where(LetterTemplate.id == template_id))
            db.session.commit()


def _letter_data(world, code) -> bytes:
    from app.extensions import db
    from app.letters.archive import letter_file
    return letter_file(db.session, _letter(world, code).id, actor=SYSTEM).data


def test_admin_pages_and_clerks_are_kept_out(world, users):
    admin = users("admin")
    listing = admin.get("/letter-templates/").get_data(as_text=True)
    assert "Räumungsklage: Einladung zu einem Gespräch (QS 1.1)" in listing
    assert "{{ recipient.salutation }}" in admin.get("/letter-templates/placeholders").get_data(as_text=True)
    assert "Versionen" in admin.get("/letter-templates/einladung_raeumungsklage").get_data(as_text=True)
    for url, text in (("/staff-letterhead/list/", "Briefkopf-Angaben der Mitarbeiterinnen und Mitarbeiter"),
                      ("/staff-letterhead/add", "Mein Zeichen"), ("/office-letterhead/list/", "Stadt Paderborn"),
                      ("/office-letterhead/add", "Rechtsbehelfsbelehrung (für Bescheide)"),
                      ("/my-letterhead/", "Mein Briefkopf"), ("/letters/series/?template=bescheid", "Begründung"),
                      (f"/letters/case/{world['case'].id}/new", "– bitte wählen –")):
        response = admin.get(url)
        assert response.status_code == 200 and text in response.get_data(as_text=True), url
    clerk = users("sachbearbeitung_nord")
    assert clerk.get("/letter-templates/").status_code == 403
    assert clerk.get("/staff-letterhead/list/").status_code == 403


def test_own_letterhead_goes_into_the_letter(world, users):
    from app.extensions import db
    from app.letters.models import StaffDetails
    clerk = users("sachbearbeitung_nord")
    assert clerk.post("/my-letterhead/", data={"room": "B 12", "phone": "05251 88-123", "sign": "ZF/7",
                                               "address_as": "Herr"}).status_code == 302
    db.session.expire_all()
    details = db.session.scalars(select(StaffDetails).where(StaffDetails.user_id == world["clerk"].id)).one()
    assert (details.room, details.sign) == ("B 12", "ZF/7")
    text = text_of(_letter_data(world, "einladung_allgemein"))
    assert "Zimmer\tB 12" in text and "Mein Zeichen\tZF/7" in text and "Telefon\t05251 88-123" in text


def test_series_letters_with_progress_and_zip(world, client):
    from app.extensions import db
    from app.letters.models import Letter
    login(client, "sachbearbeitung_nord")
    other = world["case"]
    second = _second_case_with_address(world)
    response = client.post("/letters/series/", data={"template": "anschreiben_zwangsraeumung",
                                                     "cases": f"{other.file_number}\n#{second.id}"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    job_url = response.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert "Stand: wartet – 0 von 2 Briefen" in page and "Briefe jetzt erzeugen" in page
    run = client.post(job_url + "/run", headers={"Accept": "application/json"})
    assert run.get_json()["status"] == "done", run.get_json()
    status = client.get(job_url + "/status").get_json()
    assert status == {"id": status["id"], "status": "done", "label": "fertig", "done": 2, "total": 2,
                      "message": "2 Briefe erzeugt und archiviert.", "ready": True}
    assert client.post(job_url + "/run", headers={"Accept": "application/json"}).get_json()["done"] == 2  # not twice
    archive = zipfile.ZipFile(io.BytesIO(client.get(job_url + "/zip").data))
    names = archive.namelist()
    assert len(names) == 2 and names[0].startswith("001_") and "Wonlos" in names[0]
    assert "Dr. Günther Wonlos" in text_of(archive.read(names[0]))
    letters = db.session.scalars(select(Letter).where(Letter.series_job_id == status["id"])).all()
    assert sorted(letter.case_id for letter in letters) == sorted([other.id, second.id])
    # Each letter is documented: an entry of the service with this template, at its measurement point.
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    entries = {e.id: e for e in db.session.scalars(select(registry.model("doc_entry")))}
    assert all(entries[letter.doc_entry_id].measurement_point.code == "zr_anschreiben" for letter in letters)


def test_series_checks_every_case_first_and_makes_nothing(world, client):
    from app.extensions import db
    from app.letters.models import Letter, LetterSeriesJob
    login(client, "sachbearbeitung_nord")
    response = client.post("/letters/series/", data={"template": "anschreiben_zwangsraeumung",
                                                     "cases": "2026/0815\n2026/0816\nGIBTSNICHT"})
    assert "Nicht gefunden (oder kein Zugriff): GIBTSNICHT" in response.get_data(as_text=True)
    response = client.post("/letters/series/", data={"template": "anschreiben_zwangsraeumung",
                                                     "cases": "2026/0815\n2026/0816"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Die Serie wurde nicht angelegt:" in page
    assert ("Fallakte 2026/0816 (Olga Ohneadresse): Für diesen Brief fehlt: Anschrift des Empfängers (beim Partner "
            "ist heute keine vollständige Adresse gültig).") in page
    assert ("Fallakte 2026/0816 (Olga Ohneadresse): Für diesen Brief fehlt: Termin der Zwangsräumung "
            "(Seite „Zwangsräumung“ oder „Wohnungsnotfall“).") in page
    assert "2026/0815 (" not in page  # the good case is not named
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0
    assert db.session.scalar(select(func.count()).select_from(LetterSeriesJob)) == 0


def test_series_runs_in_steps_and_resumes_after_a_stalled_step(world):
    from datetime import datetime, timedelta, timezone

    from app.extensions import db
    from app.letters.series import create_job, job_for, job_status, job_zip, run_job
    second = _second_case_with_address(world)
    clerk = world["clerk"]
    job = create_job(db.session, "anschreiben_zwangsraeumung", [world["case"].id, second.id], {}, user=clerk)
    db.session.commit()
    assert run_job(db.session, job, user=clerk, budget=0)
    assert job_status(job)["status"] == "queued" and job.done == 1
    job.status, job.updated_at = "running", datetime.now(timezone.utc) - timedelta(minutes=10)  # a worker died
    db.session.commit()
    assert not run_job(db.session, job, user=clerk, budget=0)  # still marked running: not claimed
    job = job_for(db.session, job.id, clerk)
    assert job.status == "queued" and "Unterbrochen nach 1 von 2 Briefen" in job.message
    assert run_job(db.session, job, user=clerk, budget=0)
    assert job_status(job) == {"id": job.id, "status": "done", "label": "fertig", "done": 2, "total": 2,
                               "message": "2 Briefe erzeugt und archiviert.", "ready": True}
    names = zipfile.ZipFile(io.BytesIO(job_zip(job))).namelist()
    assert [n[:4] for n in names] == ["001_", "002_"] and "Wonlos" in names[0] and "Ohneadresse" in names[1]
    from flask import current_app
    stranger = current_app.appbuilder.sm.find_user(username="sachbearbeitung_sued")
    assert job_for(db.session, job.id, stranger) is None  # only the creator (and admins) see a job


def test_series_of_another_unit_is_not_found(world, users):
    nord = users("sachbearbeitung_nord")
    response = nord.post("/letters/series/", data={"template": "anschreiben_zwangsraeumung", "cases": "2026/0815"})
    job_url = response.headers["Location"]
    sued = users("sachbearbeitung_sued")
    assert sued.get(job_url).status_code == 404
    assert sued.get(job_url + "/status").status_code == 404
    assert sued.post(job_url + "/run").status_code == 404
    sued_series = sued.post("/letters/series/", data={"template": "anschreiben_zwangsraeumung", "cases": "2026/0815"})
    assert "Nicht gefunden (oder kein Zugriff): 2026/0815" in sued_series.get_data(as_text=True)


def _second_case_with_address(world):
    """Give the second client (Ohneadresse) an address and an eviction date."""
    factory = world["factory"]
    factory("address", "nord", partner_id=world["case2"].client_id, street="Weg", house_number="2", postcode="33100",
            city="Paderborn", kind_id=factory.value("address_kind", "main").id)
    factory("housing_emergency", "nord", case_id=world["case2"].id, started_on=date(2026, 11, 2),
            eviction_date=date(2027, 1, 5))
    return world["case2"]


def test_pdf_copy_through_soffice(world, tmp_path, monkeypatch):
    """A stand-in ``soffice`` on the PATH: the conversion command, the stored PDF and its download."""
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\n# arguments: ... --outdir DIR FILE\nfor last; do :; done\n"
                    "out=$(dirname \"$last\")\nprintf '%%PDF-1.4 fake' > \"$out/brief.pdf\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    world_letter = _letter(world, "einladung_allgemein", pdf=None)
    assert world_letter.pdf_path is None  # PDFs are switched off for these tests
    from flask import current_app
    current_app.config["FACHSTELLE_LETTERS_PDF"] = "auto"
    letter = _letter(world, "einladung_allgemein", pdf=None)
    from app.extensions import db
    from app.letters.archive import letter_file
    found = letter_file(db.session, letter.id, "pdf", actor=SYSTEM)
    assert found.data == b"%PDF-1.4 fake" and found.name.endswith(".pdf") and letter.pdf_sha256


@pytest.mark.skipif(not __import__("shutil").which("soffice"), reason="LibreOffice (soffice) nicht installiert")
def test_real_libreoffice_makes_a_pdf(world):
    letter = _letter(world, "einladung_raeumungsklage", pdf=True)
    assert letter.pdf_problem is None and letter.pdf_path
    from app.extensions import db
    from app.letters.archive import letter_file
    assert letter_file(db.session, letter.id, "pdf", actor=SYSTEM).data.startswith(b"%PDF")


@pytest.mark.parametrize("typed", ["10:30 Uhr", "10:30", "10.30"])
def test_series_takes_the_time_as_its_hint_writes_it(world, client, typed):
    """#11: the hint says „10:30 Uhr“; the series form takes it (and "10:30"), the letter says "10:30 Uhr" once."""
    from app.extensions import db
    from app.letters.models import Letter
    login(client, "sachbearbeitung_nord")
    page = client.get("/letters/series/?template=einladung_allgemein").get_data(as_text=True)
    assert "f_appointment__time" in page
    response = client.post("/letters/series/", data={
        "template": "einladung_allgemein", "cases": world["case"].file_number,
        "f_appointment__date": "15.12.2026", "f_appointment__time": typed, "f_appointment__place": "Zimmer 204"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    run = client.post(response.headers["Location"] + "/run", headers={"Accept": "application/json"})
    assert run.get_json()["status"] == "done", run.get_json()
    letter = db.session.scalars(select(Letter).order_by(Letter.id.desc())).first()
    from app.letters.archive import letter_file
    text = text_of(letter_file(db.session, letter.id, actor=SYSTEM).data)
    assert "10:30 Uhr" in text and "Uhr Uhr" not in text
