"""Kinds stored as numbers: integer, decimal, money (the ``Money`` column) and percent."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Column, Integer, Numeric

from ...domain import money
from .base import FieldKind, register
from .form_fields import GermanDecimalField
from .types import Money


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
