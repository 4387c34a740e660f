"""The one way a file comes in: every CSV import (street directory, recorded events; shelters, occupancy,
loans and payments next) reads, checks, reports and writes through here.

1. **Reading streams.** The file is read twice at most, never held whole: once to decide the encoding
   (UTF-8 strictly, with or without BOM; else Windows-1252, what German Excel writes as "CSV") and count
   its lines, then row by row through ``csv.reader``. The delimiter (``;``, ``,`` or tab) is the one the
   header line uses most.
2. **Columns are a table.** An importer declares its columns (name, German label, accepted headers,
   required, parser); headers are matched by name in any order, unknown ones are ignored.
3. **Problems are values.** Every bad cell is a ``Problem`` with ``Source(file, line, column)`` and one of
   the generic ids below; the importer collects all of them before it writes anything (all-or-nothing)
   and reports the first ``MAX_SHOWN`` rows with "… und K weitere".
4. **Writes are bulk.** ``insert_rows`` sends SQLAlchemy Core ``insert()`` in batches (executemany, the new
   ids back through RETURNING, so no explicit ids and no sequence to reset), with the audit columns and the
   change log filled as the ORM's flush listeners fill them (``app/services/history.py``).
5. **Progress** goes to a callback ``progress(phase, done, total)``; ``terminal_progress`` draws it on a
   terminal, the upload page streams it.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from ..core_models import ChangeLog
from ..problems import Level, Problem, Source
from ..services.bulk import copy_rows
from ..services.history import audit_values, change_row, derive_columns

# The ids are registered with their German titles in app/problem_catalogue.py, like every other check.
UNREADABLE, MISSING_COLUMN, INVALID_VALUE, UNKNOWN_REFERENCE, DUPLICATE, ALREADY_IMPORTED = (
    "import.E001", "import.E002", "import.E003", "import.E004", "import.E005", "import.W001")

MAX_SHOWN = 20  # rows shown in a report
KEEP = 1000  # problems kept in memory; beyond, only counted
BATCH = 2000  # rows per executemany
CHUNK = 1 << 20  # bytes read at a time
DELIMITERS = (";", ",", "\t")
ProgressFn = Callable[[str, int, int], None]


class ImportFailed(Exception):
    """Nothing was written. Carries every problem found (the first ``KEEP``) and a German report."""

    def __init__(self, file_name: str, problems: list[Problem], more: int = 0, heading: str | None = None,
                 listed: bool = True):
        # listed=False: the heading says it all (a missing column, an unreadable file).
        self.file_name, self.problems, self.more, self.listed = file_name, problems, more, listed
        self.heading = heading or f"{file_name}: Nichts importiert, die Datei enthält Fehler:"
        super().__init__(self.report())

    def report(self, limit: int = MAX_SHOWN) -> str:
        lines = by_line(self.problems)
        text = [self.heading, *lines[:limit]] if self.listed else [self.heading]
        rest = max(len(lines) - limit, 0) + self.more
        if rest and len(text) > 1:
            text.append(f"… und {rest} weitere Fehler.")
        return "\n".join(text)


def by_line(problems: Iterable[Problem]) -> list[str]:
    """One German line per row: "Zeile 4: Bezirk „Mite“ unbekannt …; datum fehlt." (file-level ones alone)."""
    rows: dict[int | None, list[str]] = {}
    order: list[int | None] = []
    for p in problems:
        line = p.source.line if p.source else None
        if line not in rows:
            rows[line] = []
            order.append(line)
        rows[line].append(p.message)
    out = []
    for line in order:
        text = "; ".join(rows[line])
        out.append(f"Zeile {line}: {text}." if line is not None else text)
    return out


class Collector:
    """Problems of one file: keeps the first ``KEEP`` and counts the rest (a file of 100,000 bad rows
    must not fill the memory with messages nobody reads)."""

    def __init__(self, file_name: str):
        self.file_name = file_name
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.more = 0
        self.rows_with_errors: set[int] = set()

    def add(self, id: str, message: str, line: int | None = None, column: str | None = None,
            hint: str | None = None, level: Level = Level.ERROR) -> None:
        problem = Problem(id, message, Source(self.file_name, line, column), hint, level)
        target = self.problems if level is Level.ERROR else self.warnings
        if line is not None and level is Level.ERROR:
            self.rows_with_errors.add(line)
        if len(target) < KEEP:
            target.append(problem)
        elif level is Level.ERROR:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.problems)

    def fail(self, heading: str | None = None) -> ImportFailed:
        return ImportFailed(self.file_name, self.problems, self.more, heading)

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.fail()


class Invalid(ValueError):  # noqa: N818 - a parser's "this value is wrong", with the German message
    """Raised by a column parser; ``id`` is INVALID_VALUE unless the value names something unknown."""

    def __init__(self, message: str, id: str = INVALID_VALUE):
        super().__init__(message)
        self.message, self.id = message, id


@dataclass(frozen=True)
class Column:
    """One column of an import file, as an importer declares it."""

    name: str  # key of the parsed value
    label: str  # German, in messages ("fall_id", "Straße")
    headers: tuple[str, ...] = ()  # accepted header names (normalised by ``header_key``); default: name
    required: bool = True  # the header must have it
    parse: Callable[[str], Any] = str  # the stripped cell -> value, or raise Invalid

    def accepts(self, key: str) -> bool:
        return key in (self.headers or (header_key(self.name),))


def header_key(text: str) -> str:
    """Headers compare case-insensitively, BOM, spaces and umlaut spellings aside."""
    text = text.strip().strip("\ufeff").lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"\s+", " ", text)


# -- reading ---------------------------------------------------------------------------------------------

@dataclass
class CsvFile:
    """A CSV file read as a stream: its encoding, delimiter, header and (roughly) its number of rows."""

    file_name: str
    open_binary: Callable[[], BinaryIO]
    encoding: str = "utf-8-sig"
    delimiter: str = ";"
    header: list[str] = field(default_factory=list)
    lines: int = 0  # newlines in the file: the progress total (a quoted line break makes it a little high)

    @classmethod
    def open(cls, source: Path | bytes, file_name: str | None = None) -> CsvFile:
        """Decide encoding and delimiter and read the header; ImportFailed (import.E001) if unreadable."""
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
            opener: Callable[[], BinaryIO] = lambda: io.BytesIO(data)  # noqa: E731
            name = file_name or "Datei"
        else:
            path = Path(source)
            name = file_name or path.name
            opener = lambda: path.open("rb")  # noqa: E731
            try:
                opener().close()
            except OSError as exc:
                problem = Problem(UNREADABLE, f"Datei nicht lesbar ({exc.strerror})", Source(name))
                raise ImportFailed(name, [problem], listed=False,
                                   heading=f"{name}: Datei nicht lesbar ({exc.strerror}).") from None
        csv_file = cls(name, opener)
        csv_file._detect()
        return csv_file

    def _detect(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        utf8, lines, bad_line = True, 0, None
        with self.open_binary() as stream:
            while chunk := stream.read(CHUNK):
                if b"\x00" in chunk:
                    raise ImportFailed(self.file_name, [], listed=False, heading=(
                        f"{self.file_name}: Die Datei ist keine CSV-Datei (z. B. eine Excel-Arbeitsmappe). "
                        "Bitte in Excel „Speichern unter → CSV“ wählen."))
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
                if not utf8 and bad_line is None:
                    # Windows-1252 leaves five bytes undefined; a file with one is neither.
                    try:
                        chunk.decode("cp1252")
                    except UnicodeDecodeError as exc:
                        bad_line = lines + chunk[:exc.start].count(b"\n") + 1
                lines += chunk.count(b"\n")
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False  # a cut-off character at the very end: no UTF-8 file; cp1252 reads every byte here
        if bad_line is not None:
            problem = Problem(UNREADABLE, "Die Datei ist weder UTF-8 noch Windows-1252 kodiert",
                              Source(self.file_name, bad_line))
            raise ImportFailed(self.file_name, [problem], listed=False, heading=(
                f"{self.file_name}, Zeile {bad_line}: Die Datei ist weder UTF-8 noch Windows-1252 kodiert. "
                "Bitte als „CSV UTF-8“ speichern und erneut einlesen."))
        self.encoding = "utf-8-sig" if utf8 else "cp1252"
        self.lines = lines
        with self._text() as text:
            first_line = ""
            for raw in text:
                if raw.strip():
                    first_line = raw
                    break
        counts = {d: first_line.count(d) for d in DELIMITERS}
        self.delimiter = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
        for _line, row in self._reader(problems=None):
            self.header = row
            break

    def _text(self) -> io.TextIOWrapper:
        return io.TextIOWrapper(self.open_binary(), encoding=self.encoding, newline="")

    def _reader(self, problems: Collector | None) -> Iterator[tuple[int, list[str]]]:
        with self._text() as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if problems is not None:
                        problems.add(UNREADABLE, f"Zeile nicht lesbar ({exc})", reader.line_num)
                    return
                if any(cell.strip() for cell in row):
                    yield reader.line_num, row

    def rows(self, problems: Collector | None = None) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of every non-empty row after the header, streamed."""
        rows = self._reader(problems)
        next(rows, None)  # the header
        yield from rows


