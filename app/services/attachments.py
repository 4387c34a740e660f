"""Documents from outside (scans, PDFs) on a documentation entry: checked, stored with a hash, delivered
only to those who may see the entry's case.

1. The type is recognised from the file's first bytes, not from its name (a renamed .exe stays out).
2. At most MAX_BYTES; an empty file is refused.
3. The file is stored outside the database; the row keeps path, size and SHA-256.
4. Upload, download and removal are in the entry's history; removing an attachment (or the entry it hangs
   on) deletes its file once the deletion commits, so no orphan stays on disk.
"""
from __future__ import annotations

from pathlib import PurePath

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from ..core_models import Attachment, ChangeLog, utcnow
from ..errors import DomainError
from ..letters.storage import FileIntegrityError, read_verified, remove_after_commit, store
from ..metamodel.build_models import built_registry
from ..actor import Actor
from ..scoping import can_see_record
from .history import change_row, current_actor

# Actions of the change log (at most 16 characters), shown as "Dokument hochgeladen" … on the record.
UPLOADED, OPENED, REMOVED = "doc_added", "doc_opened", "doc_deleted"
FIELD = "Dokument"


def _log(session: Session, entity: str, record_id: int, action: str, file_name: str, actor: Actor | None) -> None:
    who = actor.name if actor is not None else current_actor()
    old, new = (file_name, None) if action == REMOVED else (None, file_name)
    session.add(ChangeLog(**change_row(entity, record_id, action, who, utcnow(), FIELD, old, new)))

MAX_BYTES = 20 * 1024 * 1024
# (magic bytes, content type, label); scans come as PDF, JPEG, PNG or TIFF.
KNOWN_TYPES = [
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"II*\x00", "image/tiff", "TIFF"),
    (b"MM\x00*", "image/tiff", "TIFF"),
]
ALLOWED_TEXT = "PDF, JPEG, PNG oder TIFF"


class AttachmentNotFound(DomainError):
    """The entry or document does not exist or lies in another unit (the page answers 404)."""


def content_type_of(data: bytes) -> str | None:
    return next((kind for magic, kind, _ in KNOWN_TYPES if data.startswith(magic)), None)


def _visible_entry(session: Session, entry_id: int, actor: Actor | None = None):
    entry = session.get(built_registry().model("doc_entry"), entry_id)
    if entry is None or not can_see_record(entry, actor):
        raise AttachmentNotFound("Doku-Eintrag nicht gefunden.")
    return entry


def attach(session: Session, entry_id: int, file_name: str, data: bytes, note: str | None = None,
           actor: Actor | None = None) -> Attachment:
    """Check and store an uploaded document on the entry; raises DomainError with a German message."""
    entry = _visible_entry(session, entry_id, actor)
    name = PurePath((file_name or "").replace("\\", "/")).name.strip() or "Dokument"
    if not data:
        raise DomainError(f"„{name}“ ist leer.")
    if len(data) > MAX_BYTES:
        raise DomainError(f"„{name}“ ist zu groß ({len(data) / 1024 / 1024:.1f} MB); erlaubt sind höchstens "
                          f"{MAX_BYTES // 1024 // 1024} MB.")
    kind = content_type_of(data)
    if kind is None:
        raise DomainError(f"„{name}“ ist keine {ALLOWED_TEXT}-Datei (erkannt am Inhalt, nicht am Namen).")
    stored = store(session, "attachments", PurePath(name).suffix.lower()[:10], data)
    attachment = Attachment(doc_entry_id=entry.id, org_unit_id=entry.org_unit_id, file_name=name[:255],
                            content_type=kind, size=stored.size, sha256=stored.sha256, path=stored.path,
                            note=(note or "").strip()[:200] or None, uploaded_by=current_actor())
    session.add(attachment)
    _log(session, "doc_entry", entry.id, UPLOADED, attachment.file_name, actor)
    return attachment


def remove(session: Session, attachment_id: int, actor: Actor | None = None) -> Attachment:
    """Delete an attachment (row now, file after the commit); in the entry's history."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise AttachmentNotFound("Dokument nicht gefunden.")
    _visible_entry(session, attachment.doc_entry_id, actor)
    _log(session, "doc_entry", attachment.doc_entry_id, REMOVED, attachment.file_name, actor)
    remove_after_commit(session, attachment.path)
    session.delete(attachment)
    return attachment


def attachments_of(session: Session, entry_id: int, actor: Actor | None = None) -> list[Attachment]:
    _visible_entry(session, entry_id, actor)
    return list(session.scalars(select(Attachment).where(Attachment.doc_entry_id == entry_id)
                                .order_by(Attachment.uploaded_at, Attachment.id)))


def open_attachment(session: Session, attachment_id: int, actor: Actor | None = None) -> tuple[Attachment, bytes]:
    """The attachment and its verified content, if the user may see its entry."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise AttachmentNotFound("Dokument nicht gefunden.")
    _visible_entry(session, attachment.doc_entry_id, actor)
    try:
        data = read_verified(attachment.path, attachment.sha256)
    except FileIntegrityError as exc:
        raise DomainError(exc.message) from None
    # Scans of notices, medical certificates, bank statements: who opened one is kept (the caller commits).
    _log(session, "doc_entry", attachment.doc_entry_id, OPENED, attachment.file_name, actor)
    return attachment, data


def _before_flush(session: Session, flush_context, instances) -> None:
    """A deleted entry takes its attachments along (ON DELETE CASCADE): their files go after the commit,
    and the case's history names them (the entry's own history has no page any more)."""
    entries = [obj for obj in session.deleted if getattr(type(obj), "__entity__", None) == "doc_entry"]
    if not entries:
        return
    with session.no_autoflush:
        found = session.execute(select(Attachment.path, Attachment.file_name, Attachment.doc_entry_id)
                                .where(Attachment.doc_entry_id.in_([e.id for e in entries]))).all()
    if not found:
        return
    case_of = {e.id: getattr(e, "case_id", None) for e in entries}
    actor, now = current_actor(), utcnow()
    rows = []
    for path, file_name, entry_id in found:
        remove_after_commit(session, path)
        if case_of.get(entry_id) is not None:
            rows.append(change_row("case", case_of[entry_id], REMOVED, actor, now, FIELD, file_name, None))
    session.info.setdefault("fs_attachment_log", []).extend(rows)


def _after_flush(session: Session, flush_context) -> None:
    rows = session.info.pop("fs_attachment_log", [])
    if rows:
        session.connection().execute(insert(ChangeLog.__table__), rows)


def install(session_class=Session) -> None:
    """Listen on every Session of the process, once."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
