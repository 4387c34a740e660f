"""Attachments and archived letters in the history; no orphan files on disk; unknown routes, actions and
malformed numbers answer 404/400, never 500 (#11 item 7)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.integration.test_attachments import PDF, entry, upload  # noqa: F401  (the fixture)


def _history(entity, record_id):
    from app.core_models import ChangeLog
    from app.extensions import db
    return [(c.action, c.old_value, c.new_value, c.changed_by) for c in db.session.scalars(
        select(ChangeLog).where(ChangeLog.entity == entity, ChangeLog.record_id == record_id)
        .order_by(ChangeLog.id))]


def _stored_file(attachment):
    from app import settings
    return settings.instance_dir() / "files" / attachment.path


def test_upload_download_and_removal_are_in_the_entrys_history(client, entry):
    from app.core_models import Attachment
    from app.extensions import db
    login(client, "teamleitung_nord")
    upload(client, entry, "Bescheid.pdf", PDF)
    attachment = db.session.scalars(select(Attachment)).one()
    assert client.get(f"/attachments/{attachment.id}").status_code == 200
    page = client.get(f"/doc-entry/show/{entry.id}").get_data(as_text=True)
    assert "Dokument hochgeladen" in page and "Dokument heruntergeladen" in page
    path = _stored_file(attachment)
    assert path.exists()
    removed = client.post(f"/attachments/{attachment.id}/delete", follow_redirects=True)
    assert "Dokument „Bescheid.pdf“ gelöscht." in removed.get_data(as_text=True)
    assert not path.exists() and db.session.scalars(select(Attachment)).first() is None
    actions = [(action, old, new) for action, old, new, _ in _history("doc_entry", entry.id)
               if action.startswith("doc_")]
    assert actions == [("doc_added", None, "Bescheid.pdf"), ("doc_opened", None, "Bescheid.pdf"),
                       ("doc_deleted", "Bescheid.pdf", None)]
    assert {who for *_, who in _history("doc_entry", entry.id)} >= {"teamleitung_nord"}


def test_clerks_cannot_remove_documents(client, entry):
    from app.core_models import Attachment
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    upload(client, entry, "Bescheid.pdf", PDF)
    attachment = db.session.scalars(select(Attachment)).one()
    assert "Löschen" not in client.get(f"/doc-entry/show/{entry.id}").get_data(as_text=True).split("fs-attachments")[1]
    client.post(f"/attachments/{attachment.id}/delete")
    assert db.session.get(Attachment, attachment.id) is not None and _stored_file(attachment).exists()


def test_deleting_the_entry_removes_its_files_and_names_them_on_the_case(client, entry):
    from app.core_models import Attachment
    from app.extensions import db
    login(client, "teamleitung_nord")
    upload(client, entry, "Scan.pdf", PDF)
    attachment = db.session.scalars(select(Attachment)).one()
    path, case_id = _stored_file(attachment), entry.case_id
    assert path.exists()
    client.post(f"/doc-entry/delete/{entry.id}")
    db.session.expire_all()
    assert db.session.scalars(select(Attachment)).first() is None
    assert not path.exists(), "the file of a deleted entry's attachment stays on disk"
    assert ("doc_deleted", "Scan.pdf", None, "teamleitung_nord") in _history("case", case_id)
    assert "Dokument gelöscht" in client.get(f"/case/show/{case_id}").get_data(as_text=True)


def test_a_rolled_back_removal_keeps_the_file(ctx, entry):
    from app.actor import Actor
    from app.core_models import Attachment
    from app.extensions import db
    from app.services import attachments
    actor = Actor.system("test")
    attachment = attachments.attach(db.session, entry.id, "Bleibt.pdf", PDF, actor=actor)
    db.session.commit()
    attachments.remove(db.session, attachment.id, actor)
    db.session.rollback()
    kept = db.session.scalars(select(Attachment)).one()
    assert _stored_file(kept).exists()


@pytest.mark.parametrize(("method", "url", "data", "status"), [
    ("get", "/case/download/x", None, 404),
    ("post", "/case/action_post", {"action": "gibtsnicht", "rowid": ["1"]}, 400),
    ("get", "/case/action/gibtsnicht/1", None, 404),
    ("get", "/case/show/abc", None, 404),
    ("get", "/case/edit/1%20or%201", None, 404),
    ("post", "/case/delete/abc", None, 404),
    ("get", "/api/v1/case/abc", None, 405),  # FAB's REST routes: GET takes an integer pk only
    ("put", "/api/v1/case/abc", None, 404),
    ("get", "/attachments/abc", None, 404),
])
def test_unknown_routes_and_actions_are_404_or_400(client, method, url, data, status):
    login(client, "teamleitung_nord")
    response = getattr(client, method)(url, data=data)
    assert response.status_code == status, (url, response.status_code)
