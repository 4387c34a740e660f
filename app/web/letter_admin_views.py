"""Admin pages of letters: templates with their versions (upload, download, restore), letterhead data.

Templates: ``can_read`` / ``can_write`` on ``LetterTemplateAdminView``. Letterhead data of staff and
offices are FAB ModelViews (``StaffDetailsView``, ``OfficeDetailsView``); each user may keep their own
letterhead on "Mein Briefkopf" (``can_form`` on ``MyLetterheadView``).
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..letters.check import MAX_TEMPLATE_BYTES
from ..letters.context import sample_context
from ..letters.models import LetterTemplate, LetterTemplateVersion, OfficeDetails, StaffDetails
from ..letters.pdf import pdf_note
from ..letters.placeholders import LIST_PLACEHOLDERS, PLACEHOLDERS
from ..letters.render import TemplateProblem, used_placeholders
from ..letters.sources import staff_details
from ..letters.storage import FileIntegrityError
from ..letters.versions import (LetterError, add_version, create_template, restore_version, template_by_code,
                                version_bytes)
from .letter_views import _download, _integrity_failure

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _uploaded_file() -> bytes | None:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Bitte eine Word-Datei (.docx) auswählen.", "danger")
        return None
    data = upload.stream.read(MAX_TEMPLATE_BYTES + 1)
    if len(data) > MAX_TEMPLATE_BYTES:
        flash(f"Die Datei ist zu groß (höchstens {MAX_TEMPLATE_BYTES // 1024 // 1024} MB).", "danger")
        return None
    if not upload.filename.lower().endswith(".docx"):
        flash("Bitte eine Word-Datei mit der Endung .docx hochladen.", "danger")
        return None
    return data


def _flash_problems(exc: TemplateProblem | LetterError) -> None:
    problems = getattr(exc, "lines", None) or [str(exc)]
    flash("Die Vorlage wurde nicht übernommen:", "danger")
    for line in problems[:30]:
        flash(line, "danger")
    if len(problems) > 30:
        flash(f"… und {len(problems) - 30} weitere Probleme.", "danger")


def placeholder_rows() -> list[tuple[str, str, str]]:
    sample = sample_context()
    rows = []
    for group, keys in PLACEHOLDERS.items():
        for key, description in keys.items():
            name = f"{group}.{key}"
            value = sample[group][key]
            shown = " / ".join(value) if isinstance(value, list) else str(value).replace("\n", " / ")
            usage = f"{{% for zeile in {name} %}}" if name in LIST_PLACEHOLDERS else f"{{{{ {name} }}}}"
            rows.append((usage, description, shown))
    return rows


class LetterTemplateAdminView(BaseView):
    route_base = "/letter-templates"
    default_view = "index"
    method_permission_name = {"index": "read", "detail": "read", "download": "read", "placeholders": "read",
                              "create": "write", "upload": "write", "restore": "write", "toggle": "write"}

    def _template(self, code: str) -> LetterTemplate:
        template = template_by_code(db.session, code)
        if template is None:
            abort(404)
        return template

    @expose("/")
    @has_access
    def index(self):
        templates = list(db.session.scalars(select(LetterTemplate).order_by(LetterTemplate.label)))
        return self.render_template("letters/template_list.html", templates=templates,
                                    pdf_note=pdf_note(),
                                    max_mb=MAX_TEMPLATE_BYTES // 1024 // 1024)

    @expose("/placeholders")
    @has_access
    def placeholders(self):
        return self.render_template("letters/placeholders.html", rows=placeholder_rows())

    @expose("/new", methods=["POST"])
    @has_access
    def create(self):
        typed = {key: request.form.get(key, "") for key in ("code", "label", "description")}
        data = _uploaded_file()
        if data is None:
            return redirect(url_for("LetterTemplateAdminView.index", **typed))
        try:
            template = create_template(db.session, request.form.get("code", ""), request.form.get("label", ""),
                                       data, uploaded_by=current_user.username,
                                       description=request.form.get("description") or None,
                                       note=request.form.get("note"))
            db.session.commit()
        except (TemplateProblem, LetterError) as exc:
            db.session.rollback()
            _flash_problems(exc)
            return redirect(url_for("LetterTemplateAdminView.index", **typed))  # the form keeps what was typed
        flash(f"Briefvorlage „{template.label}“ angelegt (Version 1).", "success")
        return redirect(url_for("LetterTemplateAdminView.detail", code=template.code))

    @expose("/<code>")
    @has_access
    def detail(self, code: str):
        template = self._template(code)
        used: list[str] = []
        if template.versions:
            try:
                used = sorted(used_placeholders(version_bytes(template.versions[0])))
            except FileIntegrityError as exc:
                flash(exc.message, "danger")
        return self.render_template("letters/template_detail.html", tpl=template, used=used,
                                    max_mb=MAX_TEMPLATE_BYTES // 1024 // 1024)

    @expose("/<code>/upload", methods=["POST"])
    @has_access
    def upload(self, code: str):
        template = self._template(code)
        data = _uploaded_file()
        if data is not None:
            try:
                version = add_version(db.session, template, data, uploaded_by=current_user.username,
                                      note=request.form.get("note"))
                db.session.commit()
            except (TemplateProblem, LetterError) as exc:
                db.session.rollback()
                _flash_problems(exc)
            else:
                flash(f"Version {version.version} gespeichert; neue Briefe verwenden sie ab sofort.", "success")
        return redirect(url_for("LetterTemplateAdminView.detail", code=code))

    @expose("/version/<int:version_id>/download")
    @has_access
    def download(self, version_id: int):
        version = db.session.get(LetterTemplateVersion, version_id)
        if version is None:
            abort(404)
        try:
            data = version_bytes(version)
        except FileIntegrityError as exc:
            return _integrity_failure(exc, self.appbuilder)
        return _download(data, f"{version.template.code}_v{version.version}.docx", DOCX_TYPE)

    @expose("/version/<int:version_id>/restore", methods=["POST"])
    @has_access
    def restore(self, version_id: int):
        version = db.session.get(LetterTemplateVersion, version_id)
        if version is None:
            abort(404)
        try:
            new = restore_version(db.session, version, uploaded_by=current_user.username)
            db.session.commit()
        except (TemplateProblem, LetterError, FileIntegrityError) as exc:
            db.session.rollback()
            flash(getattr(exc, "message", None) or str(exc), "danger")
        else:
            flash(f"Version {version.version} ist als Version {new.version} wieder in Gebrauch.", "success")
        return redirect(url_for("LetterTemplateAdminView.detail", code=version.template.code))

    @expose("/<code>/active", methods=["POST"])
    @has_access
    def toggle(self, code: str):
        template = self._template(code)
        template.active = not template.active
        db.session.commit()
        flash(f"Briefvorlage „{template.label}“ ist jetzt {'aktiv' if template.active else 'nicht mehr aktiv'}.",
              "success")
        return redirect(url_for("LetterTemplateAdminView.detail", code=code))


STAFF_LABELS = {"user": "Benutzer", "address_as": "Anrede („Auskunft erteilt Herr …“)", "room": "Zimmer",
                "phone": "Telefon (Durchwahl)", "fax": "Fax", "email": "E-Mail", "sign": "Mein Zeichen",
                "consultation_hours": "eigene Sprechzeiten"}
STAFF_FIELDS = ["address_as", "room", "phone", "fax", "email", "sign", "consultation_hours"]


class StaffDetailsView(ModelView):
    datamodel = SQLAInterface(StaffDetails)
    route_base = "/staff-letterhead"
    list_title = "Briefkopf-Angaben der Mitarbeiterinnen und Mitarbeiter"
    show_title = add_title = edit_title = "Briefkopf-Angaben"
    label_columns = STAFF_LABELS
    list_columns = ["user", "room", "phone", "email", "sign"]
    add_columns = edit_columns = show_columns = ["user", *STAFF_FIELDS]
    description_columns = {"address_as": "Herr, Frau oder leer lassen (dann Vor- und Nachname)",
                           "phone": "Leer: die Telefonnummer der Dienststelle"}


class OfficeDetailsView(ModelView):
    datamodel = SQLAInterface(OfficeDetails)
    route_base = "/office-letterhead"
    list_title = "Briefkopf-Angaben der Dienststellen"
    show_title = add_title = edit_title = "Dienststellen-Briefkopf"
    label_columns = {"org_unit": "Dienststelle", "authority": "Behörde (Briefkopf)",
                     "return_address": "Rücksendeangabe", "fax": "Fax",
                     "consultation_hours": "Sprechzeiten (offene Sprechstunde)",
                     "legal_remedy": "Rechtsbehelfsbelehrung (für Bescheide)"}
    list_columns = ["org_unit", "authority", "consultation_hours"]
    add_columns = edit_columns = show_columns = ["org_unit", "authority", "return_address", "fax",
                                                 "consultation_hours", "legal_remedy"]
    description_columns = {
        "authority": "z. B. „Stadt Paderborn“ oder „Bezirksamt Mitte von Berlin“",
        "return_address": "Leer: Behörde · Anschrift der Dienststelle",
        "consultation_hours": "z. B. „Di und Do 9–12 Uhr“; wird im Anschreiben zur Zwangsräumung (QS 1.3) genannt",
        "legal_remedy": "Der vollständige Text der Rechtsbehelfsbelehrung, wie er in Bescheiden stehen soll"}


class MyLetterheadView(BaseView):
    """Each user keeps their own letterhead data (room, direct line, sign)."""

    route_base = "/my-letterhead"
    default_view = "form"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def form(self):
        details = staff_details(db.session, current_user)
        if request.method == "POST":
            if details is None:
                details = StaffDetails(user_id=current_user.id)
                db.session.add(details)
            for name in STAFF_FIELDS:
                value = (request.form.get(name) or "").strip()
                limit = getattr(StaffDetails.__table__.c[name].type, "length", None)
                if limit and len(value) > limit:
                    flash(f"„{STAFF_LABELS[name]}“: höchstens {limit} Zeichen.", "danger")
                    db.session.rollback()
                    return redirect(url_for("MyLetterheadView.form"))
                setattr(details, name, value or None)
            db.session.commit()
            flash("Ihre Briefkopf-Angaben wurden gespeichert.", "success")
            return redirect(url_for("MyLetterheadView.form"))
        return self.render_template("letters/my_letterhead.html", details=details, fields=STAFF_FIELDS,
                                    labels=STAFF_LABELS)
