"""The research module (Recherchemodul, #14 §3): free queries over an entity and its child pages, without SQL.

A query is a ``Definition`` (plain data: JSON in a saved query, the query string on the page). It is checked
against the fields *this* actor may read — ``ResearchFields``, built from the YAML metamodel and a
``can_read(entity_name)`` check that the page takes from the profile's list permission — and only then
turned into a SQLAlchemy expression. A field on a page the user may not read does not exist for them: a
definition naming it is refused with the same message as a typo. Nothing the user types becomes SQL text:
field keys are looked up in the catalogue, operators in a fixed table, values are parsed (German dates and
numbers) and bound as parameters.

Rows are always what ``scope_query`` lets the actor see: the entity's rows through ``scope_query``, the
child pages joined with the same org-unit condition in the join, so a child row of another unit never
shows. Counting is "Anzahl <entity>" — distinct records of the entity, so a case with three income rows
counts once per group.

Field keys: ``opened_on`` (a field of the entity) or ``household_income.amount`` (a field of a child page).
Grouping: up to two keys, a date field optionally by ``year`` or ``month`` (``opened_on:year``).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, distinct, exists, extract, func, or_, select
from sqlalchemy.orm import aliased

from ..actor import Actor
from ..core_models import CatalogueValue
from ..domain import dates, money
from ..errors import DomainError
from ..metamodel.build_models import column_name, short_title
from ..metamodel.kinds import is_kind, kind_of, points_to
from ..scoping import org_condition, scope_query
from .xlsx_export import XlsxColumn, column_for_field

MAX_COLUMNS = 30
MAX_FILTERS = 12
MAX_ROWS_SHOWN = 500
MAX_GROUPS = 200

TEXT_KINDS = ("string", "text", "file", "iban", "email", "phone")
NUMBER_KINDS = ("integer", "decimal", "money", "percent")
# Operators per kind family (key: German label). "empty"/"not_empty" take no value; "between" two.
OPERATORS = {
    "text": {"contains": "enthält", "eq": "ist gleich", "starts": "beginnt mit", "empty": "ist leer",
             "not_empty": "ist nicht leer"},
    "number": {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "between": "zwischen",
               "empty": "ist leer", "not_empty": "ist nicht leer"},
    "date": {"eq": "am", "before": "vor", "after": "nach", "between": "von … bis", "empty": "ist leer",
             "not_empty": "ist nicht leer"},
    "bool": {"true": "ja", "false": "nein", "empty": "ist leer"},
    "choice": {"in": "ist einer von", "not_in": "ist keiner von", "empty": "ist leer", "not_empty": "ist nicht leer"},
    "ref": {"empty": "ist leer", "not_empty": "ist nicht leer"},
}
NO_VALUE = {"empty", "not_empty", "true", "false"}
MEASURES = {"count": "Anzahl", "sum": "Summe", "avg": "Durchschnitt"}
DATE_PARTS = {"year": "Jahr", "month": "Monat"}


def family(kind_name: str) -> str:
    if kind_name in TEXT_KINDS:
        return "text"
    if kind_name in NUMBER_KINDS:
        return "number"
    if kind_name in ("date", "datetime"):
        return "date"
    if kind_name == "boolean":
        return "bool"
    if kind_name in ("choice", "multichoice"):
        return "choice"
    return "ref"


class ResearchError(DomainError):
    """A definition that cannot run: a German message naming the field, operator or value."""


# --- the fields an actor may use ----------------------------------------------------------------------
@dataclass(frozen=True)
class ResearchField:
    key: str  # "opened_on" or "household_income.amount"
    entity: str  # the entity (page) the field lives on
    spec: object  # FieldSpec
    page_label: str  # "Fallakte", "Einkommen des Haushalts"
    child: bool

    @property
    def label(self) -> str:
        return self.spec.label if not self.child else f"{self.page_label}: {self.spec.label}"

    @property
    def family(self) -> str:
        return family(self.spec.type)

    @property
    def groupable(self) -> bool:
        return not is_kind(self.spec, "multichoice", "text")

    @property
    def in_columns(self) -> bool:
        return not is_kind(self.spec, "multichoice")


def _readable_fields(entity) -> list:
    return [f for f in entity.fields if not f.hidden and f.show_in_show]


def child_entities(registry, root_name: str) -> list:
    """The child pages of an entity (YAML ``parent``), in the order of its ``related`` list."""
    root = registry.entity(root_name)
    children = [em.spec for em in registry if em.spec.parent == root_name]
    rank = {name: i for i, name in enumerate(root.related)}
    return sorted(children, key=lambda e: rank.get(e.name, len(rank)))


def parent_field(child, root_name: str):
    """The ref field of a child page pointing at its parent."""
    if child.parent_field:
        return child.field(child.parent_field)
    return next(f for f in child.fields if points_to(f, root_name))


class ResearchFields:
    """What one actor may query: the root entities they may read, and per entity its fields and child fields."""

    def __init__(self, registry, can_read: Callable[[str], bool]):
        self.registry = registry
        self.can_read = can_read

    def roots(self) -> list:
        """Entities to start a query from: top-level pages (no parent) the actor may read."""
        return [em.spec for em in self.registry if em.spec.parent is None and self.can_read(em.spec.name)]

    def fields(self, root_name: str) -> list[ResearchField]:
        if not self._root_ok(root_name):
            return []
        root = self.registry.entity(root_name)
        out = [ResearchField(f.name, root.name, f, root.label, False) for f in _readable_fields(root)]
        for child in child_entities(self.registry, root_name):
            if not self.can_read(child.name):
                continue  # a page the actor may not see: its fields do not exist for them
            link = parent_field(child, root_name).name
            out += [ResearchField(f"{child.name}.{f.name}", child.name, f, child.plural, True)
                    for f in _readable_fields(child) if f.name != link]
        return out

    def _root_ok(self, name: str) -> bool:
        return (name in self.registry.entities and self.registry.entity(name).parent is None
                and self.can_read(name))

    def lookup(self, root_name: str) -> dict[str, ResearchField]:
        return {f.key: f for f in self.fields(root_name)}


# --- the definition -------------------------------------------------------------------------------------
@dataclass
class Filter:
    field: str
    op: str
    value: str | list[str] | None = None
    value2: str | None = None


@dataclass
class Definition:
    entity: str
    columns: list[str] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    sort: str | None = None
    descending: bool = False
    group_by: list[str] = field(default_factory=list)  # up to two keys; a date field may end in :year/:month
    measure: str = "count"
    measure_field: str | None = None
    chart: str = "bar"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> Definition:
        if not isinstance(data, dict) or not isinstance(data.get("entity"), str):
            raise ResearchError("Die gespeicherte Abfrage ist unlesbar (keine Seite angegeben).")
        filters = [Filter(**{k: v for k, v in f.items() if k in ("field", "op", "value", "value2")})
                   for f in data.get("filters") or [] if isinstance(f, dict)]
        return cls(entity=data["entity"], columns=[str(c) for c in data.get("columns") or []], filters=filters,
                   sort=data.get("sort") or None, descending=bool(data.get("descending")),
                   group_by=[str(g) for g in data.get("group_by") or []], measure=data.get("measure") or "count",
                   measure_field=data.get("measure_field") or None, chart=data.get("chart") or "bar")

    @classmethod
    def from_json(cls, text: str) -> Definition:
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, TypeError) as exc:
            raise ResearchError("Die gespeicherte Abfrage ist unlesbar.") from exc

    @property
    def grouped(self) -> bool:
        return bool(self.group_by)


@dataclass
class Checked:
    """A definition resolved against the actor's fields: every key is a ResearchField."""

    definition: Definition
    root: object  # EntitySpec
    columns: list[ResearchField]
    filters: list[tuple[ResearchField, str, object, object]]
    sort: ResearchField | None
    groups: list[tuple[ResearchField, str | None]]
    measure_field: ResearchField | None

    @property
    def children(self) -> list[str]:
        used = [f for f in self.columns] + [f for f, *_ in self.filters] + [g for g, _ in self.groups]
        used += [f for f in (self.sort, self.measure_field) if f is not None]
        names: list[str] = []
        for f in used:
            if f.child and f.entity not in names:
                names.append(f.entity)
        return names


