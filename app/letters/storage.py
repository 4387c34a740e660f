"""Files of letters and templates under ``<instance>/files/``: written once, read back only if the SHA-256 holds.

Paths in the database are relative to that folder, so an installation can move. Folders are readable by
the owner only (letters carry personal data). A file written in a transaction that is then rolled back
(or closed without commit) is removed again, so no orphan stays behind.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import settings

_PENDING = "fs_letters_new_files"
_DOOMED = "fs_files_to_remove"


class FileIntegrityError(Exception):
    """An archived file is missing or no longer matches its SHA-256; ``message`` is German."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative, with "/"
    sha256: str
    size: int


def files_root() -> Path:
    return settings.instance_dir() / "files"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def absolute(relative: str) -> Path:
    root = files_root().resolve()
    path = (root / PurePosixPath(relative)).resolve()
    if root not in path.parents:  # a stored path never leaves the files folder
        raise FileIntegrityError("Der gespeicherte Dateipfad ist ungültig.")
    return path


def store(session: Session | None, folder: str, suffix: str, data: bytes) -> StoredFile:
    """Write ``data`` to a new file ``<folder>/<uuid><suffix>``; never overwrites."""
    relative = f"{folder.strip('/')}/{uuid.uuid4().hex}{suffix}"
    path = absolute(relative)
    _make_dirs(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)  # fails if the name exists: nothing is ever overwritten
        tmp.unlink()
    except FileExistsError:
        tmp.unlink()
        raise
    except OSError:  # a file system without hard links: the random name is the guard
        if path.exists():
            tmp.unlink()
            raise FileExistsError(path) from None
        os.rename(tmp, path)
    if session is not None:
        session.info.setdefault(_PENDING, []).append(path)
    return StoredFile(relative, sha256_of(data), len(data))


def read_verified(relative: str, sha256: str) -> bytes:
    path = absolute(relative)
    try:
        data = path.read_bytes()
    except OSError:
        raise FileIntegrityError("Die archivierte Datei fehlt im Dateiablage-Verzeichnis; "
                                 "bitte an die Administration wenden.") from None
    if sha256_of(data) != sha256:
        raise FileIntegrityError("Die archivierte Datei wurde verändert (Prüfsumme SHA-256 stimmt nicht); "
                                 "sie wird nicht ausgeliefert. Bitte an die Administration wenden.")
    return data


def _make_dirs(folder: Path) -> None:
    root = files_root()
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def remove_after_commit(session: Session, relative: str) -> None:
    """Delete the stored file ``relative`` once the transaction that deletes its row commits (a rollback
    keeps it: the row is still there and points to it)."""
    session.info.setdefault(_DOOMED, []).append(relative)


def _committed(session: Session) -> None:
    session.info.pop(_PENDING, None)
    for relative in session.info.pop(_DOOMED, []):
        try:
            absolute(relative).unlink(missing_ok=True)
        except (OSError, FileIntegrityError):  # the row is gone either way; an odd path is left alone
            pass


def _ended(session: Session, transaction) -> None:
    # The outermost transaction ended without commit: its new files are removed.
    if transaction.parent is not None or transaction.nested:
        return
    for path in session.info.pop(_PENDING, []):
        Path(path).unlink(missing_ok=True)
    session.info.pop(_DOOMED, None)


def install(session_class=Session) -> None:
    if not event.contains(session_class, "after_commit", _committed):
        event.listen(session_class, "after_commit", _committed)
        event.listen(session_class, "after_transaction_end", _ended)
