"""One button on a documentation entry: the letter of its service, archived with the entry.

The invitation letters offer an appointment: the case's next one, or a free slot of the clerk that is
proposed and entered as an appointment of the case. Missing data (e.g. no address) is a German message
naming it, with the way to the full letter form.
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from markupsafe import Markup
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..extensions import db
from ..letters.archive import LetterError, generate_letter
from ..letters.models import Letter
from ..letters.render import TemplateProblem, used_placeholders
from ..letters.sources import case_letter_context
from ..letters.versions import newest_version, version_bytes
from ..metamodel.build_models import built_registry
from ..scoping import can_see_record
from ..services import notices
from ..services.appointments import upcoming_or_proposed
from ..services.save_hooks import on_saved
from .actor import current_actor


def letters_of_entry(entry_id: int) -> list:
    return list(db.session.scalars(select(Letter).where(Letter.doc_entry_id == int(entry_id))
                                   .order_by(Letter.created_at, Letter.id)))


def letter_button(url: str, label: str, primary: bool = True) -> Markup:
    """A one-click POST button (with the CSRF token) for a success message or a page."""
    return Markup('<form method="post" action="{}" class="fs-inline fs-letter-button">'
                  '<input type="hidden" name="csrf_token" value="{}">'
                  '<button class="btn {} btn-sm" type="submit"><i class="fa fa-envelope"></i> {}</button>'
                  '</form>').format(url, generate_csrf(), "btn-primary" if primary else "btn-default", label)


def may_generate() -> bool:
    return current_app.appbuilder.sm.has_access("can_generate", "EntryLetterView")


@on_saved("doc_entry")
def offer_letter_after_save(entry, created: bool) -> None:
    """After saving an entry whose service has a letter template: "Brief erzeugen" in the success message."""
    if entry.service is not None and entry.service.letter_template and may_generate() \
            and (created or not letters_of_entry(entry.id)):  # a new entry has no letter yet
        actions = g.setdefault("fs_save_actions", [])
        actions.append(letter_button(url_for("EntryLetterView.generate", entry_id=entry.id), "Brief erzeugen"))


def standard_letter_button(entry) -> Markup | None:
    """After a notice: the standard letter's entry and letter in one click ("1. Einladung Räumungsklage")."""
    if not (may_generate() and current_app.appbuilder.sm.has_access("can_add", "entity_doc_entry")):
        return None
    service = notices.standard_letter_service(db.session, entry)
    if service is None:
        return None
    return letter_button(url_for("EntryLetterView.standard", case_id=entry.case_id, service_id=service.id),
                         f"{service.name}: Brief erzeugen")


class EntryLetterView(BaseView):
    route_base = "/entry-letter"
    method_permission_name = {"generate": "generate", "standard": "generate"}

    @expose("/case/<int:case_id>/<int:service_id>", methods=["POST"])
    @has_access
    def standard(self, case_id: int, service_id: int):
        """The entry of a standard letter (e.g. "1. Einladung Räumungsklage") and its letter, in one click."""
        if not current_app.appbuilder.sm.has_access("can_add", "entity_doc_entry"):
            abort(403)
        registry = built_registry()
        case = db.session.get(registry.model("case"), case_id)
        service = db.session.get(registry.model("service"), service_id)
        if case is None or not can_see_record(case) or service is None or not service.letter_template:
            abort(404)
        actor = current_actor()
        entry = notices.add_letter_entry(db.session, case, service, provider_id=actor.user_id, on=actor.today)
        db.session.commit()
        flash(f"Doku-Eintrag „{service.name}“ vom {actor.today.strftime('%d.%m.%Y')} angelegt.", "success")
        return self._make_letter(entry)

    @expose("/<int:entry_id>", methods=["POST"])
    @has_access
    def generate(self, entry_id: int):
        entry = db.session.get(built_registry().model("doc_entry"), entry_id)
        if entry is None or not can_see_record(entry):
            abort(404)
        return self._make_letter(entry)

    def _make_letter(self, entry):
        entry_id = entry.id
        code = entry.service.letter_template if entry.service else None
        if not code:
            flash("Zu dieser Leistung gehört keine Briefvorlage.", "warning")
            return redirect(url_for("DocEntryView.show", pk=entry_id))
        case = entry.case
        form_link = url_for("LetterView.create", case_id=case.id, doc_entry=entry.id, template=code)
        try:
            template = version_bytes(newest_version(db.session, code))
            appointment = None
            if "appointment.date" in used_placeholders(template):
                actor = current_actor()
                appointment = upcoming_or_proposed(db.session, case, actor.user_id, actor.today,
                                                   current_app.config["FACHSTELLE_SPEC"], actor)
            context = case_letter_context(db.session, case, user=current_user, appointment=appointment)
            letter = generate_letter(db.session, code, context, case=case, doc_entry_id=entry.id, user=current_user)
            db.session.commit()
        except (TemplateProblem, LetterError) as exc:
            db.session.rollback()
            for line in getattr(exc, "problems", None) or [str(exc)]:
                flash(line, "danger")
            flash(Markup('Angaben im <a href="{}">Briefformular</a> ergänzen.').format(form_link), "info")
        else:
            when = (f" Vorgeschlagener Termin: {appointment.starts_on.strftime('%d.%m.%Y')} um "
                    f"{appointment.starts_at} Uhr." if appointment is not None else "")
            download = Markup(' <a class="btn btn-default btn-sm" href="{}"><i class="fa fa-file-word-o"></i> '
                              'Brief öffnen</a>').format(url_for("LetterView.download_docx", letter_id=letter.id))
            flash(Markup("Brief „{}“ erstellt und beim Eintrag archiviert.{}").format(letter.file_name, when)
                  + download, "success")
        return redirect(url_for("DocEntryView.show", pk=entry_id))