def _parse_value(f: ResearchField, text, label: str):
    kind = f.spec.type
    fam = f.family
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ResearchError(f"„{f.label}“: bitte einen Wert für „{label}“ angeben.")
    try:
        if fam == "number":
            if kind == "integer":
                return int(money.parse_decimal(str(text), 0, what=f.label))
            return money.parse_decimal(str(text), None, what=f.label)
        if fam == "date":
            return dates.parse_date(str(text))
    except ValueError as exc:
        raise ResearchError(f"„{f.label}“: {exc}") from None
    return str(text).strip()


def check(definition: Definition, fields: ResearchFields) -> Checked:
    """Resolve every key against the actor's fields; a German ResearchError for anything unknown or wrong."""
    if not fields._root_ok(definition.entity):
        raise ResearchError(f"Die Seite „{definition.entity}“ gibt es nicht oder Sie dürfen sie nicht lesen.")
    known = fields.lookup(definition.entity)
    root = fields.registry.entity(definition.entity)

    def resolve(key: str, what: str) -> ResearchField:
        found = known.get(key)
        if found is None:
            raise ResearchError(f"{what}: das Feld „{key}“ gibt es auf „{root.label}“ nicht "
                                "(oder Sie dürfen die Seite nicht lesen).")
        return found

    if len(definition.columns) > MAX_COLUMNS:
        raise ResearchError(f"Höchstens {MAX_COLUMNS} Spalten.")
    columns = []
    for key in definition.columns:
        f = resolve(key, "Spalte")
        if not f.in_columns:
            raise ResearchError(f"Spalte: „{f.label}“ (Mehrfachauswahl) kann nur gefiltert werden.")
        if f not in columns:
            columns.append(f)
    if len(definition.filters) > MAX_FILTERS:
        raise ResearchError(f"Höchstens {MAX_FILTERS} Filter.")
    filters = []
    for flt in definition.filters:
        f = resolve(flt.field, "Filter")
        ops = OPERATORS[f.family]
        if flt.op not in ops:
            raise ResearchError(f"Filter „{f.label}“: die Bedingung „{flt.op}“ passt nicht zu diesem Feld "
                                f"(möglich: {', '.join(ops.values())}).")
        value = value2 = None
        if flt.op in ("in", "not_in"):
            value = _catalogue_ids(fields, f, flt.value)
        elif flt.op not in NO_VALUE:
            first = ops.get("between") if flt.op == "between" else ops[flt.op]
            value = _parse_value(f, flt.value, "von" if flt.op == "between" else first)
            if flt.op == "between":
                value2 = _parse_value(f, flt.value2, "bis")
                if value2 < value:
                    raise ResearchError(f"Filter „{f.label}“: „bis“ liegt vor „von“.")
        filters.append((f, flt.op, value, value2))
    sort = resolve(definition.sort, "Sortierung") if definition.sort else None
    if sort is not None and not sort.in_columns:
        raise ResearchError(f"Sortierung: nach „{sort.label}“ kann nicht sortiert werden.")
    if len(definition.group_by) > 2:
        raise ResearchError("Gruppieren: höchstens nach zwei Feldern.")
    groups = []
    for key in definition.group_by:
        base, _, part = key.partition(":")
        f = resolve(base, "Gruppieren")
        if not f.groupable:
            raise ResearchError(f"Gruppieren: nach „{f.label}“ kann nicht gruppiert werden.")
        if part and (part not in DATE_PARTS or f.family != "date"):
            raise ResearchError(f"Gruppieren: „{part}“ gibt es nur für Datumsfelder (Jahr, Monat).")
        groups.append((f, part or None))
    if definition.measure not in MEASURES:
        raise ResearchError(f"Kennzahl „{definition.measure}“ gibt es nicht (Anzahl, Summe, Durchschnitt).")
    measure_field = None
    if definition.measure != "count":
        if not definition.measure_field:
            raise ResearchError(f"{MEASURES[definition.measure]}: bitte ein Zahlenfeld wählen.")
        measure_field = resolve(definition.measure_field, MEASURES[definition.measure])
        if measure_field.family != "number":
            raise ResearchError(f"{MEASURES[definition.measure]}: „{measure_field.label}“ ist kein Zahlenfeld.")
    if definition.chart not in ("bar", "line", "pie"):
        definition.chart = "bar"
    if not definition.grouped and not columns:
        raise ResearchError("Bitte mindestens eine Spalte wählen oder gruppieren.")
    return Checked(definition, root, columns, filters, sort, groups, measure_field)


