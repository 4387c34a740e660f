"""Page "Amtliche Statistik" (#14): NRW form (30.06.) and federal records (31.01.) computed live or from a
frozen snapshot, drill-down to the persons behind each number, versions and their comparison, downloads.

Everything is computed with the signed-in user's actor: the figures and the persons cover their org units
only. A snapshot is shown only to users who see every unit it covers. Permission: the admin function
``statistics`` (build_roles), granted to Controlling, Teamleitung and Fachadministration.
"""
from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import or_, select

from .. import clock
from ..domain import housing_stats as hs
from ..domain.dates import format_date, parse_date
from ..errors import DomainError
from ..extensions import db
from ..integrations import housing_stats_files as files
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from ..services import housing_stats as svc
from ..services.xlsx_export import record_export
from ..statistics_models import StatisticSnapshot
from . import menus
from .actor import current_actor

PERMISSION = "HousingStatistics"
PAGE_SIZE = 100
ROW_LIMIT = 300  # federal records shown on the page; the file has all


def default_stichtag(kind: str, today: date) -> date:
    """The latest Stichtag on or before today (30.06. or 31.01.)."""
    month, day = (6, 30) if kind == "nrw" else (1, 31)
    this_year = date(today.year, month, day)
    return this_year if this_year <= today else date(today.year - 1, month, day)


def _key() -> bytes:
    return svc.pseudonym_key(current_app.config["SECRET_KEY"])


def _kind() -> str:
    kind = request.values.get("kind", "nrw")
    if kind not in svc.KINDS:
        abort(404)
    return kind


def _stichtag(kind: str) -> tuple[date, str | None]:
    text = request.values.get("stichtag", "").strip()
    if not text:
        return default_stichtag(kind, clock.today()), None
    try:
        day = parse_date(text)
        svc.check_stichtag(kind, day)
    except (ValueError, DomainError) as exc:
        return default_stichtag(kind, clock.today()), f"Stichtag: {exc}"
    return day, None


def _snapshot(snapshot_id: int) -> StatisticSnapshot:
    snap = db.session.get(StatisticSnapshot, snapshot_id)
    if snap is None or not svc.visible_snapshot(snap, svc.unit_ids_or_all(db.session, current_actor())):
        abort(404)
    return snap