def map_columns(csv_file: CsvFile, columns: Iterable[Column], expected: str) -> dict[str, int]:
    """Column name -> index in the file; ImportFailed (import.E002) naming every missing required column."""
    found: dict[str, int] = {}
    columns = list(columns)
    for i, key in enumerate(header_key(h) for h in csv_file.header):
        for column in columns:
            if column.accepts(key) and column.name not in found:
                found[column.name] = i
                break
    missing = [c for c in columns if c.required and c.name not in found]
    if missing:
        names = ", ".join(c.label for c in missing)
        got = ";".join(h.strip().strip("\ufeff") for h in csv_file.header) or "(leer)"
        problems = [Problem(MISSING_COLUMN, f"Kopfzeile unvollständig, es fehlt {names}",
                            Source(csv_file.file_name, 1, c.label)) for c in missing]
        raise ImportFailed(csv_file.file_name, problems, heading=(
            f"{csv_file.file_name}, Zeile 1: Kopfzeile unvollständig, es fehlt {names}. "
            f"Erwartet: {expected} – gefunden: {got}. Nichts importiert."), listed=False)
    return found


def parse_rows(csv_file: CsvFile, columns: Iterable[Column], index: dict[str, int], problems: Collector,
               progress: ProgressFn | None = None, phase: str = "geprüft",
               check: Callable[[dict, dict], list[tuple[str, str]]] | None = None,
               ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, values) for every row whose cells all parse; a cell that does not is a problem with its
    line and column. Missing optional columns read as empty cells. ``check(values, texts)`` adds what
    one cell cannot say alone, as (column name, message); a row's problems are listed in column order."""
    columns = [c for c in columns if c.name in index or not c.required]
    order = {c.name: i for i, c in enumerate(columns)}
    labels = {c.name: c.label for c in columns}
    ticker = Ticker(progress, phase, max(csv_file.lines - 1, 1))  # without the header
    for line, cells in csv_file.rows(problems):
        ticker.tick(line - 1)
        values: dict[str, Any] = {}
        texts: dict[str, str] = {}
        found: list[tuple[str, str, str]] = []
        for column in columns:
            i = index.get(column.name)
            text = texts[column.name] = cells[i].strip() if i is not None and i < len(cells) else ""
            try:
                values[column.name] = column.parse(text)
            except Invalid as exc:
                found.append((column.name, exc.id, exc.message))
        if check is not None:
            found += [(name, INVALID_VALUE, message) for name, message in check(values, texts)]
        if found:
            for name, id_, message in sorted(found, key=lambda f: order[f[0]]):
                problems.add(id_, message, line, labels[name])
            continue
        yield line, values
    ticker.done()