def _catalogue_ids(fields: ResearchFields, f: ResearchField, value) -> list[int]:
    """Catalogue values by id or code, each checked to belong to the field's catalogue."""
    items = value if isinstance(value, list) else [v for v in str(value or "").split(",")]
    items = [str(v).strip() for v in items if str(v).strip()]
    if not items:
        raise ResearchError(f"Filter „{f.label}“: bitte mindestens einen Wert wählen.")
    return items  # resolved to ids (within the catalogue) when the query is built


# --- building the query -----------------------------------------------------------------------------------
class _Builder:
    def __init__(self, session, checked: Checked, registry, actor: Actor):
        self.session, self.checked, self.registry, self.actor = session, checked, registry, actor
        self.root_model = registry.model(checked.root.name)
        self.models = {checked.root.name: self.root_model}
        self.joins = []
        for child_name in checked.children:
            child = registry.entity(child_name)
            model = aliased(registry.model(child_name), name=f"c_{child_name}")
            link = getattr(model, column_name(parent_field(child, checked.root.name)))
            on = link == self.root_model.id
            # The child rows the actor may see: the same org-unit rule as scope_query, inside the join.
            condition = org_condition(model, actor.visible_units, child.org_scope == "shared") \
                if child.org_scope != "none" else None
            if condition is not None:
                on = and_(on, condition)
            self.models[child_name] = model
            self.joins.append((model, on))
        self.label_joins: dict[str, object] = {}

    def column(self, f: ResearchField):
        return getattr(self.models[f.entity], column_name(f.spec))

    def base(self, *columns, extra_joins=()):
        query = select(*columns).select_from(self.root_model)
        for model, on in [*self.joins, *extra_joins]:
            query = query.outerjoin(model, on)
        query = scope_query(query, self.root_model, actor=self.actor)
        for condition in self.conditions():
            query = query.where(condition)
        return query

    def conditions(self):
        for f, op, value, value2 in self.checked.filters:
            yield self.condition(f, op, value, value2)

    def condition(self, f: ResearchField, op: str, value, value2):
        kind = f.spec.type
        if kind == "multichoice":
            table = getattr(self.registry.model(f.entity), f.spec.name).property.secondary
            record = self.models[f.entity].id
            if op == "empty":
                return ~exists().where(table.c.record_id == record)
            if op == "not_empty":
                return exists().where(table.c.record_id == record)
            ids = self._catalogue_value_ids(f, value)
            found = exists().where(and_(table.c.record_id == record, table.c.value_id.in_(ids)))
            return found if op == "in" else ~found
        col = self.column(f)
        if op == "empty":
            return or_(col.is_(None), col == "") if f.family == "text" else col.is_(None)
        if op == "not_empty":
            return and_(col.is_not(None), col != "") if f.family == "text" else col.is_not(None)
        if f.family == "text":
            text = value.lower()
            if op == "eq":
                return func.lower(col) == text
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"{escaped}%" if op == "starts" else f"%{escaped}%"
            return func.lower(col).like(pattern, escape="\\")
        if f.family == "number":
            return {"eq": lambda: col == value, "ne": lambda: col != value, "lt": lambda: col < value,
                    "le": lambda: col <= value, "gt": lambda: col > value, "ge": lambda: col >= value,
                    "between": lambda: col.between(value, value2)}[op]()
        if f.family == "date":
            if kind == "datetime":
                return self._moment_condition(col, op, value, value2)
            return {"eq": lambda: col == value, "before": lambda: col < value, "after": lambda: col > value,
                    "between": lambda: col.between(value, value2)}[op]()
        if f.family == "bool":
            return col.is_(True) if op == "true" else col.is_(False)
        if f.family == "choice":
            ids = self._catalogue_value_ids(f, value)
            return col.in_(ids) if op == "in" else or_(col.is_(None), col.not_in(ids))
        raise ResearchError(f"Filter „{f.label}“: nicht möglich.")

    @staticmethod
    def _moment_condition(col, op, value, value2):
        def start(day):  # a Berlin day's first moment
            return datetime.combine(day, time(0), dates.BERLIN)
        if op == "eq":
            return and_(col >= start(value), col < start(value + timedelta(days=1)))
        if op == "before":
            return col < start(value)
        if op == "after":
            return col >= start(value + timedelta(days=1))
        return and_(col >= start(value), col < start(value2 + timedelta(days=1)))

    def _catalogue_value_ids(self, f: ResearchField, items: list[str]) -> list[int]:
        catalogue = f.spec.catalogue
        ids = {int(i) for i in items if i.isdigit()}
        codes = [i for i in items if not i.isdigit()]
        found = self.session.execute(select(CatalogueValue.id, CatalogueValue.code).where(
            CatalogueValue.catalogue == catalogue,
            or_(CatalogueValue.id.in_(ids or [-1]), CatalogueValue.code.in_(codes or ["\x00"])))).all()
        known_ids = {row.id for row in found}
        known_codes = {row.code for row in found}
        missing = [i for i in items if (i.isdigit() and int(i) not in known_ids) or
                   (not i.isdigit() and i not in known_codes)]
        if missing:
            raise ResearchError(f"Filter „{f.label}“: „{', '.join(missing)}“ ist kein Wert dieser Liste.")
        return sorted(known_ids)

    def group_expression(self, f: ResearchField, part: str | None):
        col = self.column(f)
        if part == "year":
            return extract("year", col)
        if part == "month":
            return extract("year", col) * 100 + extract("month", col)
        return col

    def measure(self):
        definition = self.checked.definition
        if definition.measure == "count":
            return func.count(distinct(self.root_model.id))
        col = self.column(self.checked.measure_field)
        return func.sum(col) if definition.measure == "sum" else func.avg(col)


