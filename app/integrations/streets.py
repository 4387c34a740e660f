"""Import the street directory (Straßenverzeichnis) from CSV, through the shared pipeline (pipeline.py).

Columns: Straße;PLZ;Ort;Ortsteil (Ortsteil is the small-area breakdown, "kleinräumige Gliederung": a
district or statistical area, and may be left out). The header row is recognised by name (German or
English, any order), ``;``, ``,`` or tab separated, UTF-8 with or without BOM or Windows-1252. The import
is idempotent (street + postcode + city is the key; a changed Ortsteil is updated) and all-or-nothing: one
bad row and nothing is written, with every bad row reported by its line number. A street twice in the
file with different Ortsteile is an error (import.E005); the same line twice counts once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core_models import Street
from .pipeline import (DUPLICATE, Collector, Column, CsvFile, ImportFailed, Invalid, ProgressFn, batches,
                       header_key, insert_rows, map_columns, parse_rows)

HEADERS = {
    "name": ("straße", "strasse", "str.", "street", "straßenname", "strassenname"),
    "postcode": ("plz", "postleitzahl", "postcode"),
    "city": ("ort", "stadt", "city", "gemeinde"),
    "district": ("ortsteil", "bezirk", "district", "statistisches gebiet", "gebiet", "sozialraum", "stadtteil"),
}
COLUMN_LABELS = {"name": "Straße", "postcode": "PLZ", "city": "Ort", "district": "Ortsteil"}
REQUIRED = ("name", "postcode", "city")
LENGTHS = {"name": 120, "city": 80, "district": 80}
MISSING = {"name": "Straßenname fehlt", "postcode": "PLZ fehlt", "city": "Ort fehlt"}


class StreetImportError(ImportFailed):
    """A German message naming the file and the line; nothing was written."""


@dataclass
class StreetImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"Straßenverzeichnis: {self.added} neu, {self.updated} aktualisiert, {self.unchanged} unverändert."


def _parser(key: str):
    def parse(text: str) -> str | None:
        if not text:
            if key in MISSING:
                raise Invalid(MISSING[key])
            return None
        if key == "postcode" and not re.fullmatch(r"\d{5}", text):
            raise Invalid(f"PLZ „{text}“ ist keine fünfstellige Zahl")
        if key in LENGTHS and len(text) > LENGTHS[key]:
            raise Invalid(f"{COLUMN_LABELS[key]} ist länger als {LENGTHS[key]} Zeichen")
        return text
    return parse


COLUMNS = [Column(key, COLUMN_LABELS[key], tuple(header_key(h) for h in names), key in REQUIRED, _parser(key))
           for key, names in HEADERS.items()]


def _open(source: Path | bytes, file_name: str | None) -> tuple[CsvFile, dict[str, int]]:
    try:
        csv_file = CsvFile.open(source, file_name)
        if not csv_file.header:
            raise ImportFailed(csv_file.file_name, [], heading=f"{csv_file.file_name}: Die Datei ist leer.",
                               listed=False)
        return csv_file, map_columns(csv_file, COLUMNS, "Straße;PLZ;Ort;Ortsteil")
    except ImportFailed as exc:
        raise StreetImportError(exc.file_name, exc.problems, heading=exc.heading.removesuffix(" Nichts importiert."),
                                listed=False) from None


def read_streets(raw: bytes | Path, file_name: str | None = None, progress: ProgressFn | None = None
                 ) -> tuple[dict[tuple[str, str, str], str | None], bool]:
    """Parse and check every row: (street, postcode, city) -> Ortsteil, and whether the file has that column;
    StreetImportError lists all bad rows. One entry per street: a city's directory, some 10,000 streets."""
    csv_file, index = _open(raw, file_name)
    problems = Collector(csv_file.file_name)
    streets: dict[tuple[str, str, str], str | None] = {}
    first: dict[tuple[str, str, str], int] = {}
    for line, values in parse_rows(csv_file, COLUMNS, index, problems, progress):
        key = (values["name"], values["postcode"], values["city"])
        district = values.get("district")
        if key in streets and streets[key] != district:
            problems.add(DUPLICATE, f"{key[0]}, {key[1]} {key[2]} steht schon in Zeile {first[key]} mit Ortsteil "
                                    f"„{streets[key] or ''}“, hier mit „{district or ''}“", line, "Ortsteil")
            continue
        streets.setdefault(key, district)
        first.setdefault(key, line)
    if problems:
        raise StreetImportError(problems.file_name, problems.problems, problems.more)
    return streets, "district" in index


def import_streets(session: Session, path: Path | bytes, file_name: str | None = None,
                   progress: ProgressFn | None = None) -> StreetImportResult:
    """Read ``path`` into the street directory; the caller commits (or rolls back on StreetImportError)."""
    streets, has_district = read_streets(path, file_name, progress)
    existing = {(s.name, s.postcode, s.city): s for s in session.scalars(select(Street))}
    result = StreetImportResult()
    new = []
    for key, district in streets.items():
        street = existing.get(key)
        if street is None:
            new.append({"name": key[0], "name_lc": key[0].lower(), "postcode": key[1], "city": key[2],
                        "district": district})
        elif has_district and street.district != district:
            # A file without the Ortsteil column leaves the known districts alone.
            street.district = district
            result.updated += 1
        else:
            result.unchanged += 1
    for batch in batches(new):
        insert_rows(session, Street.__table__, batch, returning=False)
    result.added = len(new)
    session.flush()
    return result
