"""Kinds of single values: date, datetime (stored in UTC, shown in Berlin) and boolean."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Column, Date, DateTime

from ...clock import today
from ...domain import dates
from .base import FieldKind, register, sql_literal
from .form_fields import GermanDateField


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
        return GermanDateField(f.label, **kwargs)

    def form_default(self, f):
        if f.default == "today":
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
        return sql_literal(day.isoformat()), None

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
        return sql_literal(datetime.fromisoformat(str(f.default)).isoformat(sep=" ")), None


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