# --- results ----------------------------------------------------------------------------------------
@dataclass
class ListResult:
    columns: list[ResearchField]
    rows: list[list]  # values as the fields keep them (labels for choices and references)
    total: int
    truncated: bool


@dataclass
class CrossTable:
    """Grouped figures: ``rows`` × ``cols`` (one column "Gesamt" without a second group)."""

    row_field: ResearchField
    col_field: ResearchField | None
    row_keys: list
    col_keys: list
    row_labels: list[str]
    col_labels: list[str]
    cells: dict[tuple, object]
    measure_label: str
    row_totals: dict
    col_totals: dict
    total: object
    truncated: bool = False

    def cell(self, row_key, col_key):
        return self.cells.get((row_key, col_key))


class _Labels:
    """Labels for catalogue values, referenced records (within the actor's units) and users, fetched in batches."""

    def __init__(self, session, registry, actor):
        self.session, self.registry, self.actor = session, registry, actor
        self.known: dict[str, dict] = {}  # kept across the batches of an export

    def _missing(self, kind: str, ids) -> tuple[dict, set]:
        known = self.known.setdefault(kind, {})
        return known, {i for i in ids if i is not None and i not in known}

    def catalogue(self, ids) -> dict:
        known, missing = self._missing("catalogue", ids)
        if missing:
            known.update(self.session.execute(select(CatalogueValue.id, CatalogueValue.label)
                                              .where(CatalogueValue.id.in_(missing))).all())
        return known

    def records(self, entity_name: str, ids) -> dict:
        """Titles of referenced records the actor may see ("Meier, Sieglinde"); others stay unnamed."""
        known, missing = self._missing(f"ref:{entity_name}", ids)
        if not missing:
            return known
        model = self.registry.model(entity_name)
        spec = self.registry.entity(entity_name)
        names = [n for n in (spec.title_fields or [spec.fields[0].name])
                 if (f := spec.field(n)) is not None and is_kind(f, *TEXT_KINDS)]
        for part in _chunks(sorted(missing), 5000):
            if names:  # the text title fields only, as ``short_title`` shows them, without loading records
                query = select(model.id, *[getattr(model, n) for n in names]).where(model.id.in_(part))
                for row in self.session.execute(scope_query(query, model, actor=self.actor)):
                    texts = [v.strip() for v in row[1:] if isinstance(v, str) and v.strip()]
                    known[row[0]] = ", ".join(texts) or f"{spec.label} {row[0]}"
            else:
                query = scope_query(select(model).where(model.id.in_(part)), model, actor=self.actor)
                known.update({record.id: short_title(record) for record in self.session.scalars(query)})
        for key in missing:
            known.setdefault(key, "(nicht sichtbar)")  # another unit's record: asked once, never named
        return known

    def users(self, ids) -> dict:
        known, missing = self._missing("user", ids)
        if missing:
            from flask_appbuilder.security.sqla.models import User
            rows = self.session.execute(select(User.id, User.first_name, User.last_name)
                                        .where(User.id.in_(missing)))
            known.update({row.id: f"{row.first_name} {row.last_name}".strip() for row in rows})
        return known

    def for_field(self, f: ResearchField, values) -> dict | None:
        kind = f.spec.type
        if kind == "choice":
            return self.catalogue(values)
        if kind == "ref":
            return self.records(f.spec.ref, values)
        if kind == "user":
            return self.users(values)
        return None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _order(builder: _Builder, checked: Checked):
    if checked.sort is None:
        return [builder.root_model.id.desc()]
    col = builder.column(checked.sort)
    first = col.desc() if checked.definition.descending else col.asc()
    return [first.nulls_last(), builder.root_model.id]


