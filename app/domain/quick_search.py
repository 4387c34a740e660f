"""What a clerk types into the one search box, read as what they mean (pure: no Flask, no session).

- a date ("31.10.1963", "31.10.63", "1963-10-31"): a birth date;
- text with a digit ("2026/0042", "2026/00"): the beginning of an Aktenzeichen;
- "Meier, Sieglinde": surname, first name (each the beginning of the name);
- "Sieglinde Meier": first name and surname – or surname and first name, or a surname of two words
  ("van Berg"): every reading is tried;
- "Meier": the beginning of a surname.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .dates import parse_date


@dataclass(frozen=True)
class Query:
    text: str
    birth_date: date | None = None
    file_number: str | None = None
    # (surname, first name or None): each the beginning of the name, lower case
    names: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.birth_date or self.file_number or self.names)


def read_query(text: str | None, *, today: date | None = None) -> Query:
    value = " ".join((text or "").split())
    if not value:
        return Query("")
    if any(ch.isdigit() for ch in value):
        try:
            return Query(value, birth_date=parse_date(value, today=today))
        except ValueError:
            return Query(value, file_number=value.lower())
    lower = value.lower()
    if "," in lower:
        surname, _, first = (part.strip() for part in lower.partition(","))
        return Query(value, names=((surname, first or None),) if surname else ())
    words = lower.split(" ")
    if len(words) == 1:
        return Query(value, names=((lower, None),))
    readings = [(words[-1], " ".join(words[:-1])),   # Sieglinde Meier
                (words[0], " ".join(words[1:])),     # Meier Sieglinde
                (lower, None)]                       # van Berg
    return Query(value, names=tuple(dict.fromkeys(readings)))
