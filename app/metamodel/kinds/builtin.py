"""The field kinds of the YAML (``type:``), one class each. A new kind is a class here with ``@register``."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, Numeric, String, Table, Text

from ...domain import dates, money
from .base import FieldKind, plain_text, register
from .types import Money


def _literal(value) -> str:
    from ..revision_ops import literal
    return literal(value)


# --- text -------------------------------------------------------------------------------------------

@register
class StringKind(FieldKind):
    name, label = "string", "Text (einzeilig)"
    options = frozenset({"length", "street_picker"})
    lc_twin = True

    def sa_type(self, f):
        return String(f.length or 200)

    def column(self, f, entity):
        # Searched strings are indexed through their lower-cased twin (build_models), not here.
        return Column(f.name, self.sa_type(f), nullable=not f.required, index=False, unique=f.unique)

    def validators(self, f):
        from wtforms import validators as v
        out = super().validators(f)
        if f.length:
            out.insert(1 if f.required else 0, v.Length(max=f.length, message=f"Höchstens {f.length} Zeichen."))
        return out

    def backfill_sql(self, f, conn):
        return (_literal(f.default), None) if f.default is not None else (None, None)


@register
class TextKind(StringKind):
    name, label = "text", "Text (mehrzeilig)"
    options = frozenset()
    sortable = False
    lc_twin = False

    def sa_type(self, f):
        return Text()

    def column(self, f, entity):
        return Column(f.name, Text, nullable=not f.required)


@register
class FileKind(StringKind):
    name, label = "file", "Datei"
    options = frozenset()
    in_forms = sortable = searchable = merge_fills = lc_twin = False

    def sa_type(self, f):
        return String(255)

    def column(self, f, entity):
        return Column(f.name, String(255), nullable=not f.required)


class _CheckedText(StringKind):
    """A one-line text with a fixed form (IBAN, e-mail, phone): parsed and normalised on every path."""

    options = frozenset()
    lc_twin = False
    normalises = True
    max_length = 200

    def sa_type(self, f):
        return String(self.max_length)

    def normalise(self, value):
        if not isinstance(value, str) or not value.strip():
            return value
        try:
            return self.parse(value)
        except ValueError:
            return value  # the form or REST validator reports it; a flush never loses what was typed

    def form_field(self, f, registry, kwargs):
        from ...web.fields import ParsedTextField
        return ParsedTextField(f.label, parse=self.parse, **kwargs)


@register
class IbanKind(_CheckedText):
    """An IBAN: check digits and the country's format (``schwifty``), stored compact, shown in groups of four."""

    name, label = "iban", "IBAN"
    max_length = 34

    def parse(self, text):
        from schwifty import IBAN
        from schwifty.exceptions import InvalidChecksumDigits, InvalidCountryCode, InvalidLength, SchwiftyException
        raw = (text or "").strip()
        try:
            return IBAN(raw).compact
        except InvalidChecksumDigits:
            raise ValueError(f"Die IBAN „{raw}“ ist ungültig: Prüfziffer falsch.") from None
        except InvalidLength:
            raise ValueError(f"Die IBAN „{raw}“ ist ungültig: falsche Länge.") from None
        except InvalidCountryCode:
            raise ValueError(f"Die IBAN „{raw}“ ist ungültig: unbekanntes Länderkürzel.") from None
        except SchwiftyException:
            raise ValueError(f"Die IBAN „{raw}“ ist ungültig: Aufbau passt nicht zum Land.") from None

    def display(self, value):
        return format_iban(value) if value else ""

    def history_text(self, value):
        return format_iban(value) if value else None


def format_iban(value: str) -> str:
    """DE89 3704 0044 0532 0130 00 (DIN 5008: groups of four)."""
    compact = re.sub(r"\s+", "", str(value)).upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


@register
class EmailKind(_CheckedText):
    name, label = "email", "E-Mail-Adresse"
    max_length = 254  # RFC 5321

    def parse(self, text):
        raw = (text or "").strip()
        if not _EMAIL.match(raw) or ".." in raw:
            raise ValueError(f"„{raw}“ ist keine gültige E-Mail-Adresse (z. B. name@beispiel.de).")
        local, _, domain = raw.rpartition("@")
        return f"{local}@{domain.lower()}"  # the domain is case-insensitive, the local part may not be


_PHONE_CHARS = re.compile(r"^\+?[0-9 ()/\-.]+$")


