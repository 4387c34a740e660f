"""Letters of a case: list, make, download (docx/pdf), and series letters with a progress page.

Listing and downloading need the case's own permission (``can_show`` on ``entity_case``) and the case's
org unit (app/scoping.py): a letter of another unit is "not found" (404). Making letters needs
``can_create``, series ``can_series`` on ``LetterView`` (granted through roles.yaml).
"""
from __future__ import annotations

import functools
import io
import logging
from datetime import date
from pathlib import Path

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from sqlalchemy import select

from .. import clock, letters
from ..extensions import db
from ..letters.archive import LetterNotFound, generate_letter, letter_file, letters_of_case
from ..letters.entries import entry_for_letter
from ..letters.forms import fields_for, parse_inputs, prefill
from ..letters.models import LetterTemplate
from ..letters.pdf import pdf_note
from ..letters.render import TemplateProblem, used_placeholders
from ..letters.series import STATUS_LABELS, create_job, find_cases, job_for, job_status, job_zip, run_job
from ..letters.sources import case_letter_context, visible_case
from ..letters.storage import FileIntegrityError
from ..letters.versions import LetterError, newest_version, version_bytes
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from . import menus
from .build_views import permission_name
from .fab_compat import login_url

log = logging.getLogger(__name__)


def is_admin() -> bool:
    return any(role.name == "Admin" for role in getattr(current_user, "roles", []))


def case_permission(action: str):
    """Allow the view method to whoever holds ``action`` on the case page (as the case itself)."""
    def decorate(method):
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            if not getattr(current_user, "is_authenticated", False):
                return redirect(login_url(self.appbuilder, request.url))
            if not self.appbuilder.sm.has_access(action, permission_name("case")):
                abort(403)
            return method(self, *args, **kwargs)
        return wrapped
    return decorate


def _active_templates():
    query = select(LetterTemplate).where(LetterTemplate.active.is_(True)).order_by(LetterTemplate.label)
    return list(db.session.scalars(query))


def _template_fields(code: str | None):
    if not code:
        return []
    return fields_for(used_placeholders(version_bytes(newest_version(db.session, code))))


def _doc_entry_id(case) -> int | None:
    """``?doc_entry=`` from the documentation entry that makes the letter: it must belong to this case."""
    entry_id = request.values.get("doc_entry", type=int)
    registry = built_registry()
    if entry_id is None or "doc_entry" not in registry.entities:
        return entry_id
    DocEntry = registry.model("doc_entry")
    query = select(DocEntry.id).where(DocEntry.id == entry_id, DocEntry.case_id == case.id)
    if db.session.scalar(scope_query(query, DocEntry)) is None:
        abort(404)
    return entry_id


def _appointments(case) -> list:
    registry = built_registry()
    if "appointment" not in registry.entities:
        return []
    Appointment = registry.model("appointment")
    query = select(Appointment).where(Appointment.case_id == case.id)
    order = getattr(Appointment, "starts_on", None)
    if order is not None:
        query = query.where(order >= clock.today()).order_by(order)
    return list(db.session.scalars(scope_query(query, Appointment)))


# Series of the standard letters: the notice page whose receipt day selects the cases, and the template.
NOTICE_SERIES = {"lawsuit": ("eviction_lawsuit", "einladung_raeumungsklage"),
                 "eviction": ("forced_eviction", "anschreiben_zwangsraeumung")}


def _cases_with_notice_on(entity: str, day: date) -> list[int]:
    registry = built_registry()
    if entity not in registry.entities:
        return []
    notice = registry.model(entity)
    query = select(notice.case_id).where(notice.received_on == day).order_by(notice.case_id).distinct()
    return list(db.session.scalars(scope_query(query, notice)))


def _download(data: bytes, name: str, mimetype: str):
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _integrity_failure(exc: FileIntegrityError, appbuilder):
    log.error("letter file integrity: %s", exc.message)
    return render_template("fachstelle/error.html", code=409, appbuilder=appbuilder, message=exc.message), 409