def _column_plan(builder: _Builder, fields: list[ResearchField]):
    """The SELECT of a column query and how each shown value is made from a result row.

    Labels come with the rows: a catalogue value's label, a user's name and a referenced record's text
    title fields are outer-joined, the referenced record under the same org-unit rule as everything else
    (another unit's record reads "(nicht sichtbar)"). No query per row or batch."""
    from flask_appbuilder.security.sqla.models import User
    exprs: list = []
    joins: list = []
    makers: list = []
    registry, actor = builder.registry, builder.actor
    for number, f in enumerate(fields):
        col = builder.column(f)
        at = len(exprs)
        kind = f.spec.type
        if kind == "choice":
            value = aliased(CatalogueValue, name=f"cv{number}")
            joins.append((value, value.id == col))
            exprs.append(value.label)
            makers.append(lambda row, i=at: row[i])
        elif kind == "user":
            user = aliased(User, name=f"u{number}")
            joins.append((user, user.id == col))
            exprs += [user.first_name, user.last_name]
            makers.append(lambda row, i=at: None if row[i] is None and row[i + 1] is None
                          else f"{row[i] or ''} {row[i + 1] or ''}".strip())
        elif kind == "ref":
            spec = registry.entity(f.spec.ref)
            target = aliased(registry.model(f.spec.ref), name=f"r{number}")
            on = target.id == col
            if spec.org_scope != "none":
                condition = org_condition(target, actor.visible_units, spec.org_scope == "shared")
                if condition is not None:
                    on = and_(on, condition)
            joins.append((target, on))
            names = [n for n in (spec.title_fields or [spec.fields[0].name])
                     if (t := spec.field(n)) is not None and is_kind(t, *TEXT_KINDS)]
            exprs += [col, target.id, *[getattr(target, n) for n in names]]

            def make(row, i=at, n=len(names), label=spec.label):
                if row[i] is None:
                    return None
                if row[i + 1] is None:
                    return "(nicht sichtbar)"
                texts = [v.strip() for v in row[i + 2:i + 2 + n] if isinstance(v, str) and v.strip()]
                return ", ".join(texts) or f"{label} {row[i]}"
            makers.append(make)
        else:
            exprs.append(col)
            makers.append(lambda row, i=at: row[i])
    return exprs, joins, makers


