"""Loan account page, open-loans report and the treasury pages (#13).

- ``/darlehen/<id>``: the account of a loan (figures today, plan, bookings, events, treasury postings) with the
  actions as buttons with a confirmation; acting needs write access to the ``loan`` page (``can_edit``).
- ``/darlehen/bericht``: open loans with arrears as of a day (page and XLSX), repayments per month.
- ``/kasse/export``, ``/kasse/zahlungen``, ``/kasse/klaerfaelle``: export to the treasury, payment upload,
  the Klärfall queue with manual assignment (admin function ``treasury``).
Every loan is found through ``scope_query``: a loan of another org unit answers 404.
"""
from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path

from flask import abort, flash, redirect, request, send_file, url_for
from markupsafe import Markup
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import func, select

from .. import clock
from ..domain import loans as rules
from ..domain.dates import format_date
from ..domain.loans import LoanError
from ..domain.money import format_money, parse_money
from ..domain.periods import parse_date
from ..errors import DomainError
from ..problems import Problems
from ..extensions import db
from ..integrations.pipeline import ImportFailed
from ..integrations.treasury.export import ExportError, batches, export
from ..integrations.treasury.payments import import_payments
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from ..services import loan_reports, loans
from ..services.kassenzeichen import shown
from ..services.save_hooks import on_saved
from ..services.xlsx_export import record_export
from ..services.treasury_payments import PaymentError, assign, count_open_cases, open_cases
from ..treasury_models import POSTING_KINDS, TreasuryPosting
from .actor import current_actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACTIONS = rules.ACTION_LABELS


def _date(name: str, label: str, required: bool = True) -> date | None:
    text = (request.form.get(name) or "").strip()
    if not text:
        if required:
            raise LoanError(f"{label}: bitte ein Datum angeben (TT.MM.JJJJ).")
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise LoanError(f"{label}: {exc}") from None


def _money(name: str, label: str):
    try:
        return parse_money(request.form.get(name) or "")
    except ValueError as exc:
        raise LoanError(f"{label}: {exc}") from None


def _loan_or_404(loan_id: int):
    model = loans.model()
    row = db.session.scalars(scope_query(select(model).where(model.id == loan_id), model, actor=current_actor())).first()
    if row is None:
        abort(404)
    return row


