"""Documents from outside on a documentation entry: type and size checked, stored with its SHA-256,
downloadable with the case's permissions only."""
from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import login

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def entry(ctx, factory):
    from app.extensions import db
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    service = registry.model("service")
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Wonlos")
    case = factory("case", "nord", client=person, opened_on=date(2026, 11, 2), status=factory.value("case_status", "open"))
    note = db.session.scalars(select(service).where(service.code == "notiz")).one()
    return factory("doc_entry", "nord", case=case, service=note, entry_date=date(2026, 11, 3), info="Scan Mietvertrag")


def upload(client, entry, name, data, note=""):
    return client.post(f"/attachments/entry/{entry.id}", data={"file": (io.BytesIO(data), name), "note": note},
                       content_type="multipart/form-data", follow_redirects=True)


def test_pdf_is_stored_outside_the_database_with_its_hash(client, entry):
    from app import settings
    from app.core_models import Attachment
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    html = upload(client, entry, "Mietvertrag.pdf", PDF, "vom Vermieter").get_data(as_text=True)
    assert "Dokument „Mietvertrag.pdf“ gespeichert." in html and "Mietvertrag.pdf" in html
    stored = db.session.scalars(select(Attachment)).one()
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest() and stored.content_type == "application/pdf"
    assert (settings.instance_dir() / "files" / stored.path).read_bytes() == PDF
    download = client.get(f"/attachments/{stored.id}")
    assert download.status_code == 200 and download.data == PDF
    assert "Mietvertrag.pdf" in download.headers["Content-Disposition"]


@pytest.mark.parametrize(("name", "data", "message"), [
    ("virus.pdf", b"MZ\x90\x00 this is an exe", "keine PDF, JPEG, PNG oder TIFF-Datei"),
    ("leer.pdf", b"", "ist leer"),
], ids=["wrong-type-by-content", "empty"])
def test_bad_files_are_refused_with_a_german_message(client, entry, name, data, message):
    from app.core_models import Attachment
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    html = upload(client, entry, name, data).get_data(as_text=True)
    assert message in html
    assert db.session.scalars(select(Attachment)).first() is None


def test_too_big_is_refused(client, entry, monkeypatch):
    from app.services import attachments
    monkeypatch.setattr(attachments, "MAX_BYTES", 100)
    login(client, "sachbearbeitung_nord")
    assert "ist zu groß" in upload(client, entry, "gross.pdf", PDF + b"x" * 200).get_data(as_text=True)


def test_other_unit_cannot_upload_or_download(client, ctx, entry):
    from app.core_models import Attachment
    from app.extensions import db
    from app.actor import Actor
    from app.services.attachments import attach
    stored = attach(db.session, entry.id, "Bescheid.pdf", PDF, actor=Actor.system("test"))  # no request: say who
    db.session.commit()
    login(client, "sachbearbeitung_sued")
    assert client.get(f"/attachments/{stored.id}").status_code == 404
    assert upload(client, entry, "x.pdf", PDF).status_code == 404
    assert len(list(db.session.scalars(select(Attachment)))) == 1
