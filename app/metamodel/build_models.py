"""Spec -> SQLAlchemy models on FAB's ``Model`` metadata.

Models are built once per process (FAB's Model has one metadata; a second, different build would clash
with the first). Nothing imports a generated class by name: code asks ``registry`` for it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload, lazyload, load_only, relationship

from ..core_models import OrgUnit
from .kinds import kind_of
from .spec import AppSpec, EntitySpec, FieldSpec

# Partner name columns get a lower-cased twin (index-friendly prefix search) and a Kölner Phonetik
# code (duplicate check). They are derived on save, never typed in.
PHONETIC_FIELDS = {"partner": ("surname", "first_name")}


# The record version column of every generated entity (optimistic locking); not a YAML field.
VERSION_COLUMN = "version"

def class_name(entity_name: str) -> str:
    return "".join(part.capitalize() for part in entity_name.split("_"))


def column_name(f: FieldSpec) -> str:
    """The field's column: ``<name>_id`` for references (the kind decides)."""
    return kind_of(f).column_name(f)


def lc_name(field_name: str) -> str:
    return f"{field_name}_lc"


def searchable_lc_fields(entity: EntitySpec) -> list[str]:
    """String fields that are searched or indexed get a lower-cased twin column."""
    return [f.name for f in entity.fields
            if kind_of(f).lc_twin and (f.indexed or f.show_in_search or f.name in entity.search_fields)]


@dataclass
class EntityModel:
    spec: EntitySpec
    model: type
    multichoice_tables: dict[str, Table] = field(default_factory=dict)


@dataclass
class ModelRegistry:
    spec: AppSpec
    fingerprint: str
    entities: dict[str, EntityModel] = field(default_factory=dict)

    def model(self, name: str) -> type:
        return self.entities[name].model

    def entity(self, name: str) -> EntitySpec:
        return self.entities[name].spec

    def __iter__(self):
        return iter(self.entities.values())


def _title(entity: EntitySpec):
    names = entity.title_fields or [entity.fields[0].name]

    def __str__(self) -> str:
        parts = []
        for name in names:
            value = getattr(self, name, None)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue  # an empty first name is left out ("Meier, 31.10.1963", not "Meier, , 31.10.1963")
            parts.append(value.strftime("%d.%m.%Y") if isinstance(value, (date, datetime)) else str(value))
        return ", ".join(parts) or f"{entity.label} {self.id}"

    return __str__


def short_title(record) -> str:
    """The record's name in a sentence or a page title: its text title fields only ("Meier, Sieglinde",
    "2026/0042"), without dates or referenced records; the whole title when it has no text field."""
    spec = built_registry().entity(record.__entity__)
    columns = sa_inspect(type(record)).columns
    # Only columns are read: a referenced record in the title (the case's client) is not text, and reading
    # the relation would load it from the database for nothing.
    parts = [value.strip() for name in (spec.title_fields or [spec.fields[0].name]) if name in columns
             if isinstance(value := getattr(record, name, None), str) and value.strip()]
    return ", ".join(parts) or str(record)


def title_loading(entity: EntitySpec, model, *, names_joined: bool = True) -> list:
    """Loader options for reading records only to show their titles (a look-up, a breadcrumb): the title
    columns, with ``names_joined`` the records the title names joined in the same query (a case's client),
    and none of the other references the model joins by default (a partner's catalogue values). A look-up
    runs for every key a clerk types; the joins made its query plan cost more than its rows.
    Built once per model (options are immutable) and kept on the model class."""
    cache_name = "_fs_title_loading" if names_joined else "_fs_title_columns_loading"
    cached = model.__dict__.get(cache_name)
    if cached is not None:
        return cached
    titles = set(entity.title_fields or [entity.fields[0].name])
    mapper = sa_inspect(model)
    keys = {"id"} | titles
    options = []
    for rel in mapper.relationships:
        if names_joined and rel.key in titles:
            keys.update(column.key for column in rel.local_columns)
            options.append(joinedload(getattr(model, rel.key)).lazyload("*"))
        else:
            options.append(lazyload(getattr(model, rel.key)))
    columns = [attr for name, attr in mapper.column_attrs.items() if name in keys]
    options = [load_only(*columns), *options]
    setattr(model, cache_name, options)
    return options


