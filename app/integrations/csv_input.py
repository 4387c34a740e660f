"""Reading the CSV files offices export from Excel: UTF-8 with or without BOM, ``;`` or ``,``, line numbers.

Every import (street directory, recorded events) reads its file through here, so all of them accept the
same files and report an unreadable one in the same German words.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator


class CsvInputError(Exception):
    """The file cannot be read as CSV; the message is German and names the file and the line."""


def decode(raw: bytes, file_name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise CsvInputError(
            f"{file_name}, Zeile {line}: Die Datei ist nicht UTF-8-kodiert (z. B. Windows-1252 aus Excel). "
            "Bitte als „CSV UTF-8“ speichern und erneut einlesen.") from None


def open_rows(text: str) -> tuple[list[str], Iterator[tuple[int, list[str] | None, str | None]]]:
    """The header and an iterator of (line number, cells, problem) for every non-empty row.

    The delimiter is the one the header uses more (``;`` from German Excel, ``,`` otherwise). A row the
    csv module cannot read yields its line with the problem and ends the file.
    """
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])

    def rows():
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, None, f"Zeile {reader.line_num}: Zeile nicht lesbar ({exc})."
                return
            if any(cell.strip() for cell in row):
                yield reader.line_num, row, None
    return header, rows()