class HousingStatisticsView(BaseView):
    route_base = "/statistics"
    default_view = "index"
    class_permission_name = PERMISSION
    method_permission_name = {"index": "show", "persons": "show", "download": "show", "snapshot": "show",
                              "compare": "show", "freeze": "edit", "submitted": "edit"}

    @expose("/")
    @has_access
    def index(self):
        kind = _kind()
        stichtag, problem = _stichtag(kind)
        if problem:
            flash(problem, "danger")
        actor = current_actor()
        context = {"kind": kind, "kinds": svc.KINDS, "stichtag": stichtag, "snapshot": None,
                   "deadline": svc.deadline(stichtag) if kind == "bund" else None,
                   "versions": svc.snapshots(db.session, kind, stichtag, actor=actor),
                   "scope_label": svc.scope_label(db.session, actor)}
        try:
            context.update(self._result(kind, stichtag))
        except DomainError as exc:
            flash(str(exc), "danger")
            context.update(report=None, problems=[], rows=[])
        return self.render_template("fachstelle/statistics/page.html", **context)

    def _result(self, kind: str, stichtag: date) -> dict:
        actor = current_actor()
        if kind == "nrw":
            res = svc.nrw(db.session, stichtag, actor=actor)
            return {"report": res.report, "problems": [svc._finding(w) for w in res.warnings],
                    "form_rows": list(files.form_rows(res.report)), "value_at": files.value_at,
                    "count": res.report["personen"]["gesamt"]["insgesamt"]}
        res = svc.bund(db.session, stichtag, _key(), actor=actor)
        return {"report": {"rows": res.rows}, "rows": res.rows[:ROW_LIMIT], "count": len(res.rows),
                "problems": [svc._finding(w) for w in res.problems], "columns": hs.BUND_COLUMNS}

    @expose("/snapshot/<int:snapshot_id>")
    @has_access
    def snapshot(self, snapshot_id: int):
        snap = _snapshot(snapshot_id)
        actor = current_actor()
        context = {"kind": snap.kind, "kinds": svc.KINDS, "stichtag": snap.stichtag, "snapshot": snap,
                   "deadline": svc.deadline(snap.stichtag) if snap.kind == "bund" else None,
                   "versions": svc.snapshots(db.session, snap.kind, snap.stichtag, actor=actor),
                   "scope_label": snap.scope_label, "report": snap.report, "problems": snap.problems}
        if snap.kind == "nrw":
            context.update(form_rows=list(files.form_rows(snap.report)), value_at=files.value_at,
                           count=snap.report["personen"]["gesamt"]["insgesamt"])
        else:
            rows = snap.report["rows"]
            context.update(rows=rows[:ROW_LIMIT], count=len(rows), columns=hs.BUND_COLUMNS)
        return self.render_template("fachstelle/statistics/page.html", **context)

    @expose("/persons")
    @has_access
    def persons(self):
        """The persons behind one number: ``cell`` (a form path, or ``problem:<code>``), live or ``snapshot``."""
        kind, cell = _kind(), request.args.get("cell", "")
        snapshot_id = request.args.get("snapshot", type=int)
        actor = current_actor()
        if snapshot_id:
            snap = _snapshot(snapshot_id)
            kind, stichtag = snap.kind, snap.stichtag
            ids = _ids_of(cell, snap.persons, snap.problems, kind)
        else:
            stichtag, problem = _stichtag(kind)
            if problem:
                abort(404)
            try:
                if kind == "nrw":
                    res = svc.nrw(db.session, stichtag, actor=actor)
                    cells, problems = res.cells, [svc._finding(w) for w in res.warnings]
                else:
                    res = svc.bund(db.session, stichtag, _key(), actor=actor)
                    cells, problems = {"rows": res.person_ids}, [svc._finding(w) for w in res.problems]
            except DomainError:
                abort(404)
            ids = _ids_of(cell, cells, problems, kind)
        if ids is None:
            abort(404)
        page = max(request.args.get("page", 0, type=int), 0)
        unique = list(dict.fromkeys(ids))
        shown = unique[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        people = person_rows(shown, stichtag, actor)
        label = _cell_label(cell, kind, snapshot_id)
        back = (url_for("HousingStatisticsView.snapshot", snapshot_id=snapshot_id) if snapshot_id else
                url_for("HousingStatisticsView.index", kind=kind, stichtag=f"{stichtag:%d.%m.%Y}"))
        return self.render_template("fachstelle/statistics/persons.html", people=people, total=len(unique),
                                    page=page, more=len(unique) > (page + 1) * PAGE_SIZE, label=label,
                                    stichtag=stichtag, kind=kind, kinds=svc.KINDS, back=back,
                                    hidden=len(shown) - len(people))

    @expose("/freeze", methods=["POST"])
    @has_access
    def freeze(self):
        kind = _kind()
        stichtag, problem = _stichtag(kind)
        if problem:
            flash(problem, "danger")
            return redirect(url_for("HousingStatisticsView.index", kind=kind))
        try:
            snap = svc.freeze(db.session, kind, stichtag, _key(), actor=current_actor(),
                              note=(request.form.get("note") or "").strip()[:500] or None)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("HousingStatisticsView.index", kind=kind, stichtag=f"{stichtag:%d.%m.%Y}"))
        flash(f"Stichtag {stichtag:%d.%m.%Y} als Version {snap.version} eingefroren.", "success")
        return redirect(url_for("HousingStatisticsView.snapshot", snapshot_id=snap.id))

    @expose("/submitted/<int:snapshot_id>", methods=["POST"])
    @has_access
    def submitted(self, snapshot_id: int):
        snap = _snapshot(snapshot_id)
        actor = current_actor()
        if snap.submitted_on is None:
            snap.submitted_on = actor.today
            svc.record_change(snap, "submitted", actor, f"Version {snap.version} als geliefert vermerkt "
                                                        f"am {actor.today:%d.%m.%Y}")
            db.session.commit()
            flash(f"Version {snap.version} ist als geliefert vermerkt.", "success")
        return redirect(url_for("HousingStatisticsView.snapshot", snapshot_id=snap.id))

    @expose("/compare")
    @has_access
    def compare(self):
        a, b = request.args.get("a", type=int), request.args.get("b", type=int)
        if not a or not b:
            abort(404)
        old, new = _snapshot(a), _snapshot(b)
        try:
            diffs = svc.compare(old, new)
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("HousingStatisticsView.snapshot", snapshot_id=new.id))
        return self.render_template("fachstelle/statistics/compare.html", old=old, new=new, diffs=diffs,
                                    kinds=svc.KINDS)

    @expose("/download")
    @has_access
    def download(self):
        kind, fmt = _kind(), request.args.get("format", "")
        snapshot_id = request.args.get("snapshot", type=int)
        actor = current_actor()
        if snapshot_id:
            snap = _snapshot(snapshot_id)
            kind, stichtag, report = snap.kind, snap.stichtag, snap.report
            problems = [hs.Finding(p["code"], p["text"], tuple(p["persons"])) for p in snap.problems]
            version = snap.version
        else:
            stichtag, problem = _stichtag(kind)
            if problem:
                abort(404)
            try:
                if kind == "nrw":
                    res = svc.nrw(db.session, stichtag, actor=actor)
                    report, problems = res.report, res.warnings
                else:
                    res = svc.bund(db.session, stichtag, _key(), actor=actor)
                    report, problems = {"rows": res.rows}, res.problems
            except DomainError:
                abort(404)
            version = None
        allowed = ("json", "xlsx") if kind == "nrw" else ("csv", "xlsx")
        if fmt not in allowed:
            abort(404)
        base = f"{'nrw-statistik' if kind == 'nrw' else 'bundesstatistik-woberichtsg'}-{stichtag.isoformat()}"
        name = base + (f"-v{version}" if version else "") + f".{fmt}"
        if fmt == "json":
            data, mime = files.write_nrw_json(report).encode(), "application/json"
        elif fmt == "csv":
            data, mime = files.write_bund_csv(report["rows"]).encode(), "text/csv; charset=utf-8"
        else:
            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / name
                if kind == "nrw":
                    files.write_nrw_xlsx(report, target, clock.now(), built_registry().spec.settings.city_name,
                                         version)
                else:
                    files.write_bund_xlsx(report["rows"], target, problems)
                data = target.read_bytes()
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if snapshot_id:
            svc.record_change(snap, "export", actor, f"{name} heruntergeladen")
        # Every download is an export in the history, like the lists' XLSX (who, what, Stichtag, version, rows).
        what = "NRW-Statistik" if kind == "nrw" else "Bundesstatistik (WoBerichtsG)"
        rows = (report.get("personen", {}).get("gesamt", {}).get("insgesamt") if kind == "nrw"
                else len(report.get("rows") or ()))
        detail = (f"Stichtag {format_date(stichtag)}; {fmt.upper()}; "
                  + (f"eingefrorene Fassung {version}" if snapshot_id else "aktueller Stand") + f"; Datei {name}")
        record_export(db.session, actor.name, what, detail, rows, clock.utcnow())
        db.session.commit()
        return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


