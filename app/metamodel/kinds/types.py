"""Column types the field kinds share: ``Money`` (Numeric(14,2) that stays a Decimal, rounded half up).

SQLite keeps NUMERIC as a float and SQLAlchemy warns when it hands it back as Decimal; a TypeDecorator
returns a Decimal quantized to the cent on both databases and rounds commercially on the way in, so
2.675 is stored as 2.68 (Decimal's own rounding, and PostgreSQL's cast, would not agree on every value).
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric
from sqlalchemy.types import TypeDecorator

from ...domain.money import CENT, quantize, to_decimal

MONEY_PRECISION, MONEY_SCALE = 14, 2


class Money(TypeDecorator):
    """A euro amount: Numeric(14,2) in the database, ``Decimal`` in Python, never float."""

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return quantize(value)  # a float raises TypeError here, before it reaches the database

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        # SQLite may hand back a float or a string: read it through its text, not its binary value.
        return to_decimal(value if isinstance(value, Decimal) else str(value)).quantize(CENT)

    def __repr__(self) -> str:
        return "Money()"


def render_item(type_, obj, autogen_context):
    """Alembic ``render_item``: a revision file writes ``Money`` as the plain Numeric it is in the database."""
    if type_ == "type" and isinstance(obj, Money):
        return f"sa.Numeric(precision={MONEY_PRECISION}, scale={MONEY_SCALE})"
    return False
