"""Kinds that refer to other rows: choice and multichoice (catalogue values), ref (a record), user (a login)."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, Table

from ...actor import request_actor
from ...scoping import UserOfMyUnitsFilter
from .base import FieldKind, register, sql_literal
from .form_fields import RefField


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _ids(value) -> frozenset:
    return frozenset(getattr(v, "id", v) for v in _as_list(value))


def current_reference_ids(field_name: str) -> frozenset:
    """The ids a field of the record being changed by REST holds now (set by the API before it loads the
    body): a value deactivated since, or a colleague moved to another unit, stays valid on that record."""
    from flask import g, has_app_context
    if not has_app_context():
        return frozenset()
    return g.get("fs_current_refs", {}).get(field_name, frozenset())


class _AllowedValues:
    """WTForms validator: the kind's ``value_problem`` for every chosen value (the record's own allowed)."""

    def __init__(self, kind, f):
        self.kind, self.f = kind, f

    def __call__(self, form, field):
        from wtforms.validators import StopValidation
        current = _ids(getattr(field, "object_data", None))
        for value in _as_list(field.data):
            problem = self.kind.value_problem(self.f, value, current)
            if problem:
                raise StopValidation(problem)


class _CheckedValues:
    """The one check of a reference kind, for forms (``validators``) and REST (``api_validator``)."""

    def value_problem(self, f, value, current_ids=frozenset()) -> str | None:
        raise NotImplementedError

    def validators(self, f):
        return [*super().validators(f), _AllowedValues(self, f)]

    def api_validator(self, f):
        from marshmallow import ValidationError

        def check(value):
            current = current_reference_ids(f.name)
            for item in _as_list(value):
                problem = self.value_problem(f, item, current)
                if problem:
                    raise ValidationError(problem)
        return check


def _persistent(value) -> bool:
    from sqlalchemy import inspect
    state = inspect(value, raiseerr=False)
    return state is not None and state.persistent


def catalogue_value_problem(f, value, current_ids=frozenset()) -> str | None:
    """Why ``value`` is not a valid value of ``f``'s catalogue (German), or None.

    Only the field's own catalogue; only active values, except the one the record already holds."""
    if not _persistent(value) or getattr(value, "catalogue", None) != f.catalogue:
        shown = getattr(value, "id", value)
        return f"„{f.label}“: Der Wert Nr. {shown} gehört nicht zum Katalog dieses Feldes."
    if not value.active and value.id not in current_ids:
        return f"„{f.label}“: Der Wert „{value.label}“ ist deaktiviert und kann nicht mehr gewählt werden."
    return None


class _ReferenceKind(FieldKind):
    """A foreign key ``<name>_id`` and a relationship ``<name>``."""

    storage = "reference"
    sortable = False
    lazy = "select"  # how the relationship loads (catalogue values: joined, always shown)

    def column_name(self, f):
        return f"{f.name}_id"

    def target_table(self, f) -> str:
        raise NotImplementedError

    def column(self, f, entity):
        return Column(self.column_name(f), Integer, ForeignKey(f"{self.target_table(f)}.id"),
                      nullable=not f.required, index=True)

    def sa_type(self, f):
        return Integer()

    def target_class(self, f):
        raise NotImplementedError

    def model_attributes(self, f, entity, metadata):
        from sqlalchemy.orm import relationship
        col = self.column(f, entity)
        return {self.column_name(f): col,
                f.name: relationship(self.target_class(f), foreign_keys=[col], lazy=self.lazy)}


@register
class ChoiceKind(_CheckedValues, _ReferenceKind):
    name, label = "choice", "Auswahl aus einem Katalog"
    options = required_options = frozenset({"catalogue"})
    lazy = "joined"

    def target_table(self, f):
        return "catalogue_value"

    def value_problem(self, f, value, current_ids=frozenset()):
        return catalogue_value_problem(f, value, current_ids)

    def target_class(self, f):
        from ...core_models import CatalogueValue
        return CatalogueValue

    def form_query(self, f, editing):
        from flask_appbuilder.models.sqla.filters import FilterEqual
        if editing:  # a value deactivated since stays readable and selectable on old records
            return [["catalogue", FilterEqual, f.catalogue]]
        return [["catalogue", FilterEqual, f.catalogue], ["active", FilterEqual, True]]

    def form_default(self, f):
        if f.default is None:
            return None
        code = str(f.default)

        def lookup(catalogue=f.catalogue):
            from ...core_models import CatalogueValue
            from ...extensions import db
            return db.session.query(CatalogueValue).filter_by(catalogue=catalogue, code=code).first()
        return lookup

    def backfill_sql(self, f, conn):
        from sqlalchemy import text
        if f.default is None:
            return None, None
        found = conn.execute(text("SELECT id FROM catalogue_value WHERE catalogue = :c AND code = :v"),
                             {"c": f.catalogue, "v": str(f.default)}).first()
        if found is None:
            return None, f"Den Standardwert '{f.default}' gibt es im Katalog '{f.catalogue}' nicht."
        return (f"(SELECT id FROM catalogue_value WHERE catalogue = {sql_literal(f.catalogue)} "
                f"AND code = {sql_literal(f.default)})"), None

    def import_default(self, f, session, today):
        from sqlalchemy import select

        from ...core_models import CatalogueValue
        if f.default is None:
            return None
        return session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == f.catalogue,
                                                            CatalogueValue.code == str(f.default))).first()


