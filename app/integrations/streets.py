"""Import the street directory (Straßenverzeichnis) from CSV.

Columns: Straße;PLZ;Ort;Ortsteil (Ortsteil is the small-area breakdown, "kleinräumige Gliederung": a
district or statistical area, and may be left out). The header row is recognised by name (German or
English, any order), ``;`` or ``,`` separated, UTF-8 with or without BOM. The import is idempotent
(street + postcode + city is the key; a changed Ortsteil is updated) and all-or-nothing: one bad row
and nothing is written, with every bad row reported by its line number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core_models import Street
from .csv_input import CsvInputError, decode, open_rows

HEADERS = {
    "name": ("straße", "strasse", "str.", "street", "straßenname", "strassenname"),
    "postcode": ("plz", "postleitzahl", "postcode"),
    "city": ("ort", "stadt", "city", "gemeinde"),
    "district": ("ortsteil", "bezirk", "district", "statistisches gebiet", "gebiet", "sozialraum", "stadtteil"),
}
COLUMN_LABELS = {"name": "Straße", "postcode": "PLZ", "city": "Ort", "district": "Ortsteil"}
REQUIRED = ("name", "postcode", "city")
LENGTHS = {"name": 120, "city": 80, "district": 80}


class StreetImportError(Exception):
    """A German message naming the file and the line; nothing was written."""


@dataclass
class StreetImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"Straßenverzeichnis: {self.added} neu, {self.updated} aktualisiert, {self.unchanged} unverändert."


def _columns(header: list[str], file_name: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(h.strip().lower() for h in header):
        for key, names in HEADERS.items():
            if name in names and key not in found:
                found[key] = i
    missing = [COLUMN_LABELS[key] for key in REQUIRED if key not in found]
    if missing:
        raise StreetImportError(
            f"{file_name}, Zeile 1: Kopfzeile unvollständig, es fehlt {', '.join(missing)}. "
            f"Erwartet: Straße;PLZ;Ort;Ortsteil – gefunden: {';'.join(h.strip() for h in header) or '(leer)'}")
    return found


def _decode(raw: bytes, file_name: str) -> str:
    try:
        return decode(raw, file_name)
    except CsvInputError as exc:
        raise StreetImportError(str(exc)) from None


def read_streets(raw: bytes, file_name: str) -> list[tuple[int, dict[str, str | None]]]:
    """Parse and check every row: (line number, values); raises StreetImportError listing all bad rows."""
    text = _decode(raw, file_name)
    if not text.strip():
        raise StreetImportError(f"{file_name}: Die Datei ist leer.")
    header, lines = open_rows(text)
    cols = _columns(header, file_name)
    rows, errors = [], []
    for line, row, unreadable in lines:
        if unreadable:
            errors.append(unreadable)
            break
        values = {key: (row[i].strip() if i < len(row) else "") or None for key, i in cols.items()}
        problems = []
        if not values.get("name"):
            problems.append("Straßenname fehlt")
        postcode = values.get("postcode")
        if not postcode:
            problems.append("PLZ fehlt")
        elif not re.fullmatch(r"\d{5}", postcode):
            problems.append(f"PLZ „{postcode}“ ist keine fünfstellige Zahl")
        if not values.get("city"):
            problems.append("Ort fehlt")
        for key, length in LENGTHS.items():
            if values.get(key) and len(values[key]) > length:
                problems.append(f"{COLUMN_LABELS[key]} ist länger als {length} Zeichen")
        if problems:
            errors.append(f"Zeile {line}: " + "; ".join(problems) + ".")
        else:
            rows.append((line, values))
    if errors:
        shown = errors[:20] + ([f"… und {len(errors) - 20} weitere fehlerhafte Zeilen."] if len(errors) > 20 else [])
        raise StreetImportError(f"{file_name}: Nichts importiert, die Datei enthält Fehler:\n" + "\n".join(shown))
    return rows


def import_streets(session: Session, path: Path) -> StreetImportResult:
    """Read ``path`` into the street directory; the caller commits (or rolls back on StreetImportError)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StreetImportError(f"{path.name}: Datei nicht lesbar ({exc.strerror}).") from None
    rows = read_streets(raw, path.name)
    existing = {(s.name, s.postcode, s.city): s for s in session.scalars(select(Street))}
    result = StreetImportResult()
    for _line, values in rows:
        key = (values["name"], values["postcode"], values["city"])
        street = existing.get(key)
        district = values.get("district")
        if street is None:
            street = Street(name=values["name"], name_lc=values["name"].lower(), postcode=values["postcode"],
                            city=values["city"], district=district)
            session.add(street)
            existing[key] = street
            result.added += 1
        elif "district" in values and street.district != district:
            # A file without the Ortsteil column leaves the known districts alone.
            street.district = district
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    return result
