"""The shared import pipeline without a database: encodings, delimiters, header mapping, problems with
line and column, the capped report, progress output (issue #10)."""
from __future__ import annotations

import io
from datetime import date
from types import SimpleNamespace

import pytest

from app.integrations import pipeline
from app.integrations.events_import import EventImportError, read_events
from app.integrations.pipeline import (INVALID_VALUE, MISSING_COLUMN, UNKNOWN_REFERENCE, Collector, Column, CsvFile,
                                       ImportFailed, Invalid, map_columns, parse_rows, terminal_progress)
from app.problems import CATALOGUE, Source

TEXT = "Straße;PLZ;Ort\nKönigstraße;47110;Düsseldorf\nAm Weißen Stein;47111;Köln\n"


def _upper(text: str) -> str:
    if not text:
        raise Invalid("fehlt")
    return text.upper()


COLUMNS = [Column("street", "Straße", ("strasse",), True, _upper), Column("postcode", "PLZ", ("plz",)),
           Column("city", "Ort", ("ort",), True), Column("district", "Ortsteil", ("ortsteil",), False)]


def rows(raw: bytes, name: str = "s.csv") -> list[tuple[int, dict]]:
    csv_file = CsvFile.open(raw, name)
    problems = Collector(name)
    found = list(parse_rows(csv_file, COLUMNS, map_columns(csv_file, COLUMNS, "Straße;PLZ;Ort"), problems))
    assert not problems, problems.problems
    return found


@pytest.mark.parametrize(("raw", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8-sig"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),           # Excel's "CSV UTF-8"
    (TEXT.encode("cp1252"), "cp1252"),                                # Excel's plain "CSV" on German Windows
    (TEXT.replace("\n", "\r\n").encode("cp1252"), "cp1252"),          # with Windows line ends
], ids=["utf-8", "utf-8-bom", "cp1252", "cp1252-crlf"])
def test_encodings_give_the_same_umlauts(raw, encoding):
    assert CsvFile.open(raw, "s.csv").encoding == encoding
    assert rows(raw) == [(2, {"street": "KÖNIGSTRASSE", "postcode": "47110", "city": "Düsseldorf", "district": ""}),
                         (3, {"street": "AM WEISSEN STEIN", "postcode": "47111", "city": "Köln", "district": ""})]


def test_utf8_late_in_a_big_file_is_still_utf8_and_a_late_cp1252_byte_switches():
    # The decision reads the whole file in chunks, not just the first lines.
    body = "Straße;PLZ;Ort\n" + "Weg;47110;Ort\n" * 100_000
    assert CsvFile.open((body + "Größe;47110;Köln\n").encode("utf-8")).encoding == "utf-8-sig"
    late = CsvFile.open((body + "Größe;47110;Köln\n").encode("cp1252"))
    assert late.encoding == "cp1252" and late.lines == 100_002


@pytest.mark.parametrize("delimiter", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
def test_delimiter_is_the_one_the_header_uses(delimiter):
    raw = TEXT.replace(";", delimiter).encode("utf-8")
    assert CsvFile.open(raw).delimiter == delimiter
    assert [values["city"] for _, values in rows(raw)] == ["Düsseldorf", "Köln"]


def test_a_semicolon_file_with_commas_in_cells_stays_semicolon():
    raw = "Straße;PLZ;Ort;Ortsteil\nA-Weg;47110;Köln;Nord, Altstadt\n".encode()
    assert rows(raw)[0][1]["district"] == "Nord, Altstadt"


def test_headers_in_any_order_and_spelling():
    raw = "ORT\tOrtsteil\tplz\tStrasse\nKöln\tNord\t47110\tA-Weg\n".encode()
    assert rows(raw) == [(2, {"street": "A-WEG", "postcode": "47110", "city": "Köln", "district": "Nord"})]


def test_missing_columns_are_named_with_the_header_line():
    csv_file = CsvFile.open(b"Strasse;Postfach\nA-Weg;1\n", "s.csv")
    with pytest.raises(ImportFailed) as error:
        map_columns(csv_file, COLUMNS, "Straße;PLZ;Ort")
    assert [(p.id, p.source) for p in error.value.problems] == [
        (MISSING_COLUMN, Source("s.csv", 1, "PLZ")), (MISSING_COLUMN, Source("s.csv", 1, "Ort"))]
    assert str(error.value) == ("s.csv, Zeile 1: Kopfzeile unvollständig, es fehlt PLZ, Ort. Erwartet: Straße;PLZ;Ort "
                                "– gefunden: Strasse;Postfach. Nichts importiert.")


BERLIN = [SimpleNamespace(id=1, code="mitte", name="Soziale Wohnhilfe Mitte")]


def test_bad_values_are_problems_with_line_and_column():
    raw = ("fall_id;bezirk;ereignis;datum\n"
           "MI-1;Mitte;kontakt;07.03.2023\n"
           "MI-2;Mite;kontakt;31.02.2024\n").encode()
    with pytest.raises(EventImportError) as error:
        read_events(raw, "e.csv", BERLIN, date(2026, 11, 20))
    assert [(p.id, p.source, p.message) for p in error.value.problems] == [
        (UNKNOWN_REFERENCE, Source("e.csv", 3, "bezirk"), "Bezirk „Mite“ unbekannt (meinten Sie „Mitte“?)"),
        (INVALID_VALUE, Source("e.csv", 3, "datum"), "Datum „31.02.2024“ gibt es nicht")]
    assert str(error.value.problems[1]) == "e.csv:3, Spalte „datum“: (import.E003) Datum „31.02.2024“ gibt es nicht"


def test_the_report_shows_the_first_rows_and_counts_the_rest_even_beyond_what_is_kept():
    raw = ("fall_id;bezirk;ereignis;datum\n" + "MI-1;Mitte;kontakt;31.02.2024\n" * 1500).encode()
    with pytest.raises(EventImportError) as error:
        read_events(raw, "e.csv", BERLIN, date(2026, 11, 20))
    assert len(error.value.problems) == pipeline.KEEP and error.value.more == 500
    lines = str(error.value).splitlines()
    assert len(lines) == 22 and lines[-1] == "… und 1480 weitere Fehler."


def test_the_generic_ids_are_registered():
    # The titles live in app/problem_catalogue.py (docs/spec-checks.md is made from it).
    ids = ("import.E001", "import.E002", "import.E003", "import.E004", "import.E005", "import.W001")
    assert {i: CATALOGUE[i].area for i in ids} == dict.fromkeys(ids, "Import")
    assert [CATALOGUE[i].level.value for i in ids] == ["error"] * 5 + ["warning"]

def test_progress_is_a_bar_on_a_terminal_lines_in_a_log_and_nothing_in_ci(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.delenv("CI", raising=False)
    tty = Tty()
    show = terminal_progress(tty)
    show("geprüft", 40_000, 100_000)
    show("geprüft", 100_000, 100_000)
    assert tty.getvalue() == ("\r[############..................] … 40.000 von 100.000 Zeilen geprüft"
                              "\r[##############################] … 100.000 von 100.000 Zeilen geprüft\n")
    log = io.StringIO()
    show = terminal_progress(log, interval=3600)
    show("geprüft", 1, 100_000)
    show("geprüft", 2, 100_000)  # within the interval: not repeated
    show("importiert", 100_000, 100_000)  # the end is always shown
    assert log.getvalue() == ("… 1 von 100.000 Zeilen geprüft\n"
                              "… 100.000 von 100.000 Zeilen importiert\n")
    monkeypatch.setenv("CI", "true")
    assert terminal_progress(io.StringIO()) is None
