"""Kassenzeichen: the treasury's account number of a claim, normalised, checked and shown (pure rules).

A city's Kassenzeichen is prefix + running number + check digit (research money-and-shelters §1: Solingen
``8.XXXX.XXXXX.XXXX.X``, Bergkamen ``01 0123456789 01 000``, cemetery software "prefix + running number + check
digit, mod 10, mod 11"). Stored normalised (digits and capitals only), shown through the city's display mask,
where ``#`` takes the next character and everything else is printed as it stands.
"""
from __future__ import annotations

import re

METHODS = ("keine", "mod10", "mod11")
_NOT_KEPT = re.compile(r"[\s./\-_]+")


def normalise(text: str | None) -> str:
    """"52.000.123-4" → "520001234": spaces, dots, dashes, underscores and slashes go; letters capitalised."""
    return _NOT_KEPT.sub("", str(text or "")).upper()


def check_digit(body: str, method: str) -> str:
    """The check digit of ``body`` (digits) by ``method``; "" for "keine".

    mod10: Luhn (weights 2,1 from the right, digit sums), as on many municipal forms;
    mod11: weights 2..7 from the right repeating, 11 − sum mod 11 (10 → 0, 11 → 0).
    """
    if method == "keine":
        return ""
    if not body.isdigit():
        raise ValueError(f"Kassenzeichen '{body}': für eine Prüfziffer nur Ziffern erlaubt.")
    digits = [int(c) for c in reversed(body)]
    if method == "mod10":
        total = 0
        for i, value in enumerate(digits):
            if i % 2 == 0:
                value *= 2
                if value > 9:
                    value -= 9
            total += value
        return str((10 - total % 10) % 10)
    if method == "mod11":
        total = sum(value * (2 + i % 6) for i, value in enumerate(digits))
        rest = 11 - total % 11
        return "0" if rest >= 10 else str(rest)
    raise ValueError(f"Unbekanntes Prüfziffernverfahren '{method}' (erlaubt: {', '.join(METHODS)}).")


def compose(prefix: str, number: int, digits: int, method: str) -> str:
    """The normalised Kassenzeichen of running number ``number``: prefix + zero-padded number + check digit."""
    body = f"{normalise(prefix)}{number:0{digits}d}"
    if len(str(number)) > digits:
        raise ValueError(f"Laufende Nummer {number} hat mehr als {digits} Stellen.")
    return body + check_digit(body, method)


def is_valid(normalised: str, method: str) -> bool:
    if method == "keine":
        return bool(normalised)
    return len(normalised) > 1 and normalised[:-1].isdigit() and check_digit(normalised[:-1], method) == normalised[-1]


def display(normalised: str | None, mask: str | None) -> str:
    """The Kassenzeichen through the mask ("##.####-#"); a value that does not fit the mask is shown plain."""
    value = normalised or ""
    if not mask or mask.count("#") != len(value):
        return value
    chars = iter(value)
    return "".join(next(chars) if c == "#" else c for c in mask)


def formatter(mask: str | None):
    """``display`` with the mask compiled once: a function normalised → shown, for lists of thousands."""
    if not mask:
        return lambda normalised: normalised or ""
    slots = mask.count("#")
    template = mask.replace("{", "{{").replace("}", "}}").replace("#", "{}")

    def show(normalised: str | None) -> str:
        value = normalised or ""
        return template.format(*value) if len(value) == slots else value
    return show


def find_in_text(text: str, known, lengths: set[int] | None = None) -> list[str]:
    """The known Kassenzeichen that occur in a purpose text, spaces, dots, dashes and slashes ignored.

    ``known`` is a set of normalised Kassenzeichen (or a dict keyed by them); each candidate piece of the
    squeezed text is looked up, so 100,000 numbers cost one pass per length that occurs. A piece must start
    and end where the original text had a separator (or letters meet digits): "5200012345" does not
    contain "520001234", but "KZ 52.000.123-4 Rate 12.2026" does.
    """
    squeezed, cut = [], set()
    for char in str(text or "").upper():
        if _NOT_KEPT.fullmatch(char):
            cut.add(len(squeezed))
        else:
            if squeezed and squeezed[-1].isdigit() != char.isdigit():
                cut.add(len(squeezed))
            squeezed.append(char)
    if not squeezed:
        return []
    joined = "".join(squeezed)
    cut |= {0, len(joined)}
    lengths = lengths or {len(k) for k in known}  # pass them for many texts: the set is read once
    found = []
    for length in sorted(lengths):
        for start in sorted(c for c in cut if c + length <= len(joined)):
            if start + length not in cut:
                continue
            piece = joined[start:start + length]
            if piece in known and piece not in found:
                found.append(piece)
    return found
