"""The indicator report page (QS 1.1–1.5) with chart, drill-down and downloads, and the QS 1.5 admin page.

Permissions: the report and everything reached from it is ``can_show`` on ``IndicatorReport``; the
access standards page is ``can_list`` / ``can_edit`` on ``AccessStandard``. Every figure, case list and
download is computed from what ``scope_query`` lets the user see: a district's staff get their district
and a total over it; a unit the user cannot see answers 404.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from .. import clock
from ..domain.indicator_texts import INDICATOR_TEXTS
from ..domain.indicators import ACCESS_STANDARDS, INDICATORS
from ..domain.money import format_percent
from ..domain.periods import (MONTH_ABBR, MONTH_NAMES, Period, describe, month_period, parse_date,
                              quarter_period, range_period, year_period)
from ..errors import DomainError
from ..extensions import db
from ..integrations import survey_form
from ..services import access_standards as standards_service
from ..services.indicators import case_rows, drill_down, indicator_report, monthly, report_units
from ..services.success_measures import success_measures, write_xlsx as write_success_xlsx
from . import menus
from .actor import current_actor

REPORT_PERMISSION = "IndicatorReport"
STANDARD_PERMISSION = "AccessStandard"
KINDS = {"met": "erfüllt", "not_met": "nicht erfüllt", "pending": "offen", "all": "gezählt (Nenner)"}
PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class PeriodForm:
    """What the user chose (to fill the form again) and what it means."""

    kind: str
    year: int
    month: int
    quarter: int
    start_text: str
    end_text: str
    as_of_text: str
    period: Period | None
    as_of: date | None
    problems: list[str]


def _int(name: str, default: int, low: int, high: int, problems: list[str], label: str) -> int:
    text = (request.args.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        problems.append(f"{label}: „{text}“ ist ungültig ({low} bis {high}).")
        return default
    return value


def read_period_form(today: date) -> PeriodForm:
    """Month, quarter, year or a free range (TT.MM.JJJJ) and the as-of date from the query string."""
    problems: list[str] = []
    kind = request.args.get("kind", "year")
    if kind not in ("month", "quarter", "year", "range"):
        kind = "year"
    year = _int("year", today.year, 1990, 2199, problems, "Jahr")
    month = _int("month", today.month, 1, 12, problems, "Monat")
    quarter = _int("quarter", (today.month - 1) // 3 + 1, 1, 4, problems, "Quartal")
    start_text = (request.args.get("from") or "").strip()
    end_text = (request.args.get("to") or "").strip()
    as_of_text = (request.args.get("as_of") or "").strip() or f"{today:%d.%m.%Y}"
    period = as_of = None
    try:
        as_of = parse_date(as_of_text)
    except ValueError as exc:
        problems.append(f"Stichtag: {exc}")
    try:
        if kind == "month":
            period = month_period(year, month)
        elif kind == "quarter":
            period = quarter_period(year, quarter)
        elif kind == "year":
            period = year_period(year)
        else:
            if not start_text or not end_text:
                problems.append("Für einen freien Zeitraum bitte „von“ und „bis“ angeben (TT.MM.JJJJ).")
            else:
                period = range_period(parse_date(start_text), parse_date(end_text))
    except ValueError as exc:
        problems.append(f"Zeitraum: {exc}")
    if period and as_of and as_of < period.start:
        problems.append(f"Der Stichtag ({as_of:%d.%m.%Y}) liegt vor dem Beginn des Zeitraums "
                        f"({period.start:%d.%m.%Y}).")
    if problems:
        period = as_of = None
    return PeriodForm(kind, year, month, quarter, start_text, end_text, as_of_text, period, as_of, problems)


def exact_args() -> tuple[Period, date]:
    """from/to/as_of as links carry them (ISO dates); anything else is a 404, not a guess."""
    try:
        period = range_period(parse_date(request.args.get("from", "")), parse_date(request.args.get("to", "")))
        as_of = parse_date(request.args.get("as_of", ""))
    except ValueError:
        abort(404)
    if as_of < period.start:
        abort(404)
    return period, as_of


def german_percent(value) -> str:
    return "–" if value is None else format_percent(value, 1)


class IndicatorReportView(BaseView):
    route_base = "/indicators"
    default_view = "index"
    class_permission_name = REPORT_PERMISSION
    method_permission_name = {"index": "show", "cases": "show", "download": "show", "success": "show"}

    @expose("/")
    @has_access
    def index(self):
        form = read_period_form(clock.today())
        context = {"form": form, "texts": INDICATOR_TEXTS, "codes": INDICATORS, "kinds": KINDS,
                   "month_names": MONTH_NAMES, "pct": german_percent, "result": None}
        if form.period is not None:
            try:
                result = indicator_report(db.session, form.period.start, form.period.end, form.as_of, actor=current_actor())
            except DomainError as exc:
                form.problems.append(str(exc))
            else:
                months = monthly(result.report, form.period)
                context.update(result=result, report=result.report, months=months,
                               chart=chart_data(months), label=describe(form.period),
                               link_args={"from": form.period.start.isoformat(), "to": form.period.end.isoformat(),
                                          "as_of": form.as_of.isoformat()})
        return self.render_template("fachstelle/indicators/report.html", **context)

    @expose("/cases")
    @has_access
    def cases(self):
        period, as_of = exact_args()
        code, kind = request.args.get("code", ""), request.args.get("kind", "")
        if code not in INDICATORS or kind not in KINDS or (code == "1.5" and kind == "pending"):
            abort(404)
        unit_arg = request.args.get("unit", "all")
        if unit_arg == "all":
            units, unit = report_units(db.session, actor=current_actor()), None
        else:
            try:
                units = report_units(db.session, only=[int(unit_arg)], actor=current_actor())
            except ValueError:
                abort(404)
            if not units:
                abort(404)  # not a unit, or not one of the user's
            unit = units[0]
        report = indicator_report(db.session, period.start, period.end, as_of, units, actor=current_actor()).report
        refs = drill_down(report, unit.name if unit else None, code, kind)
        if code != "1.5":  # standards stay in the agreement's order
            refs.sort(key=lambda r: (r.org_unit, r.on, str(r.case_id)))
        if request.args.get("format") == "xlsx":  # every case behind the number, as on the page (#14)
            return self._cases_xlsx(refs, set(drill_down(report, unit.name if unit else None, code, "met")),
                                    code, kind, unit, period, as_of)
        page = max(request.args.get("page", 0, type=int), 0)
        shown = refs[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        records = case_rows(db.session, shown, current_actor()) if code != "1.5" else {}
        met = set(drill_down(report, unit.name if unit else None, code, "met"))
        back = url_for("IndicatorReportView.index", kind="range", **{"from": f"{period.start:%d.%m.%Y}",
                       "to": f"{period.end:%d.%m.%Y}", "as_of": f"{as_of:%d.%m.%Y}"})
        return self.render_template("fachstelle/indicators/cases.html", refs=shown, total=len(refs), page=page,
                                    more=len(refs) > (page + 1) * PAGE_SIZE, records=records, met=met, code=code,
                                    kind=kind, kinds=KINDS, unit=unit, text=INDICATOR_TEXTS[code],
                                    standards=ACCESS_STANDARDS, label=describe(period), as_of=as_of, back=back)

    def _cases_xlsx(self, refs, met, code, kind, unit, period, as_of):
        from ..services.xlsx_export import XlsxColumn
        from .xlsx import xlsx_response
        what = f"QS {code} {KINDS[kind]}" + (f" {unit.name}" if unit else "")
        detail = f"{describe(period)}, Stand {as_of:%d.%m.%Y}"
        if code == "1.5":
            columns = [XlsxColumn("Dienststelle", "text", 24), XlsxColumn("Standard", "text", 50),
                       XlsxColumn("erfüllt", "bool"), XlsxColumn("zuletzt bestätigt am", "date")]
            rows = ([r.org_unit, ACCESS_STANDARDS.get(r.standard, r.standard), r in met, r.confirmed_on] for r in refs)
        else:
            records = case_rows(db.session, refs, current_actor())
            columns = [XlsxColumn("Räumungstermin" if code == "1.4" else "Eingang der Mitteilung", "date"),
                       XlsxColumn("Aktenzeichen", "text", 16), XlsxColumn("Klient/in", "text", 30),
                       XlsxColumn("Dienststelle", "text", 24), XlsxColumn("Ergebnis", "text", 14)]
            rows = ([r.on, records[r.case_id].file_number or f"Fallakte {r.case_id}",
                     str(records[r.case_id].client or ""), r.org_unit,
                     "erfüllt" if r in met else ("offen" if kind == "pending" else "nicht erfüllt")]
                    for r in refs if r.case_id in records)
        return xlsx_response(columns, rows, f"qs_{code}_{kind}", what=what, detail=detail, sheet=f"QS {code}",
                             title=f"QS {code} {INDICATOR_TEXTS[code].title} – {KINDS[kind]}, {detail}")

    @expose("/download")
    @has_access
    def download(self):
        period, as_of = exact_args()
        fmt = request.args.get("format", "xlsx")
        if fmt not in ("json", "csv", "xlsx"):
            abort(404)
        actor = current_actor()
        units = report_units(db.session, actor=actor)
        survey = survey_form.survey_of(indicator_report(db.session, period.start, period.end, as_of, units,
                                                        actor=actor).report)
        name = f"kennzahlen_{period.start.isoformat()}_{period.end.isoformat()}"
        if len(units) == 1:
            name = f"erhebungsbogen_{units[0].code}_{period.start.isoformat()}_{period.end.isoformat()}"
        _note_export(f"Kennzahlen Erhebungsbogen ({fmt})", period, units, as_of)
        if fmt == "xlsx":
            buffer = io.BytesIO()
            survey_form.write_xlsx(survey, buffer, clock.now())
            buffer.seek(0)
            return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=f"{name}.xlsx")
        if fmt == "csv":
            data = survey_form.write_csv(survey).encode("utf-8-sig")
            mimetype = "text/csv; charset=utf-8"
        else:
            data = survey_form.write_json(survey).encode("utf-8")
            mimetype = "application/json"
        return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=f"{name}.{fmt}")

    @expose("/success-measures")
    @has_access
    def success(self):
        period, _as_of = exact_args()
        actor = current_actor()
        units = report_units(db.session, actor=actor)
        measures = success_measures(db.session, period, units, actor)
        _note_export("Erfolgsmessung", period, units, None)
        buffer = io.BytesIO()
        write_success_xlsx(measures, buffer, clock.now())
        buffer.seek(0)
        return send_file(buffer, mimetype=XLSX, as_attachment=True,
                         download_name=f"erfolgsmessung_{period.start.isoformat()}_{period.end.isoformat()}.xlsx")


def _note_export(what: str, period, units, as_of) -> None:
    """Every download of a report is in the export history (#14): who, which report, period, districts."""
    from ..services.xlsx_export import record_export
    detail = f"{describe(period)}; Bezirke: {', '.join(u.name for u in units) or 'keine'}"
    if as_of is not None:
        detail += f"; Stand {as_of:%d.%m.%Y}"
    record_export(db.session, current_actor().name, what, detail, None, clock.utcnow())
    db.session.commit()


# --- chart: QS 1.1–1.4 per month as an inline SVG (no script, no CDN) --------------------------------

SERIES_COLOURS = {"1.1": "#1f77b4", "1.2": "#ff7f0e", "1.3": "#2ca02c", "1.4": "#9467bd"}
CHART_HEIGHT = 180  # pixels for 0 to 100 %


def chart_data(months) -> dict:
    """Bars per month and indicator, with their tooltip; a month without denominator gets no bar."""
    bar, gap = 7, 10
    group = 4 * bar + gap
    groups = []
    for i, m in enumerate(months):
        bars = []
        for j, code in enumerate(INDICATORS[:4]):
            numerator, denominator = m.figures[code]
            value = m.percent(code)
            # 0 % of a real denominator is a hairline, "no denominator" a dot: they are not the same.
            height = 0 if value is None else max(1.5, round(float(value) / 100 * CHART_HEIGHT, 1))
            bars.append({"code": code, "x": 40 + i * group + j * bar, "height": height, "none": value is None,
                         "y": 10 + CHART_HEIGHT - height, "colour": SERIES_COLOURS[code],
                         "title": f"{MONTH_NAMES[m.month - 1]} {m.year} · QS {code}: {german_percent(value)}"
                                  f" ({numerator} von {denominator})"})
        groups.append({"label": f"{MONTH_ABBR[m.month - 1]} {m.year % 100:02d}", "x": 40 + i * group + 2 * bar,
                       "bars": bars})
    return {"groups": groups, "width": 50 + len(months) * group, "height": CHART_HEIGHT + 40, "base": 10 + CHART_HEIGHT,
            "colours": SERIES_COLOURS, "ticks": [(p, 10 + CHART_HEIGHT - p / 100 * CHART_HEIGHT) for p in (0, 50, 100)]}


# --- QS 1.5: the districts' confirmations ------------------------------------------------------------

class AccessStandardView(BaseView):
    """Per district the seven standards with their last confirmation; a new confirmation adds rows."""

    route_base = "/access-standards"
    default_view = "index"
    class_permission_name = STANDARD_PERMISSION
    method_permission_name = {"index": "list", "confirm": "edit"}

    @expose("/")
    @has_access
    def index(self):
        actor = current_actor()
        units = report_units(db.session, actor=actor)
        today = actor.today
        selected = None
        unit_id = request.args.get("unit", type=int)
        if unit_id is not None:
            selected = next((u for u in units if u.id == unit_id), None)
            if selected is None:
                abort(404)
        elif len(units) == 1:
            selected = units[0]
        return self.render_template("fachstelle/indicators/access.html", units=units, selected=selected,
                                    states=standards_service.current_states(db.session, units, today, actor),
                                    history=standards_service.history(db.session, selected, actor) if selected else [],
                                    standards=ACCESS_STANDARDS, today=today,
                                    can_edit=self.appbuilder.sm.has_access("can_edit", STANDARD_PERMISSION))

    @expose("/confirm/<int:unit_id>", methods=["POST"])
    @has_access
    def confirm(self, unit_id: int):
        actor = current_actor()
        unit = next((u for u in report_units(db.session, only=[unit_id], actor=actor)), None)
        if unit is None:
            abort(404)
        states = {code: request.form.get(f"std_{code}") == "yes" for code in ACCESS_STANDARDS
                  if request.form.get(f"std_{code}") in ("yes", "no")}
        try:
            confirmed_on = parse_date(request.form.get("confirmed_on", ""))
        except ValueError as exc:
            flash(f"Bestätigt am: {exc}", "danger")
            return redirect(url_for("AccessStandardView.index", unit=unit.id))
        try:
            rows = standards_service.record_confirmations(db.session, unit, states, confirmed_on,
                                                          actor.name, request.form.get("note"),
                                                          actor.today, actor)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(f"{unit.name}: {len(rows)} Standard(s) mit Stand {confirmed_on:%d.%m.%Y} gespeichert.", "success")
        return redirect(url_for("AccessStandardView.index", unit=unit.id))


def register_indicator_views(appbuilder) -> None:
    appbuilder.add_view(IndicatorReportView, icon="fa-bar-chart", category_icon="fa-bar-chart",
                        **menus.item(menus.INDICATOR_REPORT, menus.REPORTS))
    appbuilder.add_view(AccessStandardView, icon="fa-check-square-o",
                        **menus.item(menus.ACCESS_STANDARDS, menus.ADMIN))
