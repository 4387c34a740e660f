"""Typed-in values of a letter (appointment, court data, notice text): parsed from German input.

The web pages and the series job share it. Only the placeholders a template prints are asked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..domain import dates
from .placeholders import INPUT_FIELDS, describe


@dataclass(frozen=True)
class InputField:
    name: str  # "appointment.date"
    kind: str  # date, time, text, textarea
    label: str

    @property
    def html_name(self) -> str:
        return "f_" + self.name.replace(".", "__")


def fields_for(used: frozenset[str] | set[str]) -> list[InputField]:
    """The input fields a template needs, in a fixed order."""
    return [InputField(name, kind, describe(name)) for name, kind in INPUT_FIELDS.items() if name in used]


def parse_inputs(fields: list[InputField], form) -> tuple[dict, dict[str, str], list[str]]:
    """``extra`` for build_context, the raw values (to show the form again) and German errors."""
    extra: dict[str, dict] = {}
    raw: dict[str, str] = {}
    errors: list[str] = []
    for f in fields:
        text = (form.get(f.html_name) or "").strip()
        raw[f.html_name] = text
        if not text:
            continue
        value: object = text
        if f.kind == "date":
            try:
                value = dates.parse_date(text)
            except ValueError:
                errors.append(f"„{f.label}“: kein gültiges Datum (TT.MM.JJJJ).")
                continue
        elif f.kind == "time":
            try:
                value = dates.format_time(dates.parse_time(text))
            except ValueError:
                errors.append(f"„{f.label}“: keine gültige Uhrzeit (SS:MM, z. B. 09:30).")
                continue
        elif len(text) > 5000:
            errors.append(f"„{f.label}“: höchstens 5000 Zeichen.")
            continue
        group, _, key = f.name.partition(".")
        extra.setdefault(group, {})[key] = value
    return extra, raw, errors


def prefill(fields: list[InputField], context: dict) -> dict[str, str]:
    """What the case file already says, shown in the inputs (e.g. the eviction date)."""
    values = {}
    for f in fields:
        group, _, key = f.name.partition(".")
        value = context.get(group, {}).get(key)
        if isinstance(value, str) and value:
            values[f.html_name] = value.removesuffix(" Uhr") if f.kind == "time" else value
        elif isinstance(value, date):
            values[f.html_name] = dates.format_date(value)
    return values