@register
class MultiChoiceKind(_CheckedValues, FieldKind):
    name, label = "multichoice", "Mehrfachauswahl aus einem Katalog"
    options = required_options = frozenset({"catalogue"})
    storage = "multiple"
    sortable = searchable = merge_fills = False

    def column_name(self, f):
        return f.name

    def column(self, f, entity):
        return None

    def model_attributes(self, f, entity, metadata):
        from sqlalchemy.orm import relationship

        from ...core_models import CatalogueValue
        table = Table(
            f"{entity.name}__{f.name}", metadata,
            Column("record_id", Integer, ForeignKey(f"{entity.name}.id", ondelete="CASCADE"), primary_key=True),
            Column("value_id", Integer, ForeignKey("catalogue_value.id"), primary_key=True),
        )
        return {f.name: relationship(CatalogueValue, secondary=table, lazy="selectin")}

    form_query = ChoiceKind.form_query

    def value_problem(self, f, value, current_ids=frozenset()):
        return catalogue_value_problem(f, value, current_ids)

    def display(self, value):
        return "" if value is None or value == "" else ", ".join(str(v) for v in value)

    def import_default(self, f, session, today):
        return None


@register
class RefKind(_ReferenceKind):
    name, label = "ref", "Verweis auf einen Datensatz"
    options = required_options = frozenset({"ref"})
    refers_to_record = True
    merge_fills = False
    form_takes_default = True

    def target_table(self, f):
        return f.ref

    def target_class(self, f):
        from ..build_models import class_name
        return class_name(f.ref)

    def validators(self, f):
        from wtforms import validators as v

        # DataRequired, not InputRequired: the parent of a case-file page may come from the URL, not the form.
        out = [] if not f.required else [v.DataRequired(message="Pflichtfeld: bitte auswählen.")]
        if f.regex:
            out += [v.Optional() if not f.required else v.DataRequired(message="Pflichtfeld: bitte ausfüllen."),
                    v.Regexp(f.regex, message=f"Ungültiges Format für „{f.label}“.")]
        return out

    def form_field(self, f, registry, kwargs):
        return RefField(f.label, model=registry.model(f.ref), endpoint=f"/typeahead/{f.ref}", **kwargs)

    def import_default(self, f, session, today):
        return None


@register
class UserKind(_CheckedValues, _ReferenceKind):
    """A staff login (FAB's ab_user): provider of a service, assignee of a task; default "me"."""

    name, label = "user", "Mitarbeiter/in (Benutzerkonto)"

    def target_table(self, f):
        return "ab_user"

    def target_class(self, f):
        from flask_appbuilder.security.sqla.models import User
        return User

    def value_problem(self, f, value, current_ids=frozenset()):
        """Active colleagues of the user's own units (admins: everyone); the record's own stays valid."""
        from ...scoping import visible_org_unit_ids
        if not _persistent(value):
            return f"„{f.label}“: Dieses Benutzerkonto gibt es nicht."
        if value.id in current_ids:
            return None
        if not value.active:
            return f"„{f.label}“: Das Konto „{value.username}“ ist deaktiviert."
        units = visible_org_unit_ids()
        if units is not None and not {u.id for u in value.org_units} & set(units):
            return (f"„{f.label}“: „{value.username}“ gehört zu keiner Ihrer Dienststellen; wählbar sind nur "
                    "Kolleginnen und Kollegen der eigenen Dienststellen.")
        return None

    def form_query(self, f, editing):
        # Colleagues of the clerk's own units only (admins: everyone), active accounts.
        return [["id", UserOfMyUnitsFilter, None]]

    def form_default(self, f):
        if f.default is None or str(f.default) != "me":
            return None

        def me():
            # The signed-in clerk, through the request's actor (no flask_login below the web layer).
            from ...extensions import db
            actor = request_actor()
            return db.session.get(self.target_class(f), actor.user_id) if actor and actor.user_id else None
        return me

    def import_default(self, f, session, today):
        return None
