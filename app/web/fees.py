"""Obdachverwaltung › Gebührenlauf (#12 §4): preview and start the month's fee debits; the Gebührenbescheid.

- ``/fees/``: a month (default: this one) with what a run would add now (a dry run), the month's sums per
  shelter, and the button that runs it (permission ``fees``; it bills the whole city, like the CLI).
- ``/fees/notice/<occupancy>``: the Gebührenbescheid of an occupancy in one click (Einzug, Umzug,
  Tarifänderung, Auszug), archived with its documentation entry; whoever may edit occupancies may do it.
"""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user

from .. import clock
from ..actor import Actor
from ..domain.money import format_percent
from ..errors import DomainError
from ..extensions import db
from ..fee_models import FeeLine
from ..letters.check import TemplateProblem
from ..services import fee_notice, fees
from ..services.save_hooks import on_saved
from . import menus
from .actor import current_actor

RUN_PERMISSION = "FeeRunView"


def _month_arg() -> str:
    text = (request.values.get("month") or "").strip()
    return text or f"{clock.today():%Y-%m}"


class FeeRunView(BaseView):
    route_base = "/fees"
    default_view = "index"
    class_permission_name = RUN_PERMISSION
    method_permission_name = {"index": "show", "run": "run", "tariff_notices": "run"}

    @expose("/")
    @has_access
    def index(self):
        month = _month_arg()
        preview, current, error = None, None, None
        try:
            current = fees.month_summary(db.session, month)
            preview = fees.run_month(db.session, Actor.system(current_user.username), current.monat, dry_run=True)
        except (DomainError, ValueError) as exc:
            error = str(exc)
        finally:
            db.session.rollback()
        can_run = self.appbuilder.sm.has_access("can_run", RUN_PERMISSION)
        return self.render_template("fachstelle/fees/run.html", month=month, preview=preview, current=current,
                                    error=error, can_run=can_run)

    @expose("/run", methods=["POST"])
    @has_access
    def run(self):
        month = _month_arg()
        try:
            # The run bills every shelter of the city: the permission says who may, the actor says "all".
            result = fees.run_month(db.session, Actor.system(current_user.username), month)
            db.session.commit()
        except (DomainError, ValueError) as exc:  # ValueError: e.g. the Kassenzeichen range is exhausted
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(f"Gebührenlauf {result.monat}: {result.neu} neue Zeile(n), {result.postings} Sollstellung(en), "
                  f"{result.payouts} Auszahlungsanordnung(en); Summe des Monats {_euro(result.summe)}.", "success")
        return redirect(url_for("FeeRunView.index", month=month))


    @expose("/tariff-notices", methods=["POST"])
    @has_access
    def tariff_notices(self):
        """"Bescheide zur Tarifänderung erzeugen" for the day a new tariff applies from (city-wide, like the run)."""
        from ..domain.periods import parse_date
        month = _month_arg()
        text = (request.form.get("day") or "").strip()
        try:
            day = parse_date(text)
        except ValueError as exc:
            flash(f"„Neuer Tarif gilt ab“ ({text}): {exc}", "danger")
            return redirect(url_for("FeeRunView.index", month=month))
        try:
            result = fee_notice.tariff_change_notices(db.session, Actor.system(current_user.username), current_user,
                                                      day)
            db.session.commit()
        except (DomainError, TemplateProblem) as exc:
            db.session.rollback()
            for line in getattr(exc, "lines", None) or [str(exc)]:
                flash(line, "danger")
        else:
            flash(f"Tarifänderung zum {day:%d.%m.%Y}: {result['betroffen']} Haushalt(e) betroffen, "
                  f"{result['neu']} Gebührenbescheid(e) erzeugt, {result['bereits']} schon vorher erzeugt.",
                  "success")
        return redirect(url_for("FeeRunView.index", month=month))


def _euro(value) -> str:
    from ..domain.money import format_money
    return format_money(value)


class FeeNoticeView(BaseView):
    route_base = "/fee-notice"
    class_permission_name = "entity_occupancy"
    method_permission_name = {"notice": "edit"}

    @expose("/<int:occupancy_id>", methods=["POST"])
    @has_access
    def notice(self, occupancy_id: int):
        reason = request.form.get("reason", "einzug")
        if reason not in fee_notice.REASONS:
            abort(400)
        try:
            letter = fee_notice.make_fee_notice(db.session, current_actor(), current_user, occupancy_id, reason)
            db.session.commit()
        except (DomainError, TemplateProblem) as exc:
            db.session.rollback()
            for line in getattr(exc, "lines", None) or [str(exc)]:
                flash(line, "danger")
            return redirect(request.referrer or url_for("FeeRunView.index"))
        flash(f"Gebührenbescheid „{letter.file_name}“ wurde erstellt und mit einem Doku-Eintrag archiviert.",
              "success")
        return redirect(url_for("LetterView.download_docx", letter_id=letter.id)
                        if request.form.get("download") else url_for("LetterView.case_letters",
                                                                     case_id=letter.case_id))


def fee_lines_of_occupancy(occupancy_id) -> list[FeeLine]:
    """For the occupancy page: its fee lines the user may see (the page's ``pk`` is text)."""
    try:
        key = int(occupancy_id)
    except (TypeError, ValueError):
        return []
    return fees.lines_for(db.session, current_actor(), occupancy_ids=[key])


def register_fee_views(app, appbuilder) -> None:
    appbuilder.add_view(FeeRunView, icon="fa-eur", **menus.item(menus.FEE_RUN, "Unterbringung"))
    appbuilder.add_view_no_menu(FeeNoticeView)
    app.jinja_env.globals["fs_fee_lines"] = fee_lines_of_occupancy
    app.jinja_env.globals["fs_fee_reasons"] = fee_notice.REASONS
    from ..domain.money import format_money
    app.jinja_env.filters.setdefault("money", format_money)


@on_saved("occupancy_payer_share")
def share_saved(share, created: bool) -> None:
    """After a cost share is saved: a warning while the occupancy's shares do not add up to 100 %. Not refused:
    a clerk enters the shares one by one; the monthly run refuses an occupancy whose shares are not 100 %."""
    total = fees.share_total(db.session, share.occupancy_id)
    if total is not None and total != Decimal(100):
        flash(f"Die Kostenanteile dieser Belegung ergeben zusammen {format_percent(total, 2)}; der monatliche "
              "Gebührenlauf rechnet sie erst ab, wenn es 100 % sind.", "warning")


@on_saved("fee_tariff")
def tariff_saved(tariff, created: bool) -> None:
    """After a tariff (version) is saved: the way to its Gebührenbescheide, with the day it applies from filled in
    (the notices go to every household whose tariff changes that day; made once, by the fee page's button)."""
    from flask import g
    from markupsafe import Markup
    day = getattr(tariff, "valid_from", None)
    if day is None or not current_user.is_authenticated:
        return
    url = url_for("FeeRunView.index", month=f"{day:%Y-%m}", day=f"{day:%d.%m.%Y}") + "#tariff-day"
    g.setdefault("fs_save_actions", []).append(Markup('<a class="btn btn-default btn-sm" href="{}">{}</a>').format(
        url, f"Gebührenbescheide zur Tarifänderung ab {day:%d.%m.%Y}"))
