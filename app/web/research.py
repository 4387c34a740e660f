"""The research page (Recherche, #14 §3): build a query from fields, filter, sort, group, chart, save, export.

Permission: ``can_show`` on ``Research`` (admin function "research"). Which fields exist is decided per
request from the user's list permissions (``can_list`` on the entity's permission): a page the profile may
not read contributes no field, so neither a form nor a hand-made URL nor a saved query shared by someone
else can reach it. Rows are what ``scope_query`` lets the user see. The definition travels in the query
string (``e``, ``c``, ``f0/o0/v0/w0`` …, ``s``, ``d``, ``g1``, ``g2``, ``m``, ``mf``, ``chart``), so the
export is the very definition on the screen.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from .. import clock
from ..core_models import CatalogueValue
from ..extensions import db
from ..services import research as service
from ..services.research import Definition, Filter, ResearchError, ResearchFields
from . import menus
from .actor import current_actor
from .build_views import permission_name
from .xlsx import xlsx_response

PERMISSION = "Research"
FILTER_ROWS = 6
CHART_TYPES = {"bar": "Balken", "line": "Linie", "pie": "Kreis"}


def research_fields() -> ResearchFields:
    sm = current_app.appbuilder.sm
    cache: dict[str, bool] = {}

    def can_read(entity: str) -> bool:
        if entity not in cache:
            # #15: a sensitive page takes reading (a list-only profile sees its fields masked, so not here).
            spec = current_app.config["FACHSTELLE_SPEC"].entity(entity)
            action = "can_show" if spec is not None and spec.is_sensitive else "can_list"
            cache[entity] = bool(sm.has_access(action, permission_name(entity)))
        return cache[entity]
    return ResearchFields(current_app.config["FACHSTELLE_REGISTRY"], can_read)


def definition_from_args(args) -> Definition | None:
    entity = (args.get("e") or "").strip()
    if not entity:
        return None
    filters = []
    for i in range(FILTER_ROWS * 2):
        key = (args.get(f"f{i}") or "").strip()
        if not key:
            continue
        values = [v for v in args.getlist(f"v{i}") if v.strip()]
        op = (args.get(f"o{i}") or "").strip()
        value = values if op in ("in", "not_in") else (values[0] if values else None)
        filters.append(Filter(key, op, value, args.get(f"w{i}") or None))
    groups = [g for g in (args.get("g1"), args.get("g2")) if g]
    return Definition(entity=entity, columns=[c for c in args.getlist("c") if c], filters=filters,
                      sort=args.get("s") or None, descending=args.get("d") == "desc", group_by=groups,
                      measure=args.get("m") or "count", measure_field=args.get("mf") or None,
                      chart=args.get("chart") or "bar")


def definition_args(definition: Definition) -> list[tuple[str, str]]:
    """The query string of a definition (the way back from a saved query to the page and its export)."""
    out = [("e", definition.entity)] + [("c", c) for c in definition.columns]
    for i, flt in enumerate(definition.filters):
        out += [(f"f{i}", flt.field), (f"o{i}", flt.op)]
        values = flt.value if isinstance(flt.value, list) else [flt.value] if flt.value not in (None, "") else []
        out += [(f"v{i}", str(v)) for v in values]
        if flt.value2:
            out.append((f"w{i}", str(flt.value2)))
    if definition.sort:
        out += [("s", definition.sort), ("d", "desc" if definition.descending else "asc")]
    for i, g in enumerate(definition.group_by[:2]):
        out.append((f"g{i + 1}", g))
    out.append(("m", definition.measure))
    if definition.measure_field:
        out.append(("mf", definition.measure_field))
    out.append(("chart", definition.chart))
    return out


def _field_catalogue(fields: list) -> dict:
    """What the page's script needs per field: family (for the operators) and catalogue values."""
    catalogues = {f.spec.catalogue for f in fields if f.family == "choice"}
    values: dict[str, list] = {}
    if catalogues:
        rows = db.session.execute(select(CatalogueValue.catalogue, CatalogueValue.code, CatalogueValue.label)
                                  .where(CatalogueValue.catalogue.in_(catalogues))
                                  .order_by(CatalogueValue.catalogue, CatalogueValue.sort, CatalogueValue.label))
        for row in rows:
            values.setdefault(row.catalogue, []).append([row.code, row.label])
    return {f.key: {"family": f.family, "label": f.label,
                    "values": values.get(f.spec.catalogue, []) if f.family == "choice" else []}
            for f in fields}


