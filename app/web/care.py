"""Soziale Betreuung (#15): the case's care overview (current plan, open measures, next review), the review
form (a result per goal), the next version of a plan and its print for the client's signature.

Permissions are the help plan page's: reading it shows the overview, writing it reviews, continues and
prints. Every view of a plan here is a read of a sensitive page and goes into the access log.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from markupsafe import Markup

from ..domain.care import GOAL_RESULT_LABELS, GOAL_RESULTS, is_overdue, MeasureState
from ..domain.dates import try_parse_date
from ..errors import DomainError
from ..extensions import db
from ..letters.render import TemplateProblem
from ..letters.versions import LetterError
from ..services import care as service
from ..services.access_log import log_reads
from .actor import current_actor

PLAN_PERMISSION = "entity_help_plan"


def _plan(plan_id: int):
    try:
        return service.visible(db.session, "help_plan", plan_id, current_actor())
    except DomainError:
        abort(404)


class CareOverviewView(BaseView):
    route_base = "/care-overview"
    default_view = "overview"
    class_permission_name = PLAN_PERMISSION
    method_permission_name = {"overview": "show", "review": "edit", "new_version": "edit", "print_plan": "edit"}

    @expose("/case/<int:case_id>")
    @has_access
    def overview(self, case_id: int):
        actor = current_actor()
        try:
            case = service.visible(db.session, "case", case_id, actor)
        except DomainError:
            abort(404)
        view = service.case_overview(db.session, case, actor)
        page = self.render_template("fachstelle/care/overview.html", case=case, view=view, today=actor.today,
                                    overdue=lambda m: is_overdue(MeasureState(m.due_on, m.done_on), actor.today),
                                    may_edit=self.appbuilder.sm.has_access("can_edit", PLAN_PERMISSION),
                                    fs_page_title=f"Betreuung – Fallakte {case.file_number or case.id}")
        if view.plan is not None:
            log_reads(db.session, actor, "help_plan", [view.plan], "overview")
            db.session.commit()
        return page

    @expose("/plan/<int:plan_id>/review", methods=["GET", "POST"])
    @has_access
    def review(self, plan_id: int):
        actor = current_actor()
        plan = _plan(plan_id)
        goals = service.goals_of(db.session, plan)
        care = service.care_of_plan(db.session, plan)
        case = service.case_of_care(db.session, care)
        values = {"reviewed_on": actor.today.strftime("%d.%m.%Y"), "summary": "", "next_review_on": ""}
        results: dict[int, str] = {}
        if request.method == "POST":
            values = {k: request.form.get(k, "").strip() for k in values}
            results = {g.id: request.form.get(f"goal_{g.id}", "") for g in goals}
            reviewed_on = try_parse_date(values["reviewed_on"])
            next_on = try_parse_date(values["next_review_on"]) if values["next_review_on"] else None
            problems = []
            if reviewed_on is None:
                problems.append("„überprüft am“: bitte ein Datum (TT.MM.JJJJ) angeben.")
            if values["next_review_on"] and next_on is None:
                problems.append("„nächste Fortschreibung am“: bitte ein Datum (TT.MM.JJJJ) angeben.")
            if not goals:
                problems.append("Der Hilfeplan hat noch keine Ziele.")
            if not problems:
                try:
                    service.record_review(db.session, plan, reviewed_on=reviewed_on, results=results,
                                          summary=values["summary"], next_review_on=next_on, actor=actor)
                    db.session.commit()
                except DomainError as exc:
                    db.session.rollback()
                    problems.append(str(exc))
                else:
                    flash(f"Überprüfung des Hilfeplans (Version {plan.plan_version}) gespeichert.", "success")
                    return redirect(url_for("CareOverviewView.overview", case_id=case.id))
            for problem in problems:
                flash(problem, "danger")
        page = self.render_template("fachstelle/care/review.html", plan=plan, goals=goals, case=case,
                                    values=values, results=results, choices=GOAL_RESULTS, labels=GOAL_RESULT_LABELS,
                                    fs_page_title=f"Hilfeplan Version {plan.plan_version} überprüfen")
        if request.method == "GET":
            log_reads(db.session, actor, "help_plan", [plan], "overview", detail="Überprüfung")
            db.session.commit()
        return page

    @expose("/plan/<int:plan_id>/new-version", methods=["POST"])
    @has_access
    def new_version(self, plan_id: int):
        actor = current_actor()
        plan = _plan(plan_id)
        case = service.case_of_care(db.session, service.care_of_plan(db.session, plan))
        try:
            new = service.new_version(db.session, plan, valid_from=actor.today, actor=actor)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(f"Hilfeplan fortgeschrieben: Version {new.plan_version} (offene Ziele und Maßnahmen übernommen).",
                  "success")
        return redirect(url_for("CareOverviewView.overview", case_id=case.id))

    @expose("/plan/<int:plan_id>/print", methods=["POST"])
    @has_access
    def print_plan(self, plan_id: int):
        actor = current_actor()
        plan = _plan(plan_id)
        case = service.case_of_care(db.session, service.care_of_plan(db.session, plan))
        try:
            letter = service.print_plan(db.session, plan, user=current_user, actor=actor)
            log_reads(db.session, actor, "help_plan", [plan], "letter", detail=letter.file_name)
            db.session.commit()
        except (DomainError, LetterError, TemplateProblem) as exc:
            db.session.rollback()
            for line in getattr(exc, "lines", None) or [str(exc)]:
                flash(line, "danger")
        else:
            entry = plan.signed_entry_id
            flash(Markup("Hilfeplan gedruckt: <a href=\"{}\">{}</a>. Den unterschriebenen Scan bitte "
                         "<a href=\"{}\">am Doku-Eintrag</a> hochladen.").format(
                url_for("LetterView.download_docx", letter_id=letter.id), letter.file_name,
                url_for("DocEntryView.show", pk=entry) if entry else "#"), "success")
        return redirect(url_for("CareOverviewView.overview", case_id=case.id))
