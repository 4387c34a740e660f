"""One button on a documentation entry: the letter of its service, archived with the entry.

The invitation letters offer an appointment: the case's next one, or a free slot of the clerk that is
proposed and entered as an appointment of the case. Missing data (e.g. no address) is a German message
naming it, with the way to the full letter form.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db
from ..letters.archive import LetterError, generate_letter
from ..letters.models import Letter
from ..letters.render import TemplateProblem, used_placeholders
from ..letters.sources import case_letter_context
from ..letters.versions import newest_version, version_bytes
from ..metamodel.build_models import built_registry
from ..scoping import can_see_record
from ..services.appointments import upcoming_or_proposed
from .actor import current_actor


def letters_of_entry(entry_id: int) -> list:
    return list(db.session.scalars(select(Letter).where(Letter.doc_entry_id == int(entry_id))
                                   .order_by(Letter.created_at, Letter.id)))


class EntryLetterView(BaseView):
    route_base = "/entry-letter"
    method_permission_name = {"generate": "generate"}

    @expose("/<int:entry_id>", methods=["POST"])
    @has_access
    def generate(self, entry_id: int):
        entry = db.session.get(built_registry().model("doc_entry"), entry_id)
        if entry is None or not can_see_record(entry):
            abort(404)
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
            flash(f"Brief „{letter.file_name}“ erstellt und beim Eintrag archiviert.{when}", "success")
        return redirect(url_for("DocEntryView.show", pk=entry_id))
