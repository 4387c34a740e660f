"""Make, archive and hand out letters: render, store outside the database, hash, and check on every download.

1. A letter belongs to its case's org unit and is made only for a case the user may see.
2. The .docx (and the PDF when LibreOffice is installed) are stored once with their SHA-256; the row is
   never changed. A download whose file no longer matches is refused.
3. Reading a letter obeys the org-unit rule of the letter and of its case (app/scoping.py).
4. The caller owns the transaction: nothing is committed here; files of a rolled-back letter are removed.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..actor import Actor
from ..metamodel.build_models import built_registry
from ..problems import Problem, Source
from ..scoping import can_see_record, scope_query
from .models import Letter
from .pdf import PdfError, convert_to_pdf, pdf_enabled
from .placeholders import missing_values
from .render import TemplateProblem, needed_placeholders, render_docx
from .sources import acting, visible_case
from .storage import read_verified, store
from .versions import LetterError, newest_version, version_bytes

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


class LetterNotFound(LetterError):
    """No such letter, or not for this user (shown as 404)."""


@dataclass(frozen=True)
class LetterFile:
    name: str
    data: bytes
    mimetype: str


@dataclass
class SeriesItem:
    case: object  # a case record or id
    context: dict
    doc_entry_id: int | None = None
    label: str = field(default="")  # how the item is named in messages, e.g. the file number


def _safe(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-")[:60]


def letter_file_name(template_code: str, case, recipient_surname: str, today: date) -> str:
    number = getattr(case, "file_number", None) or f"Fall{case.id}"
    parts = [today.isoformat(), template_code, _safe(number), _safe(recipient_surname or "")]
    return "_".join(p for p in parts if p) + ".docx"


def _user_name(user) -> str:
    return getattr(user, "username", None) or str(user or "system")


def make_letter(session: Session, template_code: str, context: dict, *, case, doc_entry_id, org_unit_id, user,
                pdf: bool | None, series_job_id: int | None, today: date | None,
                actor: Actor | None = None) -> tuple[Letter, bytes]:
    """``generate_letter`` that also returns the .docx bytes (for series)."""
    case = visible_case(session, case, acting(user, actor))
    unit = case.org_unit_id if org_unit_id is None else org_unit_id
    if unit != case.org_unit_id:
        raise LetterError("Ein Brief gehört zur Dienststelle seiner Fallakte.")
    version = newest_version(session, template_code)
    data = render_docx(version_bytes(version), context)
    today = today or clock.today()
    folder = f"letters/{today:%Y}/{today:%m}"
    stored = store(session, folder, ".docx", data)
    pdf_stored, problem = None, None
    if pdf or (pdf is None and pdf_enabled()):
        try:
            pdf_stored = store(session, folder, ".pdf", convert_to_pdf(data))
        except PdfError as exc:
            problem = exc.message
    recipient = context.get("recipient", {})
    letter = Letter(case_id=case.id, doc_entry_id=doc_entry_id, org_unit_id=unit, template_version_id=version.id,
                    series_job_id=series_job_id, recipient=str(recipient.get("name") or "")[:200] or None,
                    file_name=letter_file_name(template_code, case, str(recipient.get("surname") or ""), today),
                    sha256=stored.sha256, size=stored.size, path=stored.path,
                    pdf_path=pdf_stored.path if pdf_stored else None,
                    pdf_sha256=pdf_stored.sha256 if pdf_stored else None, created_by=_user_name(user))
    session.add(letter)
    session.flush()
    _log_archived(session, letter)
    letter.pdf_problem = problem  # not stored: shown once to the clerk who made the letter
    return letter, data


def _log_archived(session: Session, letter: Letter) -> None:
    """The archived letter in the history of its case (and of its entry): who made which letter when."""
    from ..core_models import ChangeLog, utcnow
    now = utcnow()
    targets = [("case", letter.case_id)] + ([("doc_entry", letter.doc_entry_id)] if letter.doc_entry_id else [])
    for entity, record_id in targets:
        session.add(ChangeLog(entity=entity, record_id=record_id, action="letter_archived", field="Brief",
                              new_value=letter.file_name, changed_by=letter.created_by, changed_at=now))


def generate_letter(session: Session, template_code: str, context: dict, *, case, doc_entry_id: int | None = None,
                    org_unit_id: int | None = None, user, pdf: bool | None = None, series_job_id: int | None = None,
                    today: date | None = None, actor: Actor | None = None) -> Letter:
    """Render the newest version of ``template_code`` with ``context`` and archive it for ``case``.

    ``pdf``: None makes a PDF when LibreOffice is installed (and PDFs are not switched off), False never,
    True always; a failed conversion is reported in ``letter.pdf_problem`` and the .docx archived regardless.
    Raises TemplateProblem or LetterError with a German message."""
    letter, _ = make_letter(session, template_code, context, case=case, doc_entry_id=doc_entry_id,
                            org_unit_id=org_unit_id, user=user, pdf=pdf, series_job_id=series_job_id, today=today,
                            actor=actor)
    return letter


def _visible_letter(session: Session, letter_id: int, actor: Actor | None = None) -> Letter:
    letter = session.get(Letter, letter_id)
    Case = built_registry().model("case")
    if letter is None or not can_see_record(letter, actor) or session.scalar(
            scope_query(select(Case.id).where(Case.id == letter.case_id), Case, actor=actor)) is None:
        raise LetterNotFound("Brief nicht gefunden (oder Sie haben keinen Zugriff darauf).")
    return letter


def letter_file(session: Session, letter_id: int, kind: str = "docx", actor: Actor | None = None) -> LetterFile:
    """The archived file of a letter, checked against its SHA-256 (FileIntegrityError if it differs)."""
    letter = _visible_letter(session, letter_id, actor)
    if kind == "pdf":
        if not letter.pdf_path:
            raise LetterNotFound("Zu diesem Brief gibt es kein PDF.")
        return LetterFile(letter.pdf_name, read_verified(letter.pdf_path, letter.pdf_sha256), PDF_TYPE)
    return LetterFile(letter.file_name, read_verified(letter.path, letter.sha256), DOCX_TYPE)


def letters_of_case(session: Session, case_id: int, actor: Actor | None = None) -> list[Letter]:
    case = visible_case(session, case_id, actor)
    query = select(Letter).where(Letter.case_id == case.id).order_by(Letter.created_at.desc(), Letter.id.desc())
    return list(session.scalars(scope_query(query, Letter, actor=actor)))


def series_problems(session: Session, template_code: str, items: Iterable[SeriesItem]) -> list[Problem]:
    """What stops letters of a series, checked before any is made (each item named)."""
    template = version_bytes(newest_version(session, template_code))
    needed = needed_placeholders(template)
    problems = []
    for n, item in enumerate(items, start=1):
        for label in missing_values(item.context, needed):
            problems.append(Problem("letter.E020", f"Für diesen Brief fehlt: {label}.",
                                    Source(item.label or f"Brief {n}")))
    return problems


def generate_series(session: Session, template_code: str, items: list[SeriesItem], *, user, pdf: bool = False,
                    progress: Callable[[int, int], None] | None = None, series_job_id: int | None = None,
                    today: date | None = None) -> bytes:
    """Make and archive one letter per item; returns a zip of all .docx files (numbered in item order).

    Every item is checked first: if any lacks data, TemplateProblem lists them all and nothing is made.
    ``progress(done, total)`` is called after each letter. Nothing is committed: all or nothing is the
    caller's transaction (the web pages use series.py, which makes letters in short steps)."""
    problems = series_problems(session, template_code, items)
    if problems:
        raise TemplateProblem(problems)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, item in enumerate(items, start=1):
            try:
                letter, data = make_letter(session, template_code, item.context, case=item.case,
                                           doc_entry_id=item.doc_entry_id, org_unit_id=None, user=user, pdf=pdf,
                                           series_job_id=series_job_id, today=today)
            except (TemplateProblem, LetterError) as exc:
                raise TemplateProblem.of_letter(item.label or f"Brief {n}", exc) from None
            archive.writestr(f"{n:03d}_{letter.file_name}", data)
            if progress is not None:
                progress(n, len(items))
    return buffer.getvalue()