def chart_data(table: service.CrossTable, chart: str) -> dict:
    """The Chart.js data of a cross-table: one dataset per column group (or one for the totals)."""
    def number(value):
        return None if value is None else float(value)
    if table.col_field is None:
        datasets = [{"label": table.measure_label, "data": [number(table.row_totals[k]) for k in table.row_keys]}]
    else:
        datasets = [{"label": label, "data": [number(table.cell(r, c)) for r in table.row_keys]}
                    for c, label in zip(table.col_keys, table.col_labels)]
    return {"type": chart, "labels": table.row_labels, "datasets": datasets}


class ResearchView(BaseView):
    route_base = "/research"
    default_view = "index"
    class_permission_name = PERMISSION
    method_permission_name = {"index": "show", "export": "show", "save": "show", "delete": "show"}

    def _checked(self, fields: ResearchFields, definition: Definition | None):
        if definition is None:
            return None
        return service.check(definition, fields)

    @expose("/")
    @has_access
    def index(self):
        actor = current_actor()
        fields = research_fields()
        roots = fields.roots()
        saved = service.visible_saved(db.session, actor)
        definition, problem, result, table, checked = None, None, None, None, None
        if request.args.get("q", "").isdigit():
            try:
                query = service.saved_query(db.session, int(request.args["q"]), actor)
                definition = Definition.from_json(query.definition)
                return redirect(url_for("ResearchView.index") + "?" + urlencode(
                    definition_args(definition) + [("run", "1"), ("name", query.name),
                                                   ("share", query.shared_profile or "")]))
            except ResearchError as exc:
                problem = str(exc)
        else:
            definition = definition_from_args(request.args)
        entity = definition.entity if definition else (request.args.get("e") or (roots[0].name if roots else None))
        available = fields.fields(entity) if entity else []
        if definition is not None and request.args.get("run"):
            try:
                checked = service.check(definition, fields)
                if checked.definition.grouped:
                    table = service.run_grouped(db.session, checked, current_app.config["FACHSTELLE_REGISTRY"], actor)
                else:
                    result = service.run_list(db.session, checked, current_app.config["FACHSTELLE_REGISTRY"], actor)
                    db.session.commit()  # the access log of the sensitive records shown (#15)
            except ResearchError as exc:
                problem = str(exc)
        if definition is None:
            definition = Definition(entity=entity or "")
        profiles = [p.name for p in current_app.config["FACHSTELLE_SPEC"].roles.profiles]
        return self.render_template(
            "fachstelle/research/page.html", roots=roots, entity=entity, fields=available,
            field_info=json.dumps(_field_catalogue(available), ensure_ascii=False),
            operators=service.OPERATORS, definition=definition, filter_rows=FILTER_ROWS,
            problem=problem, result=result, table=table, checked=checked, saved=saved, profiles=profiles,
            measures=service.MEASURES, chart_types=CHART_TYPES, date_parts=service.DATE_PARTS,
            chart=json.dumps(chart_data(table, definition.chart), ensure_ascii=False) if table else None,
            export_query=urlencode(definition_args(definition)) if checked else "",
            description=service.describe(checked) if checked else "",
            group_title=service.group_title, name=request.args.get("name", ""),
            this_user=actor.user_id, fs_page_title="Recherche")

    @expose("/export")
    @has_access
    def export(self):
        actor = current_actor()
        registry = current_app.config["FACHSTELLE_REGISTRY"]
        try:
            definition = definition_from_args(request.args)
            if definition is None:
                raise ResearchError("Keine Abfrage angegeben.")
            checked = service.check(definition, research_fields())
        except ResearchError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("ResearchView.index"))
        what = f"Recherche {checked.root.plural}"
        detail = service.describe(checked)
        title = f"{detail} – Stand {clock.now().strftime('%d.%m.%Y %H:%M')}"
        if checked.definition.grouped:
            table = service.run_grouped(db.session, checked, registry, actor)
            columns, rows = service.cross_table_rows(checked, table)
            return xlsx_response(columns, rows, f"recherche_{checked.root.name}", what=what, detail=detail,
                                 sheet="Auswertung", title=title)
        return xlsx_response(service.xlsx_columns(checked), service.iter_rows(db.session, checked, registry, actor),
                             f"recherche_{checked.root.name}", what=what, detail=detail, sheet=checked.root.plural,
                             title=title)

    @expose("/save", methods=["POST"])
    @has_access
    def save(self):
        actor = current_actor()
        definition = definition_from_args(request.form)
        try:
            if definition is None:
                raise ResearchError("Keine Abfrage angegeben.")
            checked = service.check(definition, research_fields())
            profiles = [p.name for p in current_app.config["FACHSTELLE_SPEC"].roles.profiles]
            query = service.save_query(db.session, checked, request.form.get("name", ""),
                                       request.form.get("share") or None, actor, profiles, clock.utcnow())
            db.session.commit()
        except ResearchError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            if definition is None:
                return redirect(url_for("ResearchView.index"))
            return redirect(url_for("ResearchView.index") + "?" + urlencode(definition_args(definition)))
        flash(f"Abfrage „{query.name}“ gespeichert"
              + (f" und für das Profil {query.shared_profile} freigegeben." if query.shared_profile else "."),
              "success")
        return redirect(url_for("ResearchView.index") + "?" + urlencode(
            definition_args(definition) + [("run", "1"), ("name", query.name),
                                           ("share", query.shared_profile or "")]))

    @expose("/delete/<int:query_id>", methods=["POST"])
    @has_access
    def delete(self, query_id: int):
        try:
            name = service.delete_query(db.session, query_id, current_actor())
            db.session.commit()
        except ResearchError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(f"Abfrage „{name}“ gelöscht.", "success")
        return redirect(url_for("ResearchView.index"))


