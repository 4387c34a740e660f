"""What every field kind owns, and the one registry of kinds (Django's ``Field`` classes).

A field kind is everything the engine does differently for a ``type:`` of the YAML: the database column,
the form field and its validators, how a value reads in lists, on the show page and in the history, the
REST validators, the default for existing rows of a migration and for imported rows. Code elsewhere asks
the kind (``kind_of(field)``) and never compares ``field.type`` with a name.

The registry also describes the kinds for people: German label and the YAML options each accepts, so the
spec checks, ``docs/`` and a later "Felder im Browser bearbeiten" page list the same thing.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from ...domain import dates, money

if TYPE_CHECKING:
    from sqlalchemy import Column

    from ..spec import EntitySpec, FieldSpec

# Options of a field in the YAML that only some kinds accept (the rest are common to every kind).
KIND_OPTIONS = ("length", "catalogue", "ref", "min", "max", "street_picker")
OPTION_LABELS = {"length": "Länge (Zeichen)", "catalogue": "Katalog", "ref": "Ziel-Entität",
                 "min": "kleinster Wert", "max": "größter Wert", "street_picker": "Straßenauswahl"}


@dataclass(frozen=True)
class KindInfo:
    """A kind as a list of choices shows it: name, German label, the options it accepts or requires."""

    name: str
    label: str
    options: tuple[str, ...]
    required_options: tuple[str, ...]


class FieldKind:
    """The default behaviour: one plain column whose value is shown as it is."""

    name: ClassVar[str]
    label: ClassVar[str]  # German, for admins
    options: ClassVar[frozenset[str]] = frozenset()
    required_options: ClassVar[frozenset[str]] = frozenset()

    # Where the value lives: a column of the record ("column"), a foreign key <name>_id with a relationship
    # ("reference": catalogue values, records, users) or a link table ("multiple": multichoice).
    storage: ClassVar[str] = "column"
    refers_to_record: ClassVar[bool] = False  # a YAML entity's record (type ref): typeahead, visibility, merges
    in_forms: ClassVar[bool] = True  # typed into the generated forms
    sortable: ClassVar[bool] = True  # REST ``order_columns``
    searchable: ClassVar[bool] = True  # search form and REST filters
    lc_twin: ClassVar[bool] = False  # a lower-cased twin column for "beginnt mit" when searched
    merge_fills: ClassVar[bool] = True  # a partner merge fills an empty value from the duplicate
    always_set: ClassVar[bool] = False  # a form always sends a value (a hidden required field is fine)
    normalises: ClassVar[bool] = False  # ``normalise`` changes values (called before every flush)
    form_takes_default: ClassVar[bool] = False  # our form field sets the default itself (not FAB's field_defaults)

    # --- description -------------------------------------------------------------------------------
    @classmethod
    def info(cls) -> KindInfo:
        return KindInfo(cls.name, cls.label, tuple(o for o in KIND_OPTIONS if o in cls.options),
                        tuple(o for o in KIND_OPTIONS if o in cls.required_options))

    # --- database ------------------------------------------------------------------------------------
    def column_name(self, f: FieldSpec) -> str:
        return f.name

    def sa_type(self, f: FieldSpec):
        raise NotImplementedError

    def column(self, f: FieldSpec, entity: EntitySpec) -> Column | None:
        from sqlalchemy import Column
        index = f.indexed or entity.order_by == f.name
        return Column(f.name, self.sa_type(f), nullable=not f.required, index=index)

    def model_attributes(self, f: FieldSpec, entity: EntitySpec, metadata) -> dict:
        """The attributes this field adds to the generated class (column, relationship)."""
        return {self.column_name(f): self.column(f, entity)}

    # --- input ---------------------------------------------------------------------------------------
    def parse(self, text: str):
        """A typed-in text as the stored value; ValueError with a German message."""
        return text

    def normalise(self, value):
        """The stored form of a value from any path (form, REST, import); called before every flush."""
        return value

    def validators(self, f: FieldSpec) -> list:
        """WTForms validators of the generated forms."""
        from wtforms import validators as v
        out: list = []
        if f.required and not self.always_set:
            out.append(v.InputRequired(message="Pflichtfeld: bitte ausfüllen."))
        if f.regex:
            out.append(v.Optional() if not f.required else v.DataRequired(message="Pflichtfeld: bitte ausfüllen."))
            out.append(v.Regexp(f.regex, message=f"Ungültiges Format für „{f.label}“."))
        return out

    def form_field(self, f: FieldSpec, registry, kwargs: dict):
        """A form field of our own, or None for Flask-AppBuilder's (validators then go to validators_columns)."""
        return None

    def form_default(self, f: FieldSpec):
        """The form's default: a value or a callable; None for no default."""
        return f.default

    def form_query(self, f: FieldSpec, editing: bool) -> list | None:
        """FAB's query filters of a select box (catalogue values, colleagues)."""
        return None

    def api_validator(self, f: FieldSpec):
        """The marshmallow validator of the REST API (the forms' rules, for clients without a form), or None."""
        parse = type(self).parse
        if parse is FieldKind.parse:
            return None
        from marshmallow import ValidationError

        def check(value):
            if value in (None, ""):
                return
            try:
                self.parse(str(value))
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        return check

    # --- output --------------------------------------------------------------------------------------
    def display(self, value):
        """A value in lists and on the show page; None and "" read as nothing."""
        if value is None or value == "":
            return ""
        return value

    def history_text(self, value) -> str | None:
        """A value as the change log keeps it (the user's reading: TT.MM.JJJJ, ja/nein, labels)."""
        return plain_text(value)

    # --- defaults outside a form ---------------------------------------------------------------------
    def backfill_sql(self, f: FieldSpec, conn) -> tuple[str | None, str | None]:
        """The YAML default as SQL for existing rows of a migration, or (None, why not)."""
        if f.default is None:
            return None, None
        return None, f"Ein Feld vom Typ '{self.name}' kann vorhandene Datensätze nicht mit einem Standardwert füllen."

    def import_default(self, f: FieldSpec, session, today: date):
        """The value an import gives a required field it does not fill (None: the kind has none to give)."""
        return f.default