def _build_entity(spec: AppSpec, entity: EntitySpec) -> EntityModel:
    attrs: dict = {
        "__tablename__": entity.name,
        "__entity__": entity.name,
        "__org_scope__": entity.org_scope,
        "__str__": _title(entity),
        "__repr__": lambda self: f"<{entity.name} {self.id}>",
        "id": Column(Integer, primary_key=True),
        "created_at": Column(DateTime(timezone=True)),
        "created_by": Column(String(64)),
        "updated_at": Column(DateTime(timezone=True)),
        "updated_by": Column(String(64)),
        # Optimistic locking: every UPDATE checks and counts up the version it read, so a save over a newer
        # one fails instead of silently undoing it (two clerks in one case, issue #10). The server default
        # fills existing rows when the column is added, and rows bulk-inserted without it.
        VERSION_COLUMN: Column(VERSION_COLUMN, Integer, nullable=False, default=1, server_default="1"),
    }
    attrs["__mapper_args__"] = {"version_id_col": attrs[VERSION_COLUMN]}
    table_args: list = []
    if entity.org_scope != "none":
        attrs["org_unit_id"] = Column(Integer, ForeignKey("org_unit.id"), index=True,
                                      nullable=entity.org_scope != "required")
        attrs["org_unit"] = relationship(OrgUnit, foreign_keys=[attrs["org_unit_id"]], lazy="joined")
    multi: dict[str, Table] = {}
    for f in entity.fields:
        # The kind adds its column, its relationship or its link table (multichoice).
        added = kind_of(f).model_attributes(f, entity, Model.metadata)
        secondary = getattr(added.get(f.name), "secondary", None)
        if isinstance(secondary, Table):
            multi[f.name] = secondary
        attrs.update(added)
    for name in searchable_lc_fields(entity):
        attrs[lc_name(name)] = Column(String(_length(entity, name)))
        # With the org unit in the index, "beginnt mit" and its (capped) count are answered from the
        # index alone, without reading each row to check its unit.
        unit = ["org_unit_id"] if entity.org_scope != "none" else []
        table_args.append(Index(f"ix_{entity.name}_{name}_lc", lc_name(name), *unit))
    for name in PHONETIC_FIELDS.get(entity.name, ()):
        attrs[f"{name}_phon"] = Column(String(64))
    if entity.name in PHONETIC_FIELDS:
        first, second = PHONETIC_FIELDS[entity.name]
        table_args.append(Index(f"ix_{entity.name}_phon", f"{first}_phon", f"{second}_phon"))
    system = {"org_unit": "org_unit_id", "created_at": "created_at", "updated_at": "updated_at"}
    for names in entity.indexes:
        columns = [system[n] if n in system else column_name(entity.field(n)) for n in names
                   if n in system or (entity.field(n) and kind_of(entity.field(n)).storage != "multiple")]
        if len(columns) == len(names):  # else the spec checks report it
            table_args.append(Index(f"ix_{entity.name}_{'_'.join(names)}", *columns))
    for unique in entity.unique:
        cols = [column_name(entity.field(n)) for n in unique.fields]
        table_args.append(UniqueConstraint(*cols, name=f"uq_{entity.name}_{'_'.join(unique.fields)}"))
    if table_args:
        attrs["__table_args__"] = (*table_args, {"extend_existing": True})
    model = type(class_name(entity.name), (Model,), attrs)
    return EntityModel(entity, model, multi)


def _length(entity: EntitySpec, name: str) -> int:
    f = entity.field(name)
    return (f.length or 200) if f else 200


def fingerprint(spec: AppSpec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]


_BUILT: ModelRegistry | None = None


def build_models(spec: AppSpec) -> ModelRegistry:
    """Build (once per process) the model classes for ``spec``; the same spec returns the same classes."""
    global _BUILT
    fp = fingerprint(spec)
    if _BUILT is not None:
        if _BUILT.fingerprint != fp:
            raise RuntimeError("Models are built once per process; a different configuration needs a new process.")
        return _BUILT
    registry = ModelRegistry(spec, fp)
    for entity in spec.entities:
        registry.entities[entity.name] = _build_entity(spec, entity)
    _BUILT = registry
    return registry


def built_registry() -> ModelRegistry | None:
    return _BUILT
