"""Import the street directory (Straßenverzeichnis) from CSV.

Columns: Straße;PLZ;Ort;Ortsteil (the small-area breakdown: district or statistical area). The header
row is recognised by name (German or English), ``;`` or ``,`` separated, UTF-8 with or without BOM.
The import is idempotent (street + postcode + city is the key) and all-or-nothing.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core_models import Street

HEADERS = {
    "name": ("straße", "strasse", "street", "name", "straßenname"),
    "postcode": ("plz", "postleitzahl", "postcode"),
    "city": ("ort", "stadt", "city"),
    "district": ("ortsteil", "bezirk", "district", "statistisches gebiet", "gebiet", "sozialraum"),
}


class StreetImportError(Exception):
    pass


@dataclass
class StreetImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def _columns(header: list[str]) -> dict[str, int]:
    found = {}
    for i, name in enumerate(h.strip().lower() for h in header):
        for key, names in HEADERS.items():
            if name in names and key not in found:
                found[key] = i
    if "name" not in found:
        raise StreetImportError("Zeile 1: Spalte 'Straße' fehlt in der Kopfzeile "
                                "(erwartet: Straße;PLZ;Ort;Ortsteil).")
    return found


def import_streets(session: Session, path: Path) -> StreetImportResult:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StreetImportError(f"{path.name}: Datei ist nicht UTF-8-kodiert.") from None
    dialect = ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=dialect))
    if not rows:
        raise StreetImportError(f"{path.name}: Datei ist leer.")
    cols = _columns(rows[0])
    existing = {(s.name, s.postcode, s.city): s for s in session.scalars(select(Street))}
    result = StreetImportResult()
    errors = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        get = lambda key: (row[cols[key]].strip() if key in cols and cols[key] < len(row) else "") or None  # noqa: E731
        name, postcode = get("name"), get("postcode")
        if not name:
            errors.append(f"Zeile {line}: Straßenname fehlt.")
            continue
        if postcode and not re.fullmatch(r"\d{5}", postcode):
            errors.append(f"Zeile {line}: PLZ '{postcode}' ist keine fünfstellige Zahl.")
            continue
        key = (name, postcode, get("city"))
        street = existing.get(key)
        if street is None:
            street = Street(name=name, name_lc=name.lower(), postcode=postcode, city=get("city"),
                            district=get("district"))
            session.add(street)
            existing[key] = street
            result.added += 1
        elif street.district != get("district"):
            street.district = get("district")
            result.updated += 1
        else:
            result.unchanged += 1
    if errors:
        raise StreetImportError("Nichts importiert:\n" + "\n".join(errors))
    session.flush()
    return result