# -- progress --------------------------------------------------------------------------------------------

class Ticker:
    """Calls ``progress`` at most every 0.5 s (and at the end), not for every row."""

    def __init__(self, progress: ProgressFn | None, phase: str, total: int):
        self.progress, self.phase, self.total, self.last, self.count = progress, phase, total, 0.0, 0

    def tick(self, done: int) -> None:
        self.count = done
        if self.progress is not None and (now := time.monotonic()) - self.last >= 0.5:
            self.last = now
            self.progress(self.phase, min(done, self.total), self.total)

    def done(self) -> None:
        if self.progress is not None:  # the true count at the end (the total counted line breaks)
            self.progress(self.phase, self.count, self.count)


def german_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def progress_text(phase: str, done: int, total: int) -> str:
    return f"… {german_number(done)} von {german_number(total)} Zeilen {phase}"


def terminal_progress(stream=None, interval: float = 5.0) -> ProgressFn | None:
    """A bar on a terminal (stderr); plain lines every ``interval`` seconds when stderr is a file or pipe;
    nothing in CI (``CI`` set), where logs need no ticking."""
    import os
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    if not tty and os.environ.get("CI"):
        return None
    last: dict[str, float | None] = {"at": None}  # the first call always shows

    def show(phase: str, done: int, total: int) -> None:
        if tty:
            width = 30
            filled = int(width * done / total) if total else width
            end = "\n" if done >= total else ""
            stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {progress_text(phase, done, total)}{end}")
            stream.flush()
        elif last["at"] is None or (now := time.monotonic()) - last["at"] >= interval or done >= total:
            now = time.monotonic()
            last["at"] = now
            stream.write(progress_text(phase, done, total) + "\n")
            stream.flush()
    return show


