"""The plain reference: each measured page written by hand with ``select()`` and a minimal Jinja template.

It runs the same query as the app (same filter, order, limit and org-unit condition) in the same
process, behind the same test client, login and session, so the ratio app/reference shows what the
engine (Flask-AppBuilder, generated views, permission checks) adds on top of the work itself.
Related records shown in a list are loaded with one ``selectinload`` each, as a careful hand-written
page would.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core_models import ChangeLog
from app.domain.phonetics import WARN_SCORE, duplicate_score, phonetic
from app.extensions import db
from app.metamodel.build_models import lc_name
from app.scoping import org_condition
from app.services.partners import CANDIDATES, _near_dates
from app.web.filters import PREFIX_END, normalise

reference = Blueprint("bench_reference", __name__, url_prefix="/_bench")

LIST_HTML = """<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><table><thead><tr>{% for c in columns %}<th>{{ labels[c] }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr><td><a href="/{{ route }}/show/{{ row.id }}">öffnen</a></td>
{% for c in columns %}<td>{{ fmt(c, row) }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></body></html>"""

SHOW_HTML = """<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}: {{ item }}</h1><dl>{% for c in columns %}<dt>{{ labels[c] }}</dt><dd>{{ fmt(c, item) }}</dd>
{% endfor %}</dl>{% for page in pages %}<h2>{{ page.title }}</h2><table>{% for row in page.rows %}<tr>
<td><a href="/{{ page.route }}/show/{{ row.id }}">öffnen</a></td>{% for c in page.columns %}<td>{{ fmt(c, row) }}</td>
{% endfor %}</tr>{% endfor %}</table>{% endfor %}<h2>Änderungsverlauf</h2><table>{% for h in history %}<tr>
<td>{{ h.changed_at }}</td><td>{{ h.changed_by }}</td><td>{{ h.field }}</td><td>{{ h.new_value }}</td></tr>
{% endfor %}</table></body></html>"""


_COMPILED: dict[str, object] = {}


def _template(source: str):
    # Compiled once, as Flask's template loader caches a template file.
    if source not in _COMPILED:
        _COMPILED[source] = current_app.jinja_env.from_string(source)
    return _COMPILED[source]


def _views():
    return current_app.config["FACHSTELLE_VIEWS"]


def _entity(name: str):
    registry = current_app.config["FACHSTELLE_REGISTRY"]
    if name not in registry.entities:
        abort(404)
    return registry.entity(name), registry.model(name)


def _visible_ids() -> list[int] | None:
    if not current_user.is_authenticated:
        abort(401)
    if any(role.name == "Admin" for role in current_user.roles):
        return None
    return [unit.id for unit in current_user.org_units]


def _scoped(query, entity, model, ids):
    condition = org_condition(model, ids, entity.org_scope == "shared")
    return query if condition is None else query.where(condition)


def _formatter(view):
    formatters = view.formatters_columns

    def fmt(column, row):
        value = getattr(row, column)
        return formatters[column](value) if column in formatters else ("" if value is None else value)
    return fmt


def _eager(entity, model, columns):
    # Choice fields are joined by the model itself (lazy="joined"); references get one extra query.
    refs = [f.name for f in entity.fields if f.type == "ref" and f.name in columns]
    return [selectinload(getattr(model, name)) for name in refs]


def _list_query(entity, model, columns, ids):
    query = select(model).options(*_eager(entity, model, columns))
    query = _scoped(query, entity, model, ids)
    view = _views()[entity.name]
    order, direction = request.args.get("order") or view.base_order[0], request.args.get("dir") or view.base_order[1]
    column = _sort_column(model, order)
    field, value = request.args.get("prefix_field"), normalise(request.args.get("prefix", ""))
    limit = int(request.args.get("limit", 25))
    if field and value:
        twin = getattr(model, lc_name(field))
        condition = (twin >= value, twin < value + PREFIX_END)
        query = query.where(*condition)
        # The app's query for a prefix with few matches (FachstelleInterface._page_among_matches): the page's
        # keys are sorted among the matches behind OFFSET 0, so that PostgreSQL does not walk the sort index.
        matches = _scoped(select(model.id.label("pk"), column.label("sort_key")).where(*condition),
                          entity, model, ids).offset(0).subquery()
        way = (lambda c: c.desc()) if direction == "desc" else (lambda c: c.asc())
        query = query.where(model.id.in_(select(matches.c.pk).order_by(way(matches.c.sort_key), way(matches.c.pk))
                                          .limit(limit)))
    return query.order_by(*_order_by(model, column, direction)).limit(limit)


def _sort_column(model, order: str):
    return getattr(model, lc_name(order), None) or getattr(model, order)  # names sort case-insensitively


def _order_by(model, column, direction: str) -> tuple:
    if direction == "desc":
        return column.desc(), model.id.desc()
    return column.asc(), model.id.asc()


@reference.get("/list/<entity_name>")
def list_page(entity_name: str):
    ids = _visible_ids()
    entity, model = _entity(entity_name)
    view = _views()[entity_name]
    columns = list(view.list_columns)
    rows = db.session.scalars(_list_query(entity, model, columns, ids)).unique().all()
    template = _template(LIST_HTML)
    return template.render(title=entity.plural, columns=columns, labels=view.label_columns, rows=rows,
                           route=view.route_base.strip("/"), fmt=_formatter(view))


@reference.get("/show/<entity_name>/<int:pk>")
def show_page(entity_name: str, pk: int):
    ids = _visible_ids()
    entity, model = _entity(entity_name)
    view = _views()[entity_name]
    item = db.session.scalars(_scoped(select(model).where(model.id == pk), entity, model, ids)).first()
    if item is None:
        abort(404)
    pages = []
    for name in request.args.get("pages", "").split(","):
        if not name:
            continue
        child_entity, child = _entity(name)
        child_view = _views()[name]
        parent_field = next(f for f in child_entity.fields if f.type == "ref" and f.ref == entity_name)
        columns = list(child_view.list_columns)
        query = select(child).options(*_eager(child_entity, child, columns)).where(
            getattr(child, f"{parent_field.name}_id") == pk)
        # In the order of the page's own list (its YAML default order), as the app's tab shows it.
        order, direction = child_view.base_order or ("id", "desc")
        query = _scoped(query, child_entity, child, ids).order_by(
            *_order_by(child, _sort_column(child, order), direction)).limit(25)
        pages.append({"title": child_entity.plural, "route": child_view.route_base.strip("/"), "columns": columns,
                      "rows": db.session.scalars(query).unique().all()})
    history = db.session.scalars(select(ChangeLog).where(ChangeLog.entity == entity_name, ChangeLog.record_id == pk)
                                 .order_by(ChangeLog.changed_at.desc(), ChangeLog.id.desc()).limit(200)).all()
    template = _template(SHOW_HTML)
    return template.render(title=entity.label, item=item, columns=list(view.show_columns),
                           labels=view.label_columns, pages=pages, history=history, fmt=_formatter(view))


def _json_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "id") and hasattr(value, "__table__"):
        return {"id": value.id, "text": str(value)}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def _api_columns(entity):
    return ["id", *[f.name for f in entity.fields if not f.hidden]]


@reference.get("/api/<entity_name>/")
def api_list(entity_name: str):
    ids = _visible_ids()
    entity, model = _entity(entity_name)
    columns = _api_columns(entity)
    rows = db.session.scalars(_list_query(entity, model, columns, ids)).unique().all()
    return jsonify(count=len(rows), ids=[r.id for r in rows],
                   result=[{c: _json_value(getattr(r, c)) for c in columns} for r in rows])


@reference.get("/api/<entity_name>/<int:pk>")
def api_get(entity_name: str, pk: int):
    ids = _visible_ids()
    entity, model = _entity(entity_name)
    item = db.session.scalars(_scoped(select(model).where(model.id == pk), entity, model, ids)).first()
    if item is None:
        abort(404)
    columns = [*_api_columns(entity), "created_at", "created_by", "updated_at", "updated_by"]
    return jsonify(id=pk, result={c: _json_value(getattr(item, c)) for c in columns})


@reference.get("/duplicates")
def duplicates():
    from app.metamodel.kinds.form_fields import parse_german_date
    ids = _visible_ids()
    entity, model = _entity("partner")
    surname, first = request.args.get("surname", ""), request.args.get("first_name", "")
    birth = parse_german_date(request.args["birth_date"]) if request.args.get("birth_date") else None
    seen = {}
    # The same three indexed look-ups as find_duplicates (app/services/partners.py), each capped.
    keys = sorted({phonetic(surname), *phonetic(surname).split()} - {""})
    first_code = phonetic(first)
    lookups = []
    if birth:
        lookups.append(model.birth_date == birth)
        if keys:
            lookups.append(model.surname_phon.in_(keys) & model.birth_date.in_(_near_dates(birth)))
    if keys and first_code:
        lookups.append(model.surname_phon.in_(keys) & (model.first_name_phon == first_code))
    for condition in lookups:
        query = _scoped(select(model).where(condition), entity, model, ids).order_by(model.id).limit(CANDIDATES)
        for row in db.session.scalars(query):
            seen[row.id] = row
    scored = [(duplicate_score(surname, first, birth, p.surname, p.first_name, p.birth_date), p) for p in seen.values()]
    scored = sorted(((s, p) for s, p in scored if s >= WARN_SCORE), key=lambda sp: (-sp[0], sp[1].id))[:10]
    return jsonify(results=[{"id": p.id, "text": str(p), "score": s, "url": f"/partner/show/{p.id}"}
                            for s, p in scored])