def plain_text(value) -> str | None:
    """Any value as a user reads it: TT.MM.JJJJ, Berlin time, ja/nein, German digits, labels and titles."""
    from datetime import datetime
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        return dates.format_datetime(value)
    if isinstance(value, date):
        return dates.format_date(value)
    if isinstance(value, Decimal):
        return money.format_decimal(value, None)
    if isinstance(value, (list, tuple, set)):
        return ", ".join(sorted(plain_text(v) or "" for v in value)) or None
    from ...core_models import CatalogueValue
    if isinstance(value, CatalogueValue):
        return value.label
    return str(value)


def sql_literal(value) -> str:
    """A quoted SQL string (for the defaults a migration writes into existing rows)."""
    return "'" + str(value).replace("'", "''") + "'"


_KINDS: dict[str, FieldKind] = {}


def register(cls: type[FieldKind]) -> type[FieldKind]:
    """Class decorator: one instance per kind, under its YAML name."""
    if cls.name in _KINDS:
        raise ValueError(f"field kind {cls.name!r} registered twice")
    _KINDS[cls.name] = cls()
    return cls


def kind_of(f: FieldSpec) -> FieldKind:
    """The kind of a field (the spec has checked that its type is a registered kind)."""
    return _KINDS[f.type]


def kind_named(name: str) -> FieldKind:
    return _KINDS[name]


def kind_names() -> tuple[str, ...]:
    return tuple(_KINDS)


def all_kinds() -> Iterator[KindInfo]:
    return (k.info() for k in _KINDS.values())


def is_kind(f: FieldSpec, *names: str) -> bool:
    """For contracts that name kinds as data (the core contract), not for behaviour."""
    return f.type in names


def points_to(f: FieldSpec, entity_name: str) -> bool:
    """A reference field whose target is a record of ``entity_name``."""
    return kind_of(f).refers_to_record and f.ref == entity_name