@register
class PhoneKind(_CheckedText):
    """A phone number, lightly normalised: blanks unified, "0049"/"+49 (0)" written as "+49"."""

    name, label = "phone", "Telefonnummer"
    max_length = 40

    def parse(self, text):
        raw = (text or "").strip()
        digits = re.sub(r"\D", "", raw)
        if not _PHONE_CHARS.match(raw) or not 5 <= len(digits) <= 15:
            raise ValueError(f"„{raw}“ ist keine gültige Telefonnummer (z. B. 030 1234567 oder +49 30 1234567).")
        value = re.sub(r"\s+", " ", raw)
        value = re.sub(r"^00(?=[1-9])", "+", value)
        value = value.replace("(0)", "").replace("  ", " ")
        return re.sub(r"\s+", " ", value).strip()


# --- numbers ----------------------------------------------------------------------------------------

class _NumberKind(FieldKind):
    options = frozenset({"min", "max"})
    default_min: Decimal | None = None
    default_max: Decimal | None = None

    def bounds(self, f):
        low = f.min if f.min is not None else self.default_min
        high = f.max if f.max is not None else self.default_max
        return low, high

    def validators(self, f):
        from wtforms import validators as v
        out = super().validators(f)
        low, high = self.bounds(f)
        if low is not None or high is not None:
            if not f.required and not f.regex:
                # An empty optional amount is fine; NumberRange alone would reject it.
                out.append(v.Optional())
            text = (f"Wert muss zwischen {low} und {high} liegen." if low is not None and high is not None
                    else f"Wert muss mindestens {low} sein." if low is not None else f"Wert darf höchstens {high} sein.")
            out.append(v.NumberRange(min=low, max=high, message=text))
        return out

    def api_validator(self, f):
        low, high = self.bounds(f)
        if low is None and high is None:
            return None
        from marshmallow import validate
        return validate.Range(min=low, max=high, error=f"Wert muss zwischen {low} und {high} liegen."
                              if low is not None and high is not None else "Wert außerhalb des erlaubten Bereichs.")


@register
class IntegerKind(_NumberKind):
    name, label = "integer", "ganze Zahl"

    def sa_type(self, f):
        return Integer()

    def column(self, f, entity):
        return Column(f.name, Integer, nullable=not f.required, index=f.indexed)

    def bounds(self, f):
        low, high = super().bounds(f)
        return (int(low) if low is not None else None), (int(high) if high is not None else None)

    def backfill_sql(self, f, conn):
        return (str(int(f.default)), None) if f.default is not None else (None, None)


@register
class DecimalKind(_NumberKind):
    name, label = "decimal", "Dezimalzahl"
    places = 4

    def sa_type(self, f):
        return Numeric(14, 4)

    def column(self, f, entity):
        return Column(f.name, self.sa_type(f), nullable=not f.required, index=f.indexed)

    def parse(self, text):
        return money.parse_decimal(text, self.places, what="Betrag")

    def form_field(self, f, registry, kwargs):
        # Clerks type 1.234,56; FAB's DecimalField only knows 1234.56.
        from ...web.fields import GermanDecimalField
        return GermanDecimalField(f.label, places=self.places, **kwargs)

    def form_default(self, f):
        return Decimal(str(f.default)) if f.default is not None else None

    def backfill_sql(self, f, conn):
        return (str(Decimal(str(f.default))), None) if f.default is not None else (None, None)


@register
class MoneyKind(DecimalKind):
    """Euro and cent: ``Money`` column (Numeric(14,2), Decimal, half up), shown "1.234,56 €"."""

    name, label = "money", "Geldbetrag (€)"
    places = 2

    def sa_type(self, f):
        return Money()

    def parse(self, text):
        return money.parse_money(text)

    def display(self, value):
        return "" if value is None or value == "" else money.format_money(value)

    def history_text(self, value):
        return None if value is None or value == "" else money.format_money(value)


@register
class PercentKind(DecimalKind):
    """A share in per cent, 0 to 100 unless min/max say otherwise; shown "12,5 %"."""

    name, label = "percent", "Prozent"
    places = 2
    default_min, default_max = Decimal(0), Decimal(100)

    def sa_type(self, f):
        return Numeric(7, 4)

    def display(self, value):
        return "" if value is None or value == "" else money.format_percent(value)

    def history_text(self, value):
        return None if value is None or value == "" else money.format_percent(value)


# --- dates and flags --------------------------------------------------------------------------------