class LetterView(BaseView):
    route_base = "/letters"
    default_view = "series_form"
    method_permission_name = {"create": "create", "series_form": "series", "series_show": "series",
                              "series_run": "series", "series_status": "series", "series_zip": "series"}

    # --- a case's letters ----------------------------------------------------------------------------
    @expose("/case/<int:case_id>")
    @case_permission("can_show")
    def case_letters(self, case_id: int):
        try:
            case = visible_case(db.session, case_id)
            letters = letters_of_case(db.session, case.id)
        except LetterError:
            abort(404)
        may_create = self.appbuilder.sm.has_access("can_create", "LetterView")
        return self.render_template("letters/case_letters.html", case=case, letters=letters,
                                    may_create=may_create, pdf_note=pdf_note())

    @expose("/case/<int:case_id>/new", methods=["GET", "POST"])
    @has_access
    def create(self, case_id: int):
        try:
            case = visible_case(db.session, case_id)
        except LetterError:
            abort(404)
        doc_entry_id = _doc_entry_id(case)
        templates = _active_templates()
        code = request.values.get("template") or (templates[0].code if len(templates) == 1 else None)
        if code and code not in {t.code for t in templates}:
            abort(404)
        fields = _template_fields(code)
        appointments = _appointments(case)
        context = case_letter_context(db.session, case, user=current_user)
        values = prefill(fields, context)
        if request.method == "POST" and code:
            extra, values, errors = parse_inputs(fields, request.form)
            appointment_id = request.form.get("appointment", type=int)
            appointment = next((a for a in appointments if a.id == appointment_id), None)
            if appointment_id and appointment is None:
                abort(404)
            for error in errors:
                flash(error, "danger")
            if not errors:
                try:
                    context = case_letter_context(db.session, case, user=current_user, appointment=appointment,
                                                  extra=extra)
                    if doc_entry_id is None:  # a letter sent is documentation (see entry_for_letter)
                        entry = entry_for_letter(db.session, case, code, current_user, clock.today())
                        doc_entry_id = entry.id if entry is not None else None
                    letter = generate_letter(db.session, code, context, case=case, doc_entry_id=doc_entry_id,
                                             user=current_user)
                    db.session.commit()
                except (TemplateProblem, LetterError) as exc:
                    db.session.rollback()
                    for line in getattr(exc, "lines", None) or [str(exc)]:
                        flash(line, "danger")
                else:
                    flash(f"Brief „{letter.file_name}“ wurde erstellt und archiviert.", "success")
                    if letter.pdf_problem:
                        flash(letter.pdf_problem, "warning")
                    elif not letter.pdf_path and pdf_note():
                        flash(pdf_note(), "info")
                    return redirect(url_for("LetterView.case_letters", case_id=case.id))
        return self.render_template("letters/create.html", case=case, templates=templates, code=code,
                                    fields=fields, values=values, appointments=appointments,
                                    doc_entry_id=doc_entry_id, pdf_note=pdf_note())

    @expose("/<int:letter_id>/docx")
    @case_permission("can_show")
    def download_docx(self, letter_id: int):
        return self._file(letter_id, "docx")

    @expose("/<int:letter_id>/pdf")
    @case_permission("can_show")
    def download_pdf(self, letter_id: int):
        return self._file(letter_id, "pdf")

    def _file(self, letter_id: int, kind: str):
        try:
            found = letter_file(db.session, letter_id, kind)
        except LetterNotFound:
            abort(404)
        except FileIntegrityError as exc:
            return _integrity_failure(exc, self.appbuilder)
        return _download(found.data, found.name, found.mimetype)

    # --- series ----------------------------------------------------------------------------------------
    @expose("/series/", methods=["GET", "POST"])
    @has_access
    def series_form(self):
        templates = _active_templates()
        code = request.values.get("template")
        if code and code not in {t.code for t in templates}:
            abort(404)
        fields = _template_fields(code)
        keys = request.values.get("cases", "")
        if not keys and request.args.getlist("case"):
            keys = "\n".join(f"#{n}" for n in request.args.getlist("case", type=int))
        notices = request.args.get("notices")
        if not keys and notices in NOTICE_SERIES:
            # "All lawsuit (bailiff) notices received today": the day's standard letters in one series.
            keys = "\n".join(f"#{n}" for n in _cases_with_notice_on(NOTICE_SERIES[notices][0], clock.today()))
            code = code or NOTICE_SERIES[notices][1]
            fields = _template_fields(code)
        values: dict = {}
        if request.method == "POST" and code:
            extra, values, errors = parse_inputs(fields, request.form)
            ids, unknown = find_cases(db.session, keys.replace(",", "\n").splitlines())
            if unknown:
                errors.append("Nicht gefunden (oder kein Zugriff): " + ", ".join(unknown[:30]) +
                              (" …" if len(unknown) > 30 else ""))
            for error in errors:
                flash(error, "danger")
            if not errors:
                try:
                    job = create_job(db.session, code, ids, extra, user=current_user)
                    db.session.commit()
                except (TemplateProblem, LetterError) as exc:
                    db.session.rollback()
                    flash("Die Serie wurde nicht angelegt:", "danger")
                    for line in getattr(exc, "lines", None) or [str(exc)]:
                        flash(line, "danger")
                else:
                    return redirect(url_for("LetterView.series_show", job_id=job.id))
        return self.render_template("letters/series_form.html", templates=templates, code=code, fields=fields,
                                    values=values, cases=keys)

    def _job(self, job_id: int):
        job = job_for(db.session, job_id, current_user, is_admin=is_admin())
        if job is None:
            abort(404)
        return job

    @expose("/series/<int:job_id>")
    @has_access
    def series_show(self, job_id: int):
        job = self._job(job_id)
        return self.render_template("letters/series_progress.html", job=job, status=job_status(job),
                                    labels=STATUS_LABELS)

    @expose("/series/<int:job_id>/run", methods=["POST"])
    @has_access
    def series_run(self, job_id: int):
        job = self._job(job_id)
        run_job(db.session, job, user=current_user)
        db.session.refresh(job)
        if request.accept_mimetypes.best == "application/json":
            return jsonify(job_status(job))
        return redirect(url_for("LetterView.series_show", job_id=job.id))

    @expose("/series/<int:job_id>/status")
    @has_access
    def series_status(self, job_id: int):
        response = jsonify(job_status(self._job(job_id)))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/series/<int:job_id>/zip")
    @has_access
    def series_zip(self, job_id: int):
        job = self._job(job_id)
        try:
            data = job_zip(job)
        except LetterError:
            abort(404)
        except FileIntegrityError as exc:
            return _integrity_failure(exc, self.appbuilder)
        return _download(data, f"Serienbrief_{job.template_code}_{job.id}.zip", "application/zip")