def german_number(value) -> str:
    """A figure of a cross-table or a tile: "1.234" for counts, "1.234,56" for sums and averages, "–" for none."""
    from decimal import Decimal

    from ..domain.money import format_decimal
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, (Decimal, float)):
        return format_decimal(value, 2)
    return str(value)


def german_value(value) -> str:
    """A cell of the research list: TT.MM.JJJJ, ja/nein, German digits; None is empty."""
    from decimal import Decimal

    from ..domain.money import format_decimal
    from ..metamodel.kinds import plain_text
    if isinstance(value, Decimal):
        return format_decimal(value, 2)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    return plain_text(value) or ""


def register_research_views(appbuilder) -> None:
    from .xlsx import progress_blueprint
    appbuilder.app.register_blueprint(progress_blueprint)
    app = appbuilder.app
    app.jinja_env.globals["fs_has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    appbuilder.app.jinja_env.filters["fs_number"] = german_number
    appbuilder.app.jinja_env.filters["fs_value"] = german_value
    appbuilder.add_view(ResearchView, icon="fa-search-plus", category_icon="fa-bar-chart",
                        **menus.item(menus.RESEARCH, menus.REPORTS))
    register_export_history(appbuilder)


class ExportHistoryView(BaseView):
    """Administration › Exporte (Verlauf): who exported which list or report, with which filters, when (#14)."""

    route_base = "/exports"
    default_view = "index"
    class_permission_name = "ExportHistory"
    method_permission_name = {"index": "list"}

    @expose("/")
    @has_access
    def index(self):
        from ..services.xlsx_export import export_history
        return self.render_template("fachstelle/research/exports.html", entries=export_history(db.session, 500),
                                    fs_page_title="Exporte (Verlauf)")


def register_export_history(appbuilder) -> None:
    appbuilder.add_view(ExportHistoryView, icon="fa-file-excel-o", **menus.item(menus.EXPORT_HISTORY, menus.ADMIN))