class LoanAccountView(BaseView):
    route_base = "/darlehen"
    default_view = "report"
    class_permission_name = "LoanAccountView"
    method_permission_name = {"account": "show", "act": "show", "report": "report"}

    def _may_act(self) -> bool:
        return self.appbuilder.sm.has_access("can_edit", "entity_loan")

    @expose("/<int:loan_id>")
    @has_access
    def account(self, loan_id: int):
        loan = _loan_or_404(loan_id)
        today = clock.today()
        events, booked = loans.events(db.session, loan.id), loans.bookings(db.session, loan.id)
        current = loans.domain_account(loan, events, booked)  # read once: figures, plan and the actions offered
        return self.render_template(
            "fachstelle/loans/account.html", loan=loan, figures=rules.figures(current, today),
            plan=loans.plan_rows(db.session, loan, current), bookings=booked, events=events,
            postings=loans.postings(db.session, loan),
            kz=shown(loan.kassenzeichen), state=loans.code(loan.state), kind=loans.code(loan.kind),
            may_act=self._may_act(), money=format_money, date=format_date, labels=loans.EVENT_LABELS,
            statuses=rules.STATUSES, posting_kinds=POSTING_KINDS, today=today, workflow=rules.WORKFLOW,
            problems=loans.check_master_data(db.session, loan, today) if loans.code(loan.state) == "beantragt" else [],
            open_deferrals=[e for e in events if e.kind == "stundung" and e.ended_on is None],
            open_write_offs=[e for e in events if e.kind == "niederschlagung" and e.ended_on is None and not e.pending],
            pending=[e for e in events if e.pending], offset=self._offset(loan),
            allowed=set(rules.allowed_actions(current, today, loans.pending_kinds(events))))

    @staticmethod
    def _offset(loan) -> str | None:
        """The proposed rate for an Aufrechnung (settings.yaml loans.regelbedarf, 5 %), else None."""
        settings = built_registry().spec.settings.loans
        if loans.code(loan.repayment) != "aufrechnung" or settings.regelbedarf is None:
            return None
        return format_money(rules.offset_rate(settings.regelbedarf, settings.offset_percent)).replace(" €", "")

    @expose("/<int:loan_id>/aktion", methods=["POST"])
    @has_access
    def act(self, loan_id: int):
        loan = _loan_or_404(loan_id)
        if not self._may_act():
            abort(403)
        actor = current_actor()
        action = request.form.get("action", "")
        if action not in ACTIONS:
            abort(400)
        try:
            letter_event = None
            loans.check_action(db.session, loan, action, actor.today)
            if action == "bewilligen":
                letter_event = loans.approve(db.session, actor, loan, request.form.get("kassenzeichen"))
                done = f"Bewilligt; Auszahlungsanordnung über {format_money(loan.amount)} an die Kasse vorgemerkt."
            elif action == "ablehnen":
                loans.reject(db.session, actor, loan, request.form.get("note"))
                done = "Abgelehnt."
            elif action == "raten":
                plan = loans.set_plan(db.session, actor, loan, _money("rate", "Rate"), _date("first_due", "Erste Fälligkeit"))
                done = f"Ratenplan: {len(plan.instalments)} Raten, letzte am {format_date(plan.last_due)}."
            elif action == "stunden":
                letter_event = loans.defer(db.session, actor, loan, _date("date_from", "Stundung ab"),
                                           _date("date_to", "Stundung bis"), request.form.get("note"))
                done = "Gestundet; der Plan ist verschoben."
            elif action == "stundung_widerrufen":
                loans.revoke_deferral(db.session, actor, loan, int(request.form.get("event_id", 0)))
                done = "Stundung widerrufen."
            elif action == "niederschlagen":
                limited = request.form.get("befristet") == "1"
                event = loans.write_off(db.session, actor, loan, _date("review_on", "Wiedervorlage") if limited else None,
                                        request.form.get("note"))
                done = "Niederschlagung wartet auf Freigabe durch eine zweite Person." if event.pending else "Niedergeschlagen."
                letter_event = None if event.pending else event
            elif action == "niederschlagung_aufheben":
                loans.lift_write_off(db.session, actor, loan, int(request.form.get("event_id", 0)))
                done = "Niederschlagung aufgehoben."
            elif action == "erlassen":
                event = loans.waive(db.session, actor, loan, request.form.get("note"))
                done = "Erlass wartet auf Freigabe durch eine zweite Person." if event.pending else "Erlassen."
                letter_event = None if event.pending else event
            elif action == "freigeben":
                letter_event = loans.approve_pending(db.session, actor, loan, int(request.form.get("event_id", 0)))
                done = "Freigegeben."
            elif action == "zahlung":
                loans.book_payment(db.session, actor, loan, _date("day", "Buchungstag"), _money("amount", "Betrag"),
                                   text=(request.form.get("note") or "Zahlung (von Hand)")[:200])
                done = "Zahlung gebucht."
            else:
                abort(400)
            db.session.commit()
            flash(done, "success")
            if letter_event is not None and letter_event.kind in loans.LETTERS:
                self._letter(actor, loan, letter_event)
        except (LoanError, ValueError, DomainError) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        return redirect(url_for("LoanAccountView.account", loan_id=loan.id))

    def _letter(self, actor, loan, event) -> None:
        """The event's letter, archived with a documentation entry; a letter that cannot be made (e.g. no legal
        remedy text for the office yet) leaves the booking done and says why."""
        from flask_login import current_user
        try:
            letter = loans.write_letter(db.session, actor, loan, event, user=current_user._get_current_object())
            db.session.commit()
        except (DomainError, LoanError, ValueError, Problems) as exc:
            db.session.rollback()
            flash(f"Der Brief konnte nicht erzeugt werden: {exc}", "warning")
            return
        flash(Markup('Brief archiviert (mit Doku-Eintrag): <a href="{}">{}</a>').format(
            url_for("LetterView.download_docx", letter_id=letter.id), letter.file_name), "success")

    @expose("/bericht")
    @has_access
    def report(self):
        today = clock.today()
        text = (request.args.get("as_of") or "").strip()
        problems = []
        try:
            as_of = parse_date(text) if text else today
        except ValueError as exc:
            problems.append(f"Stichtag: {exc}")
            as_of = today
        only_arrears = request.args.get("arrears", "1") == "1"
        lines = loan_reports.loan_lines(db.session, current_actor(), as_of)
        if only_arrears:
            lines = [line for line in lines if line.figures.arrears]
        if request.args.get("format") == "xlsx":
            buffer = io.BytesIO()
            loan_reports.write_xlsx(lines, as_of, buffer, only_arrears)
            buffer.seek(0)
            record_export(db.session, current_actor().name, "Offene Darlehen",
                          f"Stichtag {format_date(as_of)}; {'nur Rückstände' if only_arrears else 'alle laufenden'}",
                          len(lines), clock.utcnow())
            db.session.commit()
            return send_file(buffer, mimetype=XLSX, as_attachment=True,
                             download_name=f"offene-darlehen-{as_of:%Y-%m-%d}.xlsx")
        months = loan_reports.repayments_per_month(db.session, current_actor(), as_of.year)
        return self.render_template("fachstelle/loans/report.html", lines=lines, as_of=as_of, problems=problems,
                                    only_arrears=only_arrears, months=months, money=format_money,
                                    date=format_date, statuses=rules.STATUSES)