# The pages' Jinja templates stay beside the letters package they show.
LETTER_TEMPLATES = Path(letters.__file__).parent / "templates"
# Letters come from documentation entries: their pages sit in its menu (a menu bar of its own would wrap).
LETTERS_MENU = menus.DOCUMENTATION_CATEGORY
ADMIN_MENU = menus.ADMIN


def register_letters(app, appbuilder) -> None:
    """Tables, pages, menus and permissions of the letters subsystem (called once from create_app)."""
    from flask import Blueprint

    from ..letters import models  # noqa: F401  (tables on FAB's metadata: migrate() creates them)
    from ..letters.storage import install
    from .letter_admin_views import LetterTemplateAdminView, MyLetterheadView, OfficeDetailsView, StaffDetailsView

    install()
    app.register_blueprint(Blueprint("letters_pages", __name__, template_folder=str(LETTER_TEMPLATES)))
    appbuilder.add_view(LetterView, icon="fa-envelope", category_icon="fa-envelope",
                        **menus.item(menus.LETTER_SERIES, LETTERS_MENU))
    appbuilder.add_view(MyLetterheadView, icon="fa-id-card", **menus.item(menus.MY_LETTERHEAD, LETTERS_MENU))
    appbuilder.add_view(LetterTemplateAdminView, icon="fa-file-word-o", category_icon="fa-cogs",
                        **menus.item(menus.LETTER_TEMPLATES, ADMIN_MENU))
    appbuilder.add_view(StaffDetailsView, icon="fa-id-card-o", **menus.item(menus.STAFF_DETAILS, ADMIN_MENU))
    appbuilder.add_view(OfficeDetailsView, icon="fa-building-o", **menus.item(menus.OFFICE_DETAILS, ADMIN_MENU))
