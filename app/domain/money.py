"""Money: one number type from the form to the database to the letter (beancount's ``D()``).

Amounts are ``Decimal``, never ``float`` ("never use floating-point in an accounting system",
beancount/core/number.py). Every place that reads, rounds or prints an amount goes through here:

1. ``parse_money`` reads what a clerk types ("1.234,56 €", "1234,56", "1234.56", "1.234") and says in
   German what is wrong otherwise;
2. ``quantize`` rounds commercially to the cent (half up: 0,005 → 0,01), as fee statutes do; ``Decimal``
   itself would round half-even;
3. ``format_money`` prints "1.234,56 €", ``format_decimal`` the number alone ("1.234,56").

A float is refused with TypeError: 2.675 as a float is 2.67499999…, and rounding it would lose the cent.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
EXAMPLE = "z. B. 1.234,50"

# "1.234" or "-12.345.678": dots that group thousands, no decimal comma.
_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def to_decimal(value) -> Decimal:
    """``Decimal`` from a Decimal, an int or a plain numeric string; a float raises TypeError."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"Geldbeträge nie als float ({value!r}): Decimal oder Text verwenden.")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"'{value}' ist keine Zahl.") from None
        if not result.is_finite():
            raise ValueError(f"'{value}' ist keine Zahl.")
        return result
    raise TypeError(f"Kein Geldbetrag: {type(value).__name__}")


def quantize(value, exponent: Decimal = CENT) -> Decimal:
    """Round half up to the cent (or to ``exponent``); 0.005 → 0.01, 2.675 → 2.68."""
    return to_decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)


def to_cents(value) -> int:
    """Whole cents, rounded half up: Decimal("12.345") → 1235."""
    return int(quantize(value) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def parse_decimal(text: str, places: int | None = None, what: str = "Betrag") -> Decimal:
    """A German number as typed: "1.234,56", "1234,56", "1234.56", "1.234" (thousands), with or without "€".

    1. A comma is the decimal sign; dots before it group thousands.
    2. Without a comma, dots in groups of three are thousands ("1.234" is 1234), else a decimal point.
    3. More than ``places`` decimals are an error, never silently rounded.
    Raises ValueError with a German message that quotes the text.
    """
    if isinstance(text, float):
        raise TypeError(f"Geldbeträge nie als float ({text!r}): Decimal oder Text verwenden.")
    raw = str(text if text is not None else "").strip()
    cleaned = raw.replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not cleaned:
        raise ValueError(f"Kein {what} angegeben ({EXAMPLE}).")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{raw}' ist kein gültiger {what} ({EXAMPLE})") from None
    if not value.is_finite():
        raise ValueError(f"'{raw}' ist kein gültiger {what} ({EXAMPLE})")
    if places is not None and -value.as_tuple().exponent > places:
        raise ValueError(f"Höchstens {places} Nachkommastellen erlaubt.")
    return value


def parse_money(text: str) -> Decimal:
    """An amount in euros, to the cent: "1.234,56 €" → Decimal("1234.56"); German ValueError otherwise."""
    return parse_decimal(text, places=2).quantize(CENT)


def format_decimal(value, places: int | None = 2) -> str:
    """German digits: "1.234,56"; ``places=None`` keeps the value's own decimals without trailing zeros."""
    number = to_decimal(value)
    if places is None:
        number = number.normalize()
        if number == number.to_integral_value():
            number = number.quantize(Decimal(1))
        text = f"{number:,f}"
    else:
        text = f"{quantize(number, Decimal(1).scaleb(-places)):,.{places}f}"
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def format_money(value) -> str:
    """"1.234,56 €", rounded half up to the cent."""
    return f"{format_decimal(value, 2)} €"


def format_percent(value, places: int | None = None) -> str:
    """"12,5 %" (German digits, a space before the sign as DIN 5008 writes it)."""
    return f"{format_decimal(value, places)} %"
