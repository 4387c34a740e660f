"""app/domain/money.py: parse what clerks type, round half up to the cent, print "1.234,56 €", never float."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.money import (format_decimal, format_money, format_percent, from_cents, parse_decimal, parse_money,
                              quantize, to_cents)


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("0.005"), Decimal("0.01")),    # half up, where Decimal's default (half even) gives 0.00
    (Decimal("2.675"), Decimal("2.68")),    # as a float 2.675 is 2.67499…; as Decimal it is exact
    (Decimal("0.015"), Decimal("0.02")),    # half even would give 0.02 too: both agree here
    (Decimal("0.025"), Decimal("0.03")),    # half even would give 0.02
    (Decimal("-0.005"), Decimal("-0.01")),  # away from zero for negatives (a reversal mirrors its booking)
    (Decimal("12.344"), Decimal("12.34")),  # below half: down
    ("7", Decimal("7.00")),                 # a plain numeric text is read exactly
    (3, Decimal("3.00")),                   # an int is exact
], ids=["half-cent", "2.675", "0.015", "0.025", "negative", "below-half", "text", "int"])
def test_quantize_rounds_half_up(value, expected):
    assert quantize(value) == expected
    assert str(quantize(value)) == str(expected)


def test_cents_round_trip():
    assert to_cents(Decimal("12.345")) == 1235
    assert from_cents(1235) == Decimal("12.35")


@pytest.mark.parametrize("value", [2.675, 0.1], ids=["2.675", "0.1"])
def test_floats_are_refused(value):
    with pytest.raises(TypeError, match="nie als float"):
        quantize(value)
    with pytest.raises(TypeError):
        format_money(value)
    with pytest.raises(TypeError):
        parse_money(value)


@pytest.mark.parametrize(("text", "expected"), [
    ("1.234,56 €", Decimal("1234.56")),  # as printed on a notice
    ("1.234,56", Decimal("1234.56")),    # thousands dot, decimal comma
    ("1234,56", Decimal("1234.56")),     # no thousands dot
    ("1234.56", Decimal("1234.56")),     # a point when no comma: English keyboards, exports
    ("1.234", Decimal("1234.00")),       # dots in threes without a comma are thousands
    ("12,5", Decimal("12.50")),          # one decimal
    ("-50", Decimal("-50.00")),          # a reversal
    ("1 234,56 EUR", Decimal("1234.56")),  # blanks as separators, EUR
    ("\u00a01.000,00\u00a0€", Decimal("1000.00")),  # non-breaking spaces from a copied letter
], ids=["euro-sign", "german", "no-dot", "point", "thousands", "one-decimal", "negative", "eur", "nbsp"])
def test_parse_money(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("12,345", "Höchstens 2 Nachkommastellen erlaubt."),          # never silently rounded
    ("zwölf", "'zwölf' ist kein gültiger Betrag (z. B. 1.234,50)"),  # not a number
    ("1,2,3", "'1,2,3' ist kein gültiger Betrag (z. B. 1.234,50)"),  # two decimal commas
    ("", "Kein Betrag angegeben (z. B. 1.234,50)."),                # empty
    ("NaN", "'NaN' ist kein gültiger Betrag (z. B. 1.234,50)"),      # Decimal would accept it
    ("Infinity", "'Infinity' ist kein gültiger Betrag (z. B. 1.234,50)"),
], ids=["three-decimals", "word", "two-commas", "empty", "nan", "infinity"])
def test_parse_money_refuses_in_german(text, message):
    with pytest.raises(ValueError) as caught:
        parse_money(text)
    assert str(caught.value) == message


def test_parse_decimal_keeps_more_places_when_allowed():
    assert parse_decimal("0,1234", 4) == Decimal("0.1234")


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("0"), "0,00 €"), (Decimal("1234.5"), "1.234,50 €"), (Decimal("0.005"), "0,01 €"),
    (Decimal("-1234567.891"), "-1.234.567,89 €"), (Decimal("1E+3"), "1.000,00 €"),
], ids=["zero", "thousands", "half-up", "negative-millions", "exponent"])
def test_format_money(value, expected):
    assert format_money(value) == expected


@pytest.mark.parametrize(("value", "places", "expected"), [
    (Decimal("12.50"), None, "12,5"),       # own decimals, trailing zero dropped
    (Decimal("100"), None, "100"),          # no "1E+2"
    (Decimal("1234.5678"), 2, "1.234,57"),  # fixed places, half up
], ids=["own-places", "integral", "fixed"])
def test_format_decimal(value, places, expected):
    assert format_decimal(value, places) == expected


def test_format_percent():
    assert format_percent(Decimal("12.5000")) == "12,5 %"