class _Reads:
    """The records of sensitive pages (#15) whose fields a column query shows: each one read is logged once
    (``access_log``), the root's and a child page's alike. Their ids ride along as extra columns at the end."""

    def __init__(self, builder: _Builder, exprs: list):
        from .access_log import is_sensitive
        self.start = len(exprs)
        self.entities: list[str] = []
        for f in builder.checked.columns:
            if f.entity not in self.entities and is_sensitive(f.entity):
                self.entities.append(f.entity)
        self.extra = [builder.models[name].id for name in self.entities]
        self.seen: dict[str, set[int]] = {name: set() for name in self.entities}

    def note(self, row) -> None:
        for i, name in enumerate(self.entities):
            value = row[self.start + i]
            if value is not None:
                self.seen[name].add(value)

    def log(self, session, actor: Actor, channel: str, detail: str) -> None:
        from .access_log import log_reads
        for name, ids in self.seen.items():
            log_reads(session, actor, name, sorted(ids), channel, detail)


def run_list(session, checked: Checked, registry, actor: Actor, limit: int = MAX_ROWS_SHOWN) -> ListResult:
    """The first ``limit`` rows of a column query, with labels; ``total`` counts all rows. Each record of a
    sensitive page shown is in the access log (channel ``research``); the caller commits."""
    builder = _Builder(session, checked, registry, actor)
    exprs, joins, makers = _column_plan(builder, checked.columns)
    reads = _Reads(builder, exprs)
    query = builder.base(*exprs, *reads.extra, extra_joins=joins).order_by(*_order(builder, checked))
    total = session.scalar(select(func.count()).select_from(builder.base(builder.root_model.id).subquery()))
    rows = []
    for row in session.execute(query.limit(limit)):
        reads.note(row)
        rows.append([make(row) for make in makers])
    reads.log(session, actor, "research", f"Recherche {checked.root.plural}")
    return ListResult(checked.columns, rows, total, total > limit)


def iter_rows(session, checked: Checked, registry, actor: Actor, batch: int = 2000) -> Iterator[list]:
    """Every row of a column query (for the export), labelled batch by batch, streamed from the database.
    When the last row is out, each record of a sensitive page exported is in the access log (``export``)."""
    builder = _Builder(session, checked, registry, actor)
    exprs, joins, makers = _column_plan(builder, checked.columns)
    reads = _Reads(builder, exprs)
    query = builder.base(*exprs, *reads.extra, extra_joins=joins).order_by(*_order(builder, checked))
    result = session.execute(query.execution_options(yield_per=batch))
    for part in result.partitions(batch):
        for row in part:
            reads.note(row)
            yield [make(row) for make in makers]
    reads.log(session, actor, "export", f"Recherche {checked.root.plural} (XLSX)")


def _group_label(f: ResearchField, part: str | None, key, labels: dict | None) -> str:
    if key is None:
        return "(leer)"
    if part == "year":
        return str(int(key))
    if part == "month":
        value = int(key)
        return f"{value % 100:02d}/{value // 100}"
    if labels is not None:
        return labels.get(key, "(nicht sichtbar)")
    if isinstance(key, bool):
        return "ja" if key else "nein"
    if isinstance(key, datetime):
        return dates.format_datetime(key)
    if isinstance(key, date):
        return dates.format_date(key)
    if isinstance(key, Decimal):
        return money.format_decimal(key, None)
    return str(key)


def _sort_key(key):
    return (key is None, key if not isinstance(key, bool) else int(key))


def _figure(definition: Definition, value, f: ResearchField | None):
    if value is None:
        return None
    if definition.measure == "count":
        return int(value)
    # SQLite hands back an average as a float: read it through its text, as the Money type does.
    number = money.to_decimal(value if isinstance(value, (Decimal, int)) else str(value))
    if f is not None and is_kind(f.spec, "integer") and definition.measure == "sum":
        return int(number)
    return money.quantize(number)


