"""Series letters as jobs: one row per series, run in one request, polled by the progress page.

The page creates the job, then starts the run with one request and asks for the progress with others;
each letter made commits the job's counter, so any worker can answer. The run is claimed atomically
(queued -> running), so a second click or a second worker does not make the letters twice. Every case is
checked before the first letter is made; a run that stops later keeps the letters made so far (each is
complete and archived) and says how many. A run with no sign of life for STALE_AFTER counts as failed.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from .archive import SeriesItem, generate_series
from .models import LetterSeriesJob
from .render import TemplateProblem
from .sources import case_letter_context, visible_case
from .storage import read_verified, store
from .versions import LetterError, newest_version

STATUS_LABELS = {"queued": "wartet auf den Start", "running": "läuft", "done": "fertig", "failed": "fehlgeschlagen"}
STALE_AFTER = timedelta(minutes=5)
MAX_CASES = 2000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def find_cases(session: Session, keys: list[str]) -> tuple[list[int], list[str]]:
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
        found = list(session.scalars(scope_query(query, Case)))
        if len(found) == 1:
            if found[0] not in ids:
                ids.append(found[0])
        else:
            unknown.append(key if not found else f"{key} (mehrdeutig)")
    return ids, unknown


def create_job(session: Session, template_code: str, case_ids: list[int], fields: dict, *, user) -> LetterSeriesJob:
    newest_version(session, template_code)  # the template exists and is active
    if not case_ids:
        raise LetterError("Bitte mindestens eine Fallakte angeben.")
    if len(case_ids) > MAX_CASES:
        raise LetterError(f"Höchstens {MAX_CASES} Briefe je Serie.")
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
    out = {}
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
    """The job if ``user`` made it (admins see all); None otherwise."""
    job = session.get(LetterSeriesJob, job_id)
    if job is None or (job.created_by_id != getattr(user, "id", None) and not is_admin):
        return None
    if job.status == "running" and _now() - _aware(job.updated_at) > STALE_AFTER:
        job.status, job.message = "failed", (f"Abgebrochen: seit {STALE_AFTER.seconds // 60} Minuten keine "
                                             f"Rückmeldung ({job.done} von {job.total} Briefen erzeugt).")
        session.commit()
    return job


def run_job(session: Session, job: LetterSeriesJob, *, user, today: date | None = None) -> bool:
    """Make the job's letters (commits as it goes). False if the job was not waiting (already run)."""
    claimed = session.execute(update(LetterSeriesJob).where(LetterSeriesJob.id == job.id,
                                                            LetterSeriesJob.status == "queued")
                              .values(status="running", updated_at=_now()))
    session.commit()
    if claimed.rowcount != 1:
        return False
    session.refresh(job)
    try:
        fields = _typed(json.loads(job.fields or "{}"))
        items = []
        for case_id in json.loads(job.case_ids):
            case = visible_case(session, case_id)
            context = case_letter_context(session, case, user=user, today=today, extra=fields)
            label = f"Fallakte {case.file_number or case.id} ({context['recipient']['name']})"
            items.append(SeriesItem(case=case, context=context, label=label))

        def progress(done: int, total: int) -> None:
            job.done, job.updated_at = done, _now()
            session.commit()

        data = generate_series(session, job.template_code, items, user=user, progress=progress,
                               series_job_id=job.id, today=today)
        stored = store(session, "letters/series", ".zip", data)
        job.zip_path, job.zip_sha256 = stored.path, stored.sha256
        job.status, job.message, job.updated_at = "done", f"{job.total} Briefe erzeugt und archiviert.", _now()
        session.commit()
    except (TemplateProblem, LetterError) as exc:
        _fail(session, job, getattr(exc, "message", None) or str(exc))
    except Exception as exc:  # noqa: BLE001 - the job must end as failed, whatever broke, and say so
        _fail(session, job, f"Unerwarteter Fehler: {exc.__class__.__name__}: {exc}")
        raise
    return True


def _fail(session: Session, job: LetterSeriesJob, message: str) -> None:
    session.rollback()
    session.refresh(job)
    made = f" {job.done} von {job.total} Briefen wurden bereits erzeugt und archiviert." if job.done else \
        " Es wurde kein Brief erzeugt."
    job.status, job.message, job.updated_at = "failed", message + made, _now()
    session.commit()


def job_status(job: LetterSeriesJob) -> dict:
    return {"id": job.id, "status": job.status, "label": STATUS_LABELS.get(job.status, job.status),
            "done": job.done, "total": job.total, "message": job.message or "", "ready": bool(job.zip_path)}


def job_zip(job: LetterSeriesJob) -> bytes:
    if not job.zip_path:
        raise LetterError("Die Serie ist noch nicht fertig.")
    return read_verified(job.zip_path, job.zip_sha256)
