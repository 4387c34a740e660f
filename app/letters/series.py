"""Series letters as jobs: checked when created, then made in short steps that the progress page requests.

1. Creating a job checks every case first (visible to the user, data for every needed placeholder); a
   problem in any case refuses the whole series with all problems listed, and nothing is made.
2. Each run request makes letters for a few seconds (RUN_BUDGET) and returns, so no request comes near a
   worker timeout however long the series; the page asks again until the job is done. Each letter
   commits the job's counter, so any worker can answer the progress page.
3. A step is claimed atomically (queued -> running), so a second click or a second worker does not make
   letters twice; a step with no sign of life for STALE_AFTER is released again and continues where it
   stopped.
4. When the last letter is made, the ZIP is put together from the archived files (checked against their
   SHA-256) and stored with the job.
"""
from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock
from ..actor import Actor
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from .archive import SeriesItem, make_letter, series_problems
from .entries import entry_for_letter
from .models import Letter, LetterSeriesJob
from .render import TemplateProblem
from .sources import acting, case_letter_context, visible_case
from .storage import read_verified, store
from .versions import LetterError, newest_version

STATUS_LABELS = {"queued": "wartet", "running": "läuft", "done": "fertig", "failed": "fehlgeschlagen"}
STALE_AFTER = timedelta(minutes=2)
RUN_BUDGET = 5.0  # seconds of letter-making per request
MAX_CASES = 2000
MAX_PROBLEMS = 30


def _now() -> datetime:
    return clock.utcnow()


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def find_cases(session: Session, keys: list[str], actor: Actor | None = None) -> tuple[list[int], list[str]]:
    """Case ids for file numbers (or "#id"), as the user may see them; and the keys not found."""
    Case = built_registry().model("case")
    ids, unknown = [], []
    for key in (k.strip() for k in keys):
        if not key:
            continue
        if key.startswith("#") and key[1:].isdigit():
            query = select(Case.id).where(Case.id == int(key[1:]))
        else:
            query = select(Case.id).where(Case.file_number == key)
        found = list(session.scalars(scope_query(query, Case, actor=actor)))
        if len(found) == 1:
            if found[0] not in ids:
                ids.append(found[0])
        else:
            unknown.append(key if not found else f"{key} (mehrdeutig)")
    return ids, unknown


def _item(session: Session, case_id: int, fields: dict, *, user, today: date | None) -> SeriesItem:
    case = visible_case(session, case_id, acting(user))
    context = case_letter_context(session, case, user=user, today=today, extra=fields)
    label = f"Fallakte {case.file_number or case.id} ({context['recipient']['name']})"
    return SeriesItem(case=case, context=context, label=label)


def create_job(session: Session, template_code: str, case_ids: list[int], fields: dict, *, user,
               today: date | None = None) -> LetterSeriesJob:
    """A new series, after checking every case. Raises LetterError or TemplateProblem (all problems)."""
    newest_version(session, template_code)  # the template exists and is active
    if not case_ids:
        raise LetterError("Bitte mindestens eine Fallakte angeben.")
    if len(case_ids) > MAX_CASES:
        raise LetterError(f"Höchstens {MAX_CASES} Briefe je Serie.")
    items = [_item(session, case_id, fields, user=user, today=today) for case_id in case_ids]
    problems = series_problems(session, template_code, items)
    if problems:
        raise TemplateProblem(problems, limit=MAX_PROBLEMS)
    job = LetterSeriesJob(template_code=template_code, created_by_id=user.id, created_by=user.username,
                          status="queued", case_ids=json.dumps(case_ids), total=len(case_ids), done=0,
                          fields=json.dumps(_jsonable(fields)))
    session.add(job)
    session.flush()
    return job


def _jsonable(fields: dict) -> dict:
    return {group: {key: value.isoformat() if isinstance(value, date) else value for key, value in values.items()}
            for group, values in fields.items()}


def _typed(fields: dict) -> dict:
    out: dict = {}
    for group, values in fields.items():
        out[group] = {}
        for key, value in values.items():
            if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    pass
            out[group][key] = value
    return out