def _ids_of(cell: str, cells: dict, problems: list[dict], kind: str) -> list[int] | None:
    if cell.startswith("problem:"):
        code = cell.removeprefix("problem:")
        found = next((p for p in problems if p["code"] == code), None)
        return None if found is None else list(found["persons"])
    if kind == "bund":
        return list(cells.get("rows", [])) if cell == "alle" else None
    if cell not in _known_cells():
        return None
    return list(cells.get(cell, []))


def _known_cells() -> set[str]:
    skeleton = hs.nrw_report([], date(2000, 6, 30)).report
    out = {"haushalte.gesamt"}
    for _kind, _label, total, female in files.form_rows(skeleton):
        out.update(p for p in (total, female) if p)
    return out


def _cell_label(cell: str, kind: str, snapshot_id: int | None) -> str:
    if cell.startswith("problem:"):
        return "Plausibilitätshinweis"
    if kind == "bund":
        return "alle Datensätze"
    for _kind, label, total, female in files.form_rows(hs.nrw_report([], date(2000, 6, 30)).report):
        if cell == total:
            return label + (" (insgesamt)" if female else "")
        if cell == female:
            return label + " (davon weiblich)"
    return cell


def person_rows(person_ids: list[int], stichtag: date, actor) -> list:
    """The persons with their occupancy on the Stichtag that the user may see (scoped like the figures)."""
    if not person_ids:
        return []
    reg = built_registry()
    occ, case, partner = reg.model("occupancy"), reg.model("case"), reg.model("partner")
    query = (select(occ, case, partner).join(case, case.id == occ.case_id).join(partner, partner.id == occ.person_id)
             .where(occ.person_id.in_(person_ids), occ.move_in <= stichtag,
                    or_(occ.move_out.is_(None), occ.move_out > stichtag)))
    query = scope_query(scope_query(query, occ, actor=actor), case, actor=actor)
    seen, out = set(), []
    order = {pid: i for i, pid in enumerate(person_ids)}
    for o, c, p in sorted(db.session.execute(query).all(), key=lambda r: order[r[0].person_id]):
        if p.id in seen:
            continue
        seen.add(p.id)
        out.append({"occupancy": o, "case": c, "person": p})
    return out


def register_statistics_views(appbuilder) -> None:
    appbuilder.add_view(HousingStatisticsView, icon="fa-table", category_icon="fa-bar-chart",
                        **menus.item(menus.HOUSING_STATISTICS, menus.REPORTS))
