"""One page per notice kind: a clerk registers a court's or bailiff's notice in under a minute.

The person is chosen by type-ahead or typed in (the duplicate warning of the partner form runs here
too: same field names); the case, its Wohnungsnotfall page, the entry and the tasks follow
(``services.notices``). Afterwards the clerk lands on the case with the standard letter's deadline.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms import validators as v

from .. import clock
from ..core_models import CatalogueValue
from ..domain.dates import format_date
from ..errors import DomainError
from ..extensions import db
from ..metamodel.build_models import built_registry
from ..metamodel.kinds.form_fields import GermanDateField, GermanTimeField, RefField
from ..services import notices, save_hooks
from .actor import current_actor
from .entity_view import CONFIRM_FIELD
from .entry_letters import standard_letter_button

# "9.30", "9:30 Uhr" and "10 Uhr" are read too (app.domain.dates) and kept as "09:30".
TIME = (v.Optional(),)


def _sex_choices() -> list[tuple[str, str]]:
    values = db.session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "sex",
                                                             CatalogueValue.active.is_(True))
                                .order_by(CatalogueValue.sort))
    return [("", "bitte wählen …"), *((str(x.id), x.label) for x in values)]


def _form_class(kind: str):
    partner = built_registry().model("partner")

    class NoticeForm(FlaskForm):
        client = RefField("Vorhandene Person", model=partner, endpoint="/typeahead/partner",
                          description="Name tippen; leer lassen, um unten eine neue Person anzulegen")
        surname = StringField("Name", [v.Optional(), v.Length(max=120)])
        first_name = StringField("Vorname", [v.Optional(), v.Length(max=80)])
        birth_date = GermanDateField("Geburtsdatum", [v.Optional()])
        sex = SelectField("Geschlecht", choices=[], validate_choice=False)
        street = StringField("Straße", [v.Optional(), v.Length(max=120)])
        house_number = StringField("Hausnummer", [v.Optional(), v.Length(max=12)])
        postcode = StringField("PLZ", [v.Optional(), v.Regexp(r"^[0-9]{5}$", message="PLZ: fünf Ziffern.")])
        city = StringField("Ort", [v.Optional(), v.Length(max=80)])
        received_on = GermanDateField("Eingang der Mitteilung", [v.InputRequired("Pflichtfeld: bitte ausfüllen.")],
                                      default=clock.today)
        if kind == "lawsuit":
            court = RefField("Amtsgericht", model=partner, endpoint="/typeahead/partner")
            court_file_number = StringField("Aktenzeichen des Gerichts", [v.Optional(), v.Length(max=40)])
            hearing_on = GermanDateField("Termin der mündlichen Verhandlung", [v.Optional()])
        else:
            bailiff = RefField("Gerichtsvollzieher/in", model=partner, endpoint="/typeahead/partner")
            bailiff_file_number = StringField("Aktenzeichen (DR-Nr.)", [v.Optional(), v.Length(max=40)])
            eviction_on = GermanDateField("Räumungstermin", [v.InputRequired("Pflichtfeld: bitte ausfüllen.")])
            eviction_at = GermanTimeField("Uhrzeit", list(TIME))

    return NoticeForm


TITLES = {"lawsuit": "Räumungsklage erfassen (Mitteilung des Amtsgerichts)",
          "eviction": "Zwangsräumung erfassen (Mitteilung der Gerichtsvollzieherin / des Gerichtsvollziehers)"}
KIND_LABELS = {"lawsuit": "Räumungsklage", "eviction": "Zwangsräumung"}
PERMISSIONS = {"lawsuit": "entity_eviction_lawsuit", "eviction": "entity_forced_eviction"}


class NoticeView(BaseView):
    route_base = "/notices"
    default_view = "lawsuit"
    class_permission_name = "entity_case"
    method_permission_name = {"lawsuit": "add", "eviction": "add"}

    @expose("/lawsuit", methods=["GET", "POST"])
    @has_access
    def lawsuit(self):
        return self._register("lawsuit")

    @expose("/eviction", methods=["GET", "POST"])
    @has_access
    def eviction(self):
        return self._register("eviction")

    def _register(self, kind: str):
        sm = current_app.appbuilder.sm
        if not (sm.has_access("can_add", PERMISSIONS[kind]) and sm.has_access("can_add", "entity_doc_entry")):
            abort(403)
        form = _form_class(kind)()
        form.sex.choices = _sex_choices()
        if form.validate_on_submit():
            person = None
            if form.client.data is None and (form.surname.data or "").strip() and not request.form.get(CONFIRM_FIELD):
                # The duplicate step of the partner form (#11): a typed-in person who may already exist is
                # shown with the look-alikes; nothing is saved until "Trotzdem anlegen".
                found = save_hooks.before_add("partner", request.form)
                if found:
                    return self.render_template("fachstelle/notice.html", form=form, kind=kind, title=TITLES[kind],
                                                look_alikes=found, confirm_field=CONFIRM_FIELD,
                                                new_title=", ".join(t for t in (
                                                    (form.surname.data or "").strip(),
                                                    (form.first_name.data or "").strip(),
                                                    format_date(form.birth_date.data)) if t))
            if form.client.data is None and (form.surname.data or "").strip():
                person = notices.NewPerson(surname=form.surname.data, first_name=form.first_name.data,
                                           birth_date=form.birth_date.data,
                                           sex_id=int(form.sex.data) if form.sex.data else None,
                                           street=form.street.data, house_number=form.house_number.data,
                                           postcode=form.postcode.data, city=form.city.data)
            actor = current_actor()
            try:
                if kind == "lawsuit":
                    result = notices.register_lawsuit(
                        db.session, received_on=form.received_on.data, court=form.court.data,
                        court_file_number=form.court_file_number.data or None, hearing_on=form.hearing_on.data,
                        client=form.client.data, person=person, provider_id=actor.user_id, actor=actor)
                else:
                    result = notices.register_forced_eviction(
                        db.session, received_on=form.received_on.data, eviction_on=form.eviction_on.data,
                        eviction_at=form.eviction_at.data or None, bailiff=form.bailiff.data,
                        bailiff_file_number=form.bailiff_file_number.data or None, client=form.client.data,
                        person=person, provider_id=actor.user_id, actor=actor)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                due = "; ".join(f"{t.title}: fällig am {t.due_on.strftime('%d.%m.%Y')}" for t in result.tasks)
                made = " (neue Person und neue Fallakte)" if result.created_client else \
                    " (neue Fallakte)" if result.created_case else ""
                message = Markup("{} erfasst{}. {}").format(KIND_LABELS[kind], made, due)
                button = standard_letter_button(result.entries[0])
                flash(message + (Markup(" ") + button if button is not None else ""), "success")
                return redirect(url_for("CaseView.show", pk=result.case.id))
        return self.render_template("fachstelle/notice.html", form=form, kind=kind, title=TITLES[kind])
