"""Kinds stored as text: string, text, file, and one-line texts with a fixed form (iban, email, phone)."""
from __future__ import annotations

import re

from sqlalchemy import Column, String, Text

from .base import FieldKind, register, sql_literal
from .form_fields import ParsedTextField


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
        return (sql_literal(f.default), None) if f.default is not None else (None, None)


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