def _additive_groups(session, builder: _Builder, checked: Checked, exprs: list):
    """Cells, row and column totals and the grand total from one GROUP BY (count, sum; average = sum/count)."""
    definition = checked.definition
    aggregates = [func.count().label("n")]
    if definition.measure != "count":
        col = builder.column(checked.measure_field)
        aggregates += [func.sum(col).label("s"), func.count(col).label("c")]
    found = session.execute(builder.base(*exprs, *aggregates).group_by(*exprs)).all()
    width = len(exprs)
    cells: dict = {}
    by_row: dict = {}
    by_col: dict = {}
    grand = [0, None, 0]

    def add(into: list, n, total, counted) -> None:
        into[0] += n
        if total is not None:
            into[1] = total if into[1] is None else into[1] + total
        into[2] += counted or 0

    for row in found:
        keys = tuple(row[:width])
        n, total, counted = (row[width], row[width + 1], row[width + 2]) if definition.measure != "count" \
            else (row[width], None, 0)
        total = None if total is None else money.to_decimal(total if isinstance(total, (Decimal, int))
                                                            else str(total))
        parts = [n, total, counted]
        cells[keys] = parts
        add(by_row.setdefault(keys[0], [0, None, 0]), *parts)
        if width == 2:
            add(by_col.setdefault(keys[1], [0, None, 0]), *parts)
        add(grand, *parts)

    def value(parts):
        n, total, counted = parts
        if definition.measure == "count":
            return n
        if definition.measure == "sum":
            return total
        return None if not counted or total is None else total / counted

    rows = [(*keys, value(parts)) for keys, parts in cells.items()]
    totals_by_row = {k: value(v) for k, v in by_row.items()} if width == 2 else None
    totals_by_col = {k: value(v) for k, v in by_col.items()} if width == 2 else None
    return rows, totals_by_row, totals_by_col, value(grand)


def run_grouped(session, checked: Checked, registry, actor: Actor) -> CrossTable:
    """The cross-table: measure per group (and per second group), with row, column and grand totals."""
    builder = _Builder(session, checked, registry, actor)
    definition = checked.definition
    exprs = [builder.group_expression(f, part).label(f"g{i}") for i, (f, part) in enumerate(checked.groups)]
    if not checked.children:
        # Without a child page every record is in exactly one group: one GROUP BY, totals added up here.
        rows, totals_by_row, totals_by_col, grand = _additive_groups(session, builder, checked, exprs)
    else:
        # A child page multiplies the rows: counts are distinct records, so totals need their own queries.
        measure = builder.measure().label("m")
        rows = session.execute(builder.base(*exprs, measure).group_by(*[e for e in exprs])).all()
        totals_by_row = dict(session.execute(builder.base(exprs[0], measure).group_by(exprs[0])).all()) \
            if len(exprs) == 2 else None
        totals_by_col = dict(session.execute(builder.base(exprs[1], measure).group_by(exprs[1])).all()) \
            if len(exprs) == 2 else None
        grand = session.execute(builder.base(measure)).scalar()
    labeller = _Labels(session, registry, actor)
    (row_field, row_part) = checked.groups[0]
    col_field, col_part = checked.groups[1] if len(checked.groups) == 2 else (None, None)
    mf = checked.measure_field
    cells = {}
    for row in rows:
        key = (row[0], row[1] if col_field is not None else None)
        cells[key] = _figure(definition, row[-1], mf)
    row_keys = sorted({k[0] for k in cells}, key=_sort_key)
    col_keys = sorted({k[1] for k in cells}, key=_sort_key) if col_field is not None else [None]
    truncated = len(row_keys) > MAX_GROUPS or len(col_keys) > MAX_GROUPS
    row_keys, col_keys = row_keys[:MAX_GROUPS], col_keys[:MAX_GROUPS]
    row_labels_map = labeller.for_field(row_field, row_keys) if row_part is None else None
    col_labels_map = labeller.for_field(col_field, col_keys) if col_field is not None and col_part is None else None
    if col_field is None:
        row_totals = {k: cells.get((k, None)) for k in row_keys}
        col_totals = {None: _figure(definition, grand, mf)}
    else:
        row_totals = {k: _figure(definition, totals_by_row.get(k), mf) for k in row_keys}
        col_totals = {k: _figure(definition, totals_by_col.get(k), mf) for k in col_keys}
    label = MEASURES[definition.measure] + (f" {checked.root.plural}" if definition.measure == "count"
                                            else f" {mf.label}")
    return CrossTable(
        row_field, col_field, row_keys, col_keys,
        [_group_label(row_field, row_part, k, row_labels_map) for k in row_keys],
        [_group_label(col_field, col_part, k, col_labels_map) for k in col_keys] if col_field else ["Gesamt"],
        cells, label, row_totals, col_totals, _figure(definition, grand, mf), truncated)


def group_title(f: ResearchField, part: str | None) -> str:
    return f.label + (f" ({DATE_PARTS[part]})" if part else "")