# -- writing ---------------------------------------------------------------------------------------------

def batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(session: Session, table: Table, rows: list[dict], returning: bool = True) -> list[int]:
    """One executemany of ``rows`` into ``table``; the new ids in the rows' order.

    PostgreSQL: the ids are drawn from the table's own sequence first (one ``nextval`` query for the batch),
    then the rows go through ``COPY … FROM STDIN`` in the same transaction. The sequence stays ahead of every
    id, so nothing needs resetting, and concurrent writers draw their own ids. (Measured on 10,000 rows:
    RETURNING in parameter order renders one statement of thousands of parameters that psycopg re-parses
    per batch, 5 times slower; a plain executemany sends a statement per row, about 3 times slower.)
    SQLite would fall back to one statement per row for ordered RETURNING; a writing SQLite transaction is
    the only writer and each row gets the next rowid (max + 1), so the new ids are those above the old
    maximum (checked).
    """
    if not rows:
        return []
    if not returning:
        copy_rows(session, table, rows)
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                                         "FROM generate_series(1, :n)"), {"table": table.name, "n": len(rows)}))
        for row, new_id in zip(rows, ids):
            row["id"] = new_id
        copy_rows(session, table, rows)
        return ids
    if session.get_bind().dialect.name != "sqlite":
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return [row[0] for row in result]
    copy_rows(session, table, rows[:1])  # takes the write lock before the maximum is read
    first = session.scalar(select(func.max(table.c.id)))
    copy_rows(session, table, rows[1:]) if len(rows) > 1 else None
    ids = list(session.scalars(select(table.c.id).where(table.c.id >= first).order_by(table.c.id)))
    if len(ids) != len(rows) or ids[-1] - ids[0] != len(rows) - 1:
        raise RuntimeError(f"{table.name}: new ids not consecutive ({len(ids)} for {len(rows)} rows)")
    return ids




def record_values(entity, values: dict, actor: str, now) -> dict:
    """A new record's row as the ORM flush would write it: the audit columns and the derived search
    columns (lower-cased twins, phonetic codes) of ``app/services/history.py``."""
    view = SimpleNamespace(**values)
    derive_columns(view, entity)
    row = vars(view)
    row.update(audit_values(actor, now))
    return row


def created_log(session: Session, entity_name: str, ids: Iterable[int], actor: str, now) -> None:
    """The change log's "create" line for each new record, as the history listener writes it."""
    rows = [change_row(entity_name, record_id, "create", actor, now) for record_id in ids]
    for batch in batches(rows):
        insert_rows(session, ChangeLog.__table__, batch, returning=False)
