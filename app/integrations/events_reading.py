"""Reading the districts' event lists (Altbestand): columns, district names, events, dates, "zu zweit".

The column table and the checks of one row for ``fachstelle import-events`` (docs/import-ereignisse.md); no
database: the org units come in as a list. Writing is app/integrations/events_import.py.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..domain import dates
from .pipeline import (UNKNOWN_REFERENCE, Collector, Column, CsvFile, ImportFailed, Invalid, ProgressFn,
                       map_columns, parse_rows)

HEADER = ("fall_id", "bezirk", "ereignis", "datum", "zu_zweit")
# The fixed measurement points of the Berlin agreement (catalogue measurement_point).
EVENTS = ("klage_eingang", "klage_anschreiben", "kontakt", "hausbesuch", "zr_mitteilung_eingang",
          "zr_anschreiben", "zr_termin", "zr_anwesenheit")
PAIR_EVENTS = ("hausbesuch", "zr_anwesenheit")  # "zu zweit" is recorded for visits and attendance only
FUTURE_EVENTS = ("zr_termin",)  # an eviction date is announced in advance; everything else has happened
EARLIEST = date(1990, 1, 1)


class EventImportError(ImportFailed):
    """A German message naming the file and the lines; nothing was written. ``problems`` has them as values."""

    @classmethod
    def of(cls, problems: Collector) -> EventImportError:
        return cls(problems.file_name, problems.problems, problems.more)


@dataclass(frozen=True)
class EventRow:
    line: int
    ref: str
    unit_id: int
    event: str
    on: date
    in_pairs: bool


def _norm(text: str) -> str:
    text = text.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


class UnitMatcher:
    """``bezirk`` by code or name, case-insensitive, umlauts and dashes aside; or by the last word(s) of the
    name, so "Mitte" finds "Soziale Wohnhilfe Mitte" (code ``mitte``) and "Fachstelle Nord" is also "Nord"."""

    def __init__(self, units: Iterable):
        self.units = {u.id: u for u in units}
        self.exact: dict[str, set[int]] = {}
        self.tail: dict[str, set[int]] = {}
        self.shown: dict[str, str] = {}  # key -> how a suggestion reads
        for unit in self.units.values():
            for key, text in ((_norm(unit.code), unit.code), (_norm(unit.name), unit.name)):
                self.exact.setdefault(key, set()).add(unit.id)
                self.shown.setdefault(key, text)
            words = unit.name.split()
            for i in range(1, len(words)):
                text = " ".join(words[i:])
                self.tail.setdefault(_norm(text), set()).add(unit.id)
                self.shown[_norm(text)] = text  # "Mitte" reads better than the code "mitte"

    def match(self, value: str) -> tuple[int | None, str | None]:
        """The unit id, or None and the German problem."""
        key = _norm(value)
        ids = self.exact.get(key) or self.tail.get(key) or set()
        if len(ids) == 1:
            return next(iter(ids)), None
        if ids:
            names = ", ".join(sorted(self.units[i].code for i in ids))
            return None, f"Bezirk „{value}“ ist mehrdeutig ({names}); bitte das Kürzel angeben"
        close = difflib.get_close_matches(key, list(self.shown), n=1, cutoff=0.75)
        hint = (f"meinten Sie „{self.shown[close[0]]}“?" if close
                else f"bekannt: {', '.join(sorted(u.code for u in self.units.values()))}")
        return None, f"Bezirk „{value}“ unbekannt ({hint})"


def _event(value: str) -> tuple[str | None, str | None]:
    key = _norm(value)
    if key in EVENTS:
        return EVENTS[EVENTS.index(key)], None  # the constant: one string object for 100,000 rows
    if not key:
        return None, "ereignis fehlt"
    close = difflib.get_close_matches(key, EVENTS, n=1, cutoff=0.7)
    hint = f"meinten Sie „{close[0]}“?" if close else f"erlaubt: {', '.join(EVENTS)}"
    return None, f"Ereignis „{value}“ unbekannt ({hint})"


def parse_date(value: str) -> date:
    """TT.MM.JJJJ (also T.M.JJJJ) or JJJJ-MM-TT, read by the shared dates module; an import file has no
    two-digit years (a list of 2019 must not be read as 1919 or 2119)."""
    try:
        return dates.parse_date(value, two_digit_years=False)
    except dates.DateInputError as exc:
        if exc.impossible:
            raise Invalid(f"Datum „{value}“ gibt es nicht") from None
        raise Invalid(f"Datum „{value}“ ist weder TT.MM.JJJJ noch JJJJ-MM-TT") from None


def columns(matcher: UnitMatcher, ref_length: int = 40) -> list[Column]:
    """The columns of an event list (docs/import-ereignisse.md), in the order problems are reported."""
    def ref(text: str) -> str:
        if not text:
            raise Invalid("fall_id fehlt")
        if len(text) > ref_length:
            raise Invalid(f"fall_id ist länger als {ref_length} Zeichen")
        return text

    units, events, dates = {}, {}, {}  # a file names few districts, events and days, in 100,000 rows

    def unit(text: str) -> int:
        if not text:
            raise Invalid("bezirk fehlt")
        if text not in units:
            units[text] = matcher.match(text)
        unit_id, problem = units[text]
        if problem:
            raise Invalid(problem, UNKNOWN_REFERENCE)
        return unit_id

    def event(text: str) -> str:
        if text not in events:
            events[text] = _event(text)
        key, problem = events[text]
        if problem:
            raise Invalid(problem)
        return key

    def on(text: str) -> date:
        if text in dates:
            return dates[text]
        if not text:
            raise Invalid("datum fehlt")
        value = parse_date(text)
        if value < EARLIEST:
            raise Invalid(f"Datum „{text}“ liegt vor dem {EARLIEST:%d.%m.%Y} (Tippfehler im Jahr?)")
        dates[text] = value
        return value

    def pairs(text: str) -> bool:
        key = text.lower()
        if key in ("", "nein"):
            return False
        if key != "ja":
            raise Invalid(f"zu_zweit „{text}“ ist weder ja noch nein (oder leer)")
        return True

    return [Column("ref", "fall_id", ("fall_id", "fall id"), True, ref),
            Column("unit_id", "bezirk", ("bezirk",), True, unit),
            Column("event", "ereignis", ("ereignis",), True, event),
            Column("on", "datum", ("datum",), True, on),
            Column("in_pairs", "zu_zweit", ("zu_zweit", "zu zweit"), False, pairs)]


def _row_checks(today: date):
    """What one cell cannot say alone: a date in the future, "zu zweit" on an event without a second person."""
    def check(values: dict, texts: dict) -> list[tuple[str, str]]:
        found = []
        on, event = values.get("on"), values.get("event")
        if on is not None and on > today and event not in FUTURE_EVENTS:
            found.append(("on", f"Datum „{texts['on']}“ liegt in der Zukunft"))
        if values.get("in_pairs") and event is not None and event not in PAIR_EVENTS:
            found.append(("in_pairs", f"zu_zweit „ja“ gilt nur für {' und '.join(PAIR_EVENTS)}, nicht für {event}"))
        return found
    return check


def open_file(source: Path | bytes, file_name: str | None = None) -> CsvFile:
    """The file as a stream, or EventImportError (unreadable, not CSV, empty)."""
    try:
        csv_file = CsvFile.open(source, file_name)
    except ImportFailed as exc:
        message = exc.heading if exc.heading.endswith("Nichts importiert.") else f"{exc.heading} Nichts importiert."
        raise EventImportError(exc.file_name, exc.problems, heading=message, listed=False) from None
    if not csv_file.header:
        raise EventImportError(csv_file.file_name, [], heading=f"{csv_file.file_name}: Die Datei ist leer. "
                                                               "Nichts importiert.", listed=False)
    return csv_file


def scan(csv_file: CsvFile, units: Iterable, today: date, ref_length: int, problems: Collector,
         progress: ProgressFn | None = None, phase: str = "geprüft") -> Iterator[EventRow]:
    """Every good row of the file, streamed; the bad ones end up in ``problems`` with line and column."""
    cols = columns(UnitMatcher(units), ref_length)
    try:
        index = map_columns(csv_file, cols, ";".join(HEADER))
    except ImportFailed as exc:
        raise EventImportError(exc.file_name, exc.problems, heading=exc.heading, listed=False) from None
    for line, values in parse_rows(csv_file, cols, index, problems, progress, phase, _row_checks(today)):
        yield EventRow(line, values["ref"], values["unit_id"], values["event"], values["on"], values["in_pairs"])


def read_events(raw: bytes, file_name: str, units: Iterable, today: date, ref_length: int = 40) -> list[EventRow]:
    """Parse and check every row; raises EventImportError listing every bad row by its line number."""
    csv_file = open_file(raw, file_name)
    problems = Collector(file_name)
    rows = list(scan(csv_file, units, today, ref_length, problems))
    if problems:
        raise EventImportError.of(problems)
    if not rows:
        raise EventImportError(file_name, [], heading=f"{file_name}: Die Datei enthält keine Ereignisse, "
                                                      "nur die Kopfzeile.", listed=False)
    return rows