class TreasuryView(BaseView):
    route_base = "/kasse"
    default_view = "export_page"
    class_permission_name = "TreasuryView"
    method_permission_name = {"export_page": "export", "payments": "payments", "clear": "clear"}

    @expose("/export", methods=["GET", "POST"])
    @has_access
    def export_page(self):
        if request.method == "POST":
            until = (request.form.get("until") or "").strip()
            try:
                day = parse_date(until) if until else None
                result = export(db.session, current_actor(), until=day, layout_name=request.form.get("layout") or None,
                                test=request.form.get("test") == "1", again=request.form.get("again") or None)
            except (ExportError, ValueError) as exc:
                db.session.rollback()
                flash(str(exc), "danger")
                return redirect(url_for("TreasuryView.export_page"))
            if request.form.get("test") == "1":
                db.session.rollback()
            else:
                db.session.commit()
            name = f"kasse-{result.batch or 'test'}.{'csv' if result.layout.endswith('csv') else 'txt'}"
            return send_file(io.BytesIO(result.data), mimetype="text/plain", as_attachment=True, download_name=name)
        open_count, open_sum = db.session.execute(select(func.count(TreasuryPosting.id), func.sum(TreasuryPosting.betrag))
                                                  .where(TreasuryPosting.batch_id.is_(None))).one()
        layouts = built_registry().spec.settings.treasury.layouts
        return self.render_template("fachstelle/loans/export.html", open_count=open_count,
                                    open_sum=format_money(open_sum or 0), batches=batches(db.session),
                                    layouts=layouts, default=built_registry().spec.settings.treasury.export_layout,
                                    money=format_money)

    @expose("/zahlungen", methods=["GET", "POST"])
    @has_access
    def payments(self):
        report = None
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash("Bitte eine Zahlungsdatei wählen.", "danger")
                return redirect(url_for("TreasuryView.payments"))
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "zahlungen"
                upload.save(path)
                try:
                    result = import_payments(db.session, path, current_actor(), file_name=upload.filename)
                except ImportFailed as exc:
                    db.session.rollback()
                    report = exc.report()
                    return self.render_template("fachstelle/loans/payments.html", report=report, failed=True)
            if request.form.get("dry_run") == "1":
                db.session.rollback()
                report = result.report(dry_run=True)
            else:
                db.session.commit()
                report = result.report()
        return self.render_template("fachstelle/loans/payments.html", report=report, failed=False)

    @expose("/klaerfaelle", methods=["GET", "POST"])
    @has_access
    def clear(self):
        if request.method == "POST":
            try:
                payment = assign(db.session, current_actor(), int(request.form.get("payment_id", 0)),
                                 request.form.get("kassenzeichen", ""))
                db.session.commit()
                flash(f"Zahlung {payment.buchungs_id} dem Kassenzeichen {shown(payment.kassenzeichen)} zugeordnet "
                      "und gebucht.", "success")
            except (PaymentError, ValueError) as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            return redirect(url_for("TreasuryView.clear"))
        return self.render_template("fachstelle/loans/clear.html", cases=open_cases(db.session, current_actor()),
                                    money=format_money, date=format_date)


@on_saved("loan")
def loan_saved(loan, created: bool) -> None:
    """After the loan form: the total from the amounts by purpose and the state "beantragt" (read-only fields
    the form does not send), and "Darlehenskonto öffnen" in the success message."""
    from flask import g
    if loans.code(loan.state) in (None, rules.BEANTRAGT):
        changed = loans.prepare_application(db.session, loan)
        if changed:
            db.session.commit()
    g.setdefault("fs_save_actions", []).append(Markup('<a class="btn btn-primary btn-sm" href="{}">{}</a>').format(
        url_for("LoanAccountView.account", loan_id=loan.id), "Darlehenskonto öffnen"))


def loan_worklist() -> dict | None:
    """The loans part of the worklist (arrears, deferrals ending, write-offs to review, releases waiting,
    payments to clear), for whoever may see loans; None otherwise."""
    from flask import current_app
    sm = current_app.appbuilder.sm
    actor = current_actor()
    if actor.user_id is None:
        return None
    # The loans' entries follow the loan rights and the org units; "payments to clear" follows the admin
    # function ``treasury`` alone (an unmatched payment belongs to no unit; docs/kasse.md "Klärfälle").
    may_loans = sm.has_access("can_show", "LoanAccountView")
    may_clear = sm.has_access("can_clear", "TreasuryView")
    if not may_loans and not may_clear:
        return None
    items = []
    if may_loans:
        items = sorted(loan_reports.worklist_items(db.session, actor, actor.today), key=lambda i: (i["due"], i["loan_id"]))
    clear = count_open_cases(db.session) if may_clear else None
    return {"items": items[:200], "more": max(len(items) - 200, 0), "to_clear": clear, "date": format_date}


def register_loan_views(appbuilder) -> None:
    from . import menus
    appbuilder.app.jinja_env.globals["fs_loan_worklist"] = loan_worklist
    appbuilder.add_view(LoanAccountView, href="/darlehen/bericht", icon="fa-eur", category_icon="fa-eur",
                        **menus.item(menus.LOAN_REPORT, menus.LOANS_CATEGORY))
    appbuilder.add_view(TreasuryView, href="/kasse/export", icon="fa-university",
                        **menus.item(menus.TREASURY, menus.LOANS_CATEGORY))
    appbuilder.add_link(href="/kasse/zahlungen", icon="fa-upload", **menus.item(menus.TREASURY_PAYMENTS, menus.LOANS_CATEGORY))
    appbuilder.add_link(href="/kasse/klaerfaelle", icon="fa-question-circle", **menus.item(menus.TREASURY_CLEAR, menus.LOANS_CATEGORY))