@register
class DateKind(FieldKind):
    name, label = "date", "Datum"
    form_takes_default = True

    def sa_type(self, f):
        return Date()

    def parse(self, text):
        return dates.parse_date(text)

    def api_validator(self, f):
        return None  # marshmallow's Date field reads and checks the ISO date itself

    def form_field(self, f, registry, kwargs):
        from ...web.fields import GermanDateField
        return GermanDateField(f.label, **kwargs)

    def form_default(self, f):
        if f.default == "today":
            from ...clock import today
            return today
        return f.default

    def display(self, value):
        return "" if value is None or value == "" else dates.format_date(value)

    def backfill_sql(self, f, conn):
        if f.default is None:
            return None, None
        if str(f.default).lower() in ("today", "heute"):
            return "CURRENT_DATE", None
        value = str(f.default)
        day = dates.parse_date(value) if "." in value else date.fromisoformat(value)
        return _literal(day.isoformat()), None

    def import_default(self, f, session, today):
        return today if f.default == "today" else f.default


@register
class DateTimeKind(FieldKind):
    name, label = "datetime", "Zeitpunkt (Datum und Uhrzeit)"

    def sa_type(self, f):
        return DateTime(timezone=True)

    def display(self, value):
        return "" if value is None or value == "" else dates.format_datetime(value)

    def backfill_sql(self, f, conn):
        from datetime import datetime
        if f.default is None:
            return None, None
        if str(f.default).lower() in ("now", "jetzt"):
            return "CURRENT_TIMESTAMP", None
        return _literal(datetime.fromisoformat(str(f.default)).isoformat(sep=" ")), None


@register
class BooleanKind(FieldKind):
    name, label = "boolean", "ja/nein"
    always_set = True  # an unticked box is "nein"

    def column(self, f, entity):
        return Column(f.name, Boolean, nullable=not f.required, default=False)

    def sa_type(self, f):
        return Boolean()

    def display(self, value):
        return "" if value is None or value == "" else ("ja" if value else "nein")

    def backfill_sql(self, f, conn):
        if f.default is None:
            return "FALSE", None
        if not isinstance(f.default, bool):
            raise ValueError(f.default)
        return ("TRUE" if f.default else "FALSE"), None


# --- references -------------------------------------------------------------------------------------

class _ReferenceKind(FieldKind):
    """A foreign key ``<name>_id`` and a relationship ``<name>``."""

    storage = "reference"
    sortable = False
    merge_fills = True

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

    lazy = "select"


@register
class ChoiceKind(_ReferenceKind):
    name, label = "choice", "Auswahl aus einem Katalog"
    options = required_options = frozenset({"catalogue"})
    lazy = "joined"

    def target_table(self, f):
        return "catalogue_value"

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
        return (f"(SELECT id FROM catalogue_value WHERE catalogue = {_literal(f.catalogue)} "
                f"AND code = {_literal(f.default)})"), None

    def import_default(self, f, session, today):
        from sqlalchemy import select

        from ...core_models import CatalogueValue
        if f.default is None:
            return None
        return session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == f.catalogue,
                                                            CatalogueValue.code == str(f.default))).first()


@register
class MultiChoiceKind(FieldKind):
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
        out = [] if not f.required else [v.DataRequired(message="Pflichtfeld: bitte auswählen.")]
        # The parent of a case-file page may come from the URL, not from the posted form.
        if f.regex:
            out += [v.Optional() if not f.required else v.DataRequired(message="Pflichtfeld: bitte ausfüllen."),
                    v.Regexp(f.regex, message=f"Ungültiges Format für „{f.label}“.")]
        return out

    def form_field(self, f, registry, kwargs):
        from ...web.fields import RefField
        return RefField(f.label, model=registry.model(f.ref), endpoint=f"/typeahead/{f.ref}", **kwargs)

    def import_default(self, f, session, today):
        return None


@register
class UserKind(_ReferenceKind):
    """A staff login (FAB's ab_user): provider of a service, assignee of a task; default "me"."""

    name, label = "user", "Mitarbeiter/in (Benutzerkonto)"

    def target_table(self, f):
        return "ab_user"

    def target_class(self, f):
        from flask_appbuilder.security.sqla.models import User
        return User

    def form_query(self, f, editing):
        # Colleagues of the clerk's own units only (admins: everyone), active accounts.
        from ...scoping import UserOfMyUnitsFilter
        return [["id", UserOfMyUnitsFilter, None]]

    def form_default(self, f):
        if f.default is None or str(f.default) != "me":
            return None

        def me():
            from flask_login import current_user

            from ...extensions import db
            user_id = getattr(current_user, "id", None)
            return db.session.get(type(current_user._get_current_object()), user_id) if user_id else None
        return me

    def import_default(self, f, session, today):
        return None


__all__ = ["format_iban", "plain_text"]