def job_for(session: Session, job_id: int, user, *, is_admin: bool = False) -> LetterSeriesJob | None:
    """The job if ``user`` made it (admins see all); None otherwise. A stale step is released again."""
    job = session.get(LetterSeriesJob, job_id)
    if job is None or (job.created_by_id != getattr(user, "id", None) and not is_admin):
        return None
    if job.status == "running" and _now() - _aware(job.updated_at) > STALE_AFTER:
        job.status = "queued"
        job.message = f"Unterbrochen nach {job.done} von {job.total} Briefen; wird fortgesetzt."
        session.commit()
    return job


def run_job(session: Session, job: LetterSeriesJob, *, user, today: date | None = None,
            budget: float = RUN_BUDGET) -> bool:
    """Make the job's next letters for about ``budget`` seconds (commits each). False if not claimed."""
    claimed = session.execute(update(LetterSeriesJob)
                              .where(LetterSeriesJob.id == job.id, LetterSeriesJob.status == "queued")
                              .values(status="running", updated_at=_now()))
    session.commit()
    if claimed.rowcount != 1:
        return False
    session.refresh(job)
    started = time.monotonic()
    try:
        fields = _typed(json.loads(job.fields or "{}"))
        case_ids = json.loads(job.case_ids)
        while job.done < job.total:  # at least one letter per step, then as many as the budget allows
            item = _item(session, case_ids[job.done], fields, user=user, today=today)
            try:
                # The letter is documented like one made from an entry (and counts at its measurement point).
                entry = entry_for_letter(session, item.case, job.template_code, user, today or clock.today())
                make_letter(session, job.template_code, item.context, case=item.case,
                            doc_entry_id=entry.id if entry is not None else None,
                            org_unit_id=None, user=user, pdf=None, series_job_id=job.id, today=today)
            except (TemplateProblem, LetterError) as exc:
                raise TemplateProblem.of_letter(item.label, exc) from None
            job.done, job.updated_at = job.done + 1, _now()
            session.commit()
            if time.monotonic() - started >= budget:
                break
        if job.done >= job.total:
            stored = store(session, "letters/series", ".zip", job_archive(session, job))
            job.zip_path, job.zip_sha256, job.status = stored.path, stored.sha256, "done"
            job.message = f"{job.total} Briefe erzeugt und archiviert."
        else:
            job.status, job.message = "queued", None
        job.updated_at = _now()
        session.commit()
    except (TemplateProblem, LetterError) as exc:
        _fail(session, job, getattr(exc, "message", None) or str(exc))
    except Exception as exc:  # the job must end as failed, whatever broke, and say so
        _fail(session, job, f"Unerwarteter Fehler: {exc.__class__.__name__}: {exc}")
        raise
    return True


def job_archive(session: Session, job: LetterSeriesJob) -> bytes:
    """A ZIP of the job's archived letters, numbered in the order of the series."""
    letters = session.scalars(select(Letter).where(Letter.series_job_id == job.id).order_by(Letter.id))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, letter in enumerate(letters, start=1):
            archive.writestr(f"{n:03d}_{letter.file_name}", read_verified(letter.path, letter.sha256))
    return buffer.getvalue()


def _fail(session: Session, job: LetterSeriesJob, message: str) -> None:
    session.rollback()
    session.refresh(job)
    made = (f" {job.done} von {job.total} Briefen wurden bereits erzeugt und bei ihren Fallakten archiviert."
            if job.done else " Es wurde kein Brief erzeugt.")
    job.status, job.message, job.updated_at = "failed", message + made, _now()
    session.commit()


def job_status(job: LetterSeriesJob) -> dict:
    return {"id": job.id, "status": job.status, "label": STATUS_LABELS.get(job.status, job.status),
            "done": job.done, "total": job.total, "message": job.message or "", "ready": bool(job.zip_path)}


def job_zip(job: LetterSeriesJob) -> bytes:
    if not job.zip_path:
        raise LetterError("Die Serie ist noch nicht fertig.")
    return read_verified(job.zip_path, job.zip_sha256)