# --- exports ----------------------------------------------------------------------------------------------
def xlsx_columns(checked: Checked) -> list[XlsxColumn]:
    return [column_for_field(f.spec, f.label) for f in checked.columns]


def cross_table_rows(checked: Checked, table: CrossTable) -> tuple[list[XlsxColumn], list[list]]:
    """The cross-table as XLSX columns and rows (first column the row groups, last the row totals)."""
    kind = "int" if checked.definition.measure == "count" else "decimal"
    row_title = group_title(*checked.groups[0])
    columns = [XlsxColumn(row_title, "text", 30)]
    if table.col_field is None:
        columns.append(XlsxColumn(table.measure_label, kind, 16))
        rows = [[label, table.row_totals[key]] for key, label in zip(table.row_keys, table.row_labels)]
        rows.append(["Gesamt", table.total])
        return columns, rows
    columns += [XlsxColumn(label, kind, 14) for label in table.col_labels] + [XlsxColumn("Gesamt", kind, 14)]
    rows = [[label, *[table.cell(key, c) for c in table.col_keys], table.row_totals[key]]
            for key, label in zip(table.row_keys, table.row_labels)]
    rows.append(["Gesamt", *[table.col_totals[c] for c in table.col_keys], table.total])
    return columns, rows


def describe(checked: Checked) -> str:
    """The definition in words, for the export's title and the history: "Fallakten; Filter: Status ist einer von …"."""
    parts = [checked.root.plural]
    if checked.filters:
        texts = []
        for f, op, value, value2 in checked.filters:
            ops = OPERATORS[f.family]
            shown = ""
            if op == "between":
                shown = f" {_plain(value)} bis {_plain(value2)}"
            elif op in ("in", "not_in"):
                shown = f" {', '.join(map(str, value))}"
            elif value is not None:
                shown = f" {_plain(value)}"
            texts.append(f"{f.label} {ops[op]}{shown}")
        parts.append("Filter: " + "; ".join(texts))
    if checked.groups:
        parts.append("gruppiert nach " + " × ".join(group_title(f, p) for f, p in checked.groups))
    return "; ".join(parts)


def _plain(value) -> str:
    if isinstance(value, date):
        return dates.format_date(value)
    if isinstance(value, Decimal):
        return money.format_decimal(value, None)
    return str(value)


# --- saved queries ---------------------------------------------------------------------------------------
def visible_saved(session, actor: Actor) -> list:
    """The saved queries the actor may open: their own, and those shared with one of their profiles."""
    from ..research_models import ResearchQuery
    condition = ResearchQuery.owner_id == (actor.user_id or -1)
    if actor.profiles:
        condition = or_(condition, ResearchQuery.shared_profile.in_(list(actor.profiles)))
    return list(session.scalars(select(ResearchQuery).where(condition).order_by(ResearchQuery.name)))


def saved_query(session, query_id: int, actor: Actor):
    """One saved query the actor may open (else a ResearchError: not found, as for another unit's record)."""
    found = next((q for q in visible_saved(session, actor) if q.id == query_id), None)
    if found is None:
        raise ResearchError("Diese gespeicherte Abfrage gibt es nicht (oder sie ist nicht für Sie freigegeben).")
    return found


def save_query(session, checked: Checked, name: str, shared_profile: str | None, actor: Actor, profiles: list[str],
               now: datetime):
    """Save (or overwrite the actor's own query of the same name); the caller commits."""
    from ..research_models import ResearchQuery
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ResearchError("Name der Abfrage: bitte 1 bis 120 Zeichen.")
    if shared_profile and shared_profile not in profiles:
        raise ResearchError(f"Freigabe: das Profil „{shared_profile}“ gibt es nicht.")
    if actor.user_id is None:
        raise ResearchError("Nur angemeldete Benutzer können Abfragen speichern.")
    query = session.scalars(select(ResearchQuery).where(ResearchQuery.owner_id == actor.user_id,
                                                        ResearchQuery.name == name)).first()
    if query is None:
        query = ResearchQuery(name=name, owner_id=actor.user_id, owner_name=actor.name[:64], created_at=now)
        session.add(query)
    query.entity = checked.root.name
    query.definition = checked.definition.to_json()
    query.shared_profile = shared_profile or None
    query.updated_at = now
    session.flush()
    return query


def delete_query(session, query_id: int, actor: Actor) -> str:
    """Delete one of the actor's own queries (a shared one of someone else cannot be deleted)."""
    from ..research_models import ResearchQuery
    query = session.get(ResearchQuery, query_id)
    if query is None or query.owner_id != actor.user_id:
        raise ResearchError("Nur eigene Abfragen können gelöscht werden.")
    name = query.name
    session.delete(query)
    return name
