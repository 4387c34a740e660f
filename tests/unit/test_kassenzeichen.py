"""app/domain/kassenzeichen.py: normalised, check digits, display mask, found in purpose texts."""
from __future__ import annotations

import pytest

from app.domain.kassenzeichen import check_digit, compose, display, find_in_text, is_valid, normalise


@pytest.mark.parametrize(("text", "expected"), [
    ("52.000.123-4", "520001234"),      # dots and dash of the display mask
    (" 52 000 123/4 ", "520001234"),   # blanks and a slash as typed
    ("dl-2026_7", "DL20267"),           # letters capitalised, underscore dropped
    (None, ""),
], ids=["mask", "blanks-slash", "letters", "none"])
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(("body", "method", "digit"), [
    ("7992739871", "mod10", "3"),   # the textbook Luhn example
    ("52000123", "mod10", "1"),   # 3·2+2+1·2+0+0+0+2·2+5 = 19 → 1
    ("52000123", "mod11", "9"),     # weights 2..7 from the right: sum 35, 11 - 35 % 11 = 9
    ("0", "mod11", "0"),            # 11 - 0 = 11 → 0
    ("52000123", "keine", ""),
], ids=["luhn", "mod10", "mod11", "mod11-zero", "none"])
def test_check_digit(body, method, digit):
    assert check_digit(body, method) == digit


def test_compose_and_validate():
    value = compose("52", 123, 6, "mod11")
    assert value.startswith("52000123")
    assert is_valid(value, "mod11")
    assert not is_valid(value[:-1] + str((int(value[-1]) + 1) % 10), "mod11")
    with pytest.raises(ValueError, match="mehr als 6 Stellen"):
        compose("52", 1234567, 6, "mod10")


@pytest.mark.parametrize(("value", "mask", "shown"), [
    ("520001235", "##.######-#", "52.000123-5"),
    ("520001235", None, "520001235"),
    ("52", "##.######-#", "52"),      # does not fit the mask: plain
], ids=["mask", "no-mask", "not-fitting"])
def test_display(value, mask, shown):
    assert display(value, mask) == shown


KNOWN = {"520001235", "520001243"}


@pytest.mark.parametrize(("text", "found"), [
    ("Rate Darlehen KZ 52.000123-5 Januar", ["520001235"]),     # with the mask's dots and dash
    ("KZ 52 000 123 5 / Rate 12.2026", ["520001235"]),          # spaces, and a date right after
    ("520001235 und 520001243", ["520001235", "520001243"]),    # two: the caller makes it a Klärfall
    ("Ref 5200012350 Miete", []),                               # inside a longer number: another number
    ("Miete Dezember", []),
], ids=["masked", "spaces", "two", "longer-number", "none"])
def test_find_in_text(text, found):
    assert find_in_text(text, KNOWN) == found
