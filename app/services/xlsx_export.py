"""The one XLSX writer of the app (#14 "Excel everywhere"): every list, report and research export uses it.

Use it like this (a service or a page builds the columns and an iterator of rows, nothing more)::

    from app.services.xlsx_export import XlsxColumn, write_xlsx, xlsx_file, column_for_field, record_export

    columns = [XlsxColumn("Aktenzeichen", "text", 14), XlsxColumn("Eingang", "date"),
               XlsxColumn("Forderung", "money"), XlsxColumn("Haushaltsgröße", "int")]
    rows = ((c.number, c.received_on, c.amount, c.size) for c in cases)   # any iterable, read once
    handle = xlsx_file(columns, rows, sheet="Fallakten", title=None)       # an open temp file, rewound
    # web: app.web.xlsx.xlsx_response(...) sends it and records the export in the history.

What the writer guarantees (each one checked by ``tests/integration/test_xlsx_export.py`` reading the file
back with openpyxl):

- XlsxWriter in ``constant_memory`` mode writing to a temporary *file* (``in_memory`` would silently switch
  constant_memory off), so 100,000 rows need a few MB, not hundreds; the caller streams the file.
- Real values: dates as Excel dates shown ``DD.MM.YYYY`` (TT.MM.JJJJ in German Excel), date-times in Berlin
  wall-clock time ``DD.MM.YYYY hh:mm``, numbers as numbers with ``#,##0.00`` (German Excel shows 1.234,56),
  integers ``#,##0``, percentages ``0.0 %``, booleans as "ja"/"nein". The format codes are the US notation
  XLSX stores; Excel shows them in the reader's locale (research note §3).
- ``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers`` off: a name typed as "=HYPERLINK(…)"
  or "+49 30 …" stays text (no formula injection, no phone number turned into a number).
- Header row with the YAML labels in bold, frozen (``freeze_panes(1, 0)``), an autofilter over all columns,
  column widths from the field metadata (``XlsxColumn.width``; ``autofit`` does not work in constant_memory).
- A sheet holds at most 1,048,575 data rows; more rows go on further sheets ("Fallakten (2)") with the same
  header, nothing is dropped.

Values the writer accepts per column type: ``text`` anything (str() of it; a CatalogueValue its label),
``int`` int, ``decimal``/``money``/``percent`` Decimal/int/float (``percent`` as a fraction 0.25 = 25 %),
``date`` date, ``datetime`` aware or naive (naive is taken as Berlin time) datetime, ``bool`` bool. None
writes an empty cell. A value of the wrong type is written as text rather than failing the export.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..metamodel.kinds import is_kind

BERLIN = ZoneInfo("Europe/Berlin")
MAX_ROWS_PER_SHEET = 1_048_575  # Excel's limit minus the header row
EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # serial day 0 of Excel's 1900 date system (with its leap-year quirk)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMN_TYPES = ("text", "int", "decimal", "money", "percent", "date", "datetime", "bool")
NUMBER_FORMATS = {
    "int": "#,##0",
    "decimal": "#,##0.00",
    "money": "#,##0.00",
    "percent": "0.0 %",
    "date": "DD.MM.YYYY",
    "datetime": "DD.MM.YYYY hh:mm",
}
DEFAULT_WIDTHS = {"text": 24, "int": 10, "decimal": 14, "money": 14, "percent": 10, "date": 12,
                  "datetime": 17, "bool": 8}
# Field kinds of the YAML metamodel and the column type their values are written as.
KIND_COLUMN_TYPES = {"integer": "int", "decimal": "decimal", "money": "money", "percent": "decimal",
                     "date": "date", "datetime": "datetime", "boolean": "bool"}


@dataclass(frozen=True)
class XlsxColumn:
    """One column: header text (the YAML label), value type (``COLUMN_TYPES``), width in characters."""

    label: str
    type: str = "text"
    width: float | None = None
    places: int = 2  # decimals shown for decimal/money

    def __post_init__(self):
        column_type = self.type  # the sheet's value type (COLUMN_TYPES), not a YAML field kind
        if column_type not in COLUMN_TYPES:
            raise ValueError(f"unknown XLSX column type {self.type!r} (allowed: {', '.join(COLUMN_TYPES)})")

    @property
    def shown_width(self) -> float:
        width = self.width or DEFAULT_WIDTHS[self.type]
        return max(width, min(len(self.label) + 2, 40))  # the header stays readable behind the filter arrow


def column_for_field(field, label: str | None = None) -> XlsxColumn:
    """The column of a YAML field (``FieldSpec``): its label, the type its kind stores, a width from its length."""
    kind = KIND_COLUMN_TYPES.get(field.type, "text")
    width = None
    if kind == "text":
        length = field.length or (60 if is_kind(field, "text") else 30)
        width = max(10, min(length, 50))
    return XlsxColumn(label or field.label, kind, width)


def _label_of(value) -> str:
    label = getattr(value, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(_label_of(v) for v in value))
    return str(value)


@dataclass
class XlsxSheet:
    """One sheet of a workbook with several (``write_sheets``): a title and a subtitle line above the header,
    notes below the rows."""

    name: str
    columns: Sequence[XlsxColumn]
    rows: Iterable[Sequence]
    title: str | None = None
    subtitle: str | None = None
    notes: Sequence[str] = ()


class _Writer:
    def __init__(self, workbook, columns: Sequence[XlsxColumn], sheet: str, title: str | None,
                 subtitle: str | None = None, styles: dict | None = None):
        self.workbook, self.columns, self.base_name, self.title = workbook, list(columns), sheet[:28], title
        self.subtitle = subtitle
        self.header = workbook.add_format({"bold": True, "bg_color": "#E8EEF4", "text_wrap": True,
                                           "valign": "top", "border": 1})
        self.title_format = workbook.add_format({"bold": True, "font_size": 12})
        self.formats = {}
        for column in self.columns:
            column_type = column.type  # the sheet's value type, not a YAML field kind
            code = NUMBER_FORMATS.get(column_type)
            if column_type in ("decimal", "money") and column.places != 2:
                code = "#,##0" + ("." + "0" * column.places if column.places else "")
            self.formats[column] = workbook.add_format({"num_format": code}) if code else None
        self.kinds = [(column.type, self.formats[column]) for column in self.columns]
        self.plan = [(index, kind, fmt) for index, (kind, fmt) in enumerate(self.kinds)]
        self.sheets = 0
        self.sheet = None
        self.row = 0
        self.first_data_row = 0

    def new_sheet(self) -> None:
        self._close_sheet()
        self.sheets += 1
        name = self.base_name if self.sheets == 1 else f"{self.base_name[:24]} ({self.sheets})"
        self.sheet = self.workbook.add_worksheet(name)
        self.put_string = getattr(self.sheet, "_write_string", self.sheet.write_string)
        self.put_number = getattr(self.sheet, "_write_number", self.sheet.write_number)
        for index, column in enumerate(self.columns):
            self.sheet.set_column(index, index, column.shown_width)
        self.row = 0
        if self.title and self.sheets == 1:
            self.sheet.write_string(0, 0, self.title, self.title_format)
            self.row = 2
            if self.subtitle:
                self.sheet.write_string(1, 0, self.subtitle)
                self.row = 3
        self.header_row = self.row
        for index, column in enumerate(self.columns):
            self.sheet.write_string(self.row, index, column.label, self.header)
        self.sheet.freeze_panes(self.row + 1, 0)
        self.row += 1
        self.first_data_row = self.row

    def _close_sheet(self) -> None:
        if self.sheet is not None and self.columns:
            self.sheet.autofilter(self.header_row, 0, max(self.row - 1, self.header_row), len(self.columns) - 1)

    def write_row(self, values: Sequence) -> None:
        if self.row > MAX_ROWS_PER_SHEET:  # the sheet's last row (0-based 1,048,575) is used
            self.new_sheet()
        # XlsxWriter's public write_string/write_number go through a decorator that accepts "A1" notation
        # and re-checks the arguments for every cell; with row and column numbers already in hand, the
        # methods behind it (same checks of the limits, same XML) save a fifth of the export's time.
        row = self.row
        put_string, put_number = self.put_string, self.put_number
        width = len(values)
        for index, kind, fmt in self.plan:
            value = values[index] if index < width else None
            if value is None:
                continue
            cls = value.__class__
            if kind == "text":
                if cls is str:
                    if value:
                        put_string(row, index, value)
                else:
                    put_string(row, index, _label_of(value))
            elif cls is Decimal or cls is int or cls is float:
                if kind == "date" or kind == "datetime" or kind == "bool":
                    self._write_other(row, index, kind, fmt, value)
                else:
                    put_number(row, index, float(value), fmt)
            elif value == "":
                continue
            else:
                self._write_other(row, index, kind, fmt, value)
        self.row += 1

    def _write_other(self, row: int, index: int, kind: str, fmt, value) -> None:
        put_string, put_number = self.put_string, self.put_number
        if kind == "bool":
            put_string(row, index, ("ja" if value else "nein") if isinstance(value, bool) else str(value))
        elif kind == "date" and isinstance(value, date):
            if isinstance(value, datetime):
                value = (value.astimezone(BERLIN) if value.tzinfo else value).date()
            put_number(row, index, value.toordinal() - EXCEL_EPOCH, fmt)  # the Excel serial day
        elif kind == "datetime" and isinstance(value, date):
            if isinstance(value, datetime):
                moment = value.astimezone(BERLIN).replace(tzinfo=None) if value.tzinfo else value
                serial = moment.toordinal() - EXCEL_EPOCH + (moment.hour * 3600 + moment.minute * 60
                                                             + moment.second) / 86400
            else:
                serial = value.toordinal() - EXCEL_EPOCH
            put_number(row, index, serial, fmt)
        elif kind != "text" and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            put_number(row, index, float(value), fmt)
        else:
            put_string(row, index, _label_of(value))


def write_xlsx(target: str | os.PathLike, columns: Sequence[XlsxColumn], rows: Iterable[Sequence], *,
               sheet: str = "Daten", title: str | None = None,
               progress: Callable[[int], None] | None = None, progress_every: int = 5000) -> int:
    """Write ``rows`` under ``columns`` to the file ``target``; returns the number of data rows written.

    ``title`` (optional) goes above the header (e.g. "Fallakten, Stand 06.12.2026, Filter: …").
    ``progress(n)`` is called every ``progress_every`` rows and at the end (for a progress indicator).
    """
    return write_sheets(target, [XlsxSheet(sheet, columns, rows, title)], progress=progress,
                        progress_every=progress_every)


def write_sheets(target, sheets: Sequence[XlsxSheet], *, progress: Callable[[int], None] | None = None,
                 progress_every: int = 5000) -> int:
    """Several sheets in one workbook (a report: "Wohnraumerhalt", "Leistungen je Produkt", …), each with
    the guarantees of the module docstring. ``target``: a path, or a binary file object (written through a
    temporary file, so constant_memory stays on). Returns the number of data rows of all sheets."""
    import xlsxwriter
    if hasattr(target, "write"):
        handle, count = xlsx_sheets_file(sheets, progress=progress, progress_every=progress_every)
        with handle:
            target.write(handle.read())
        return count
    workbook = xlsxwriter.Workbook(os.fspath(target), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "default_date_format": "DD.MM.YYYY"})
    count = 0
    try:
        for sheet in sheets:
            writer = _Writer(workbook, sheet.columns, sheet.name, sheet.title, sheet.subtitle)
            writer.new_sheet()
            for values in sheet.rows:
                writer.write_row(values)
                count += 1
                if progress is not None and count % progress_every == 0:
                    progress(count)
            writer._close_sheet()
            if sheet.notes:
                writer.row += 1
                for note in sheet.notes:
                    writer.sheet.write_string(writer.row, 0, note)
                    writer.row += 1
    finally:
        workbook.close()
    if progress is not None:
        progress(count)
    return count


def xlsx_sheets_file(sheets: Sequence[XlsxSheet], **options):
    """``write_sheets`` into a temporary file, returned opened for reading (see ``xlsx_file``)."""
    handle, path = tempfile.mkstemp(prefix="fachstelle-export-", suffix=".xlsx")
    os.close(handle)
    try:
        count = write_sheets(path, sheets, **options)
        stream = open(path, "rb")  # noqa: SIM115 - handed to the caller, who streams and closes it
    finally:
        os.unlink(path)
    return stream, count


def xlsx_file(columns: Sequence[XlsxColumn], rows: Iterable[Sequence], **options):
    """Write into a temporary file and return it opened for reading (rewound), plus the row count.

    The file has no name on disk any more once returned (POSIX: unlinked while open), so nothing is left
    behind; the caller streams it (``send_file``) and closing it frees the space."""
    handle, path = tempfile.mkstemp(prefix="fachstelle-export-", suffix=".xlsx")
    os.close(handle)
    try:
        count = write_xlsx(path, columns, rows, **options)
        stream = open(path, "rb")  # noqa: SIM115 - handed to the caller, who streams and closes it
    finally:
        os.unlink(path)
    return stream, count


def record_export(session, actor_name: str, what: str, detail: str, rows: int | None, now: datetime) -> None:
    """Note an export in the history (Änderungsverlauf): who exported what (list, filters), how many rows, when.

    A row of ``change_log`` with ``entity="export"``, ``action="export"``, ``field`` = what was exported and
    ``new_value`` = the filters and the row count. The caller commits."""
    from sqlalchemy import insert

    from ..core_models import ChangeLog
    from .history import change_row
    session.execute(insert(ChangeLog.__table__).values(
        **change_row("export", 0, "export", actor_name[:64], now, what[:64],
                     None, (f"{rows} Zeilen; {detail}" if rows is not None else detail)[:4000])))


def export_history(session, limit: int = 100) -> list:
    """The latest exports, newest first (ChangeLog rows)."""
    from sqlalchemy import select

    from ..core_models import ChangeLog
    return list(session.scalars(select(ChangeLog).where(ChangeLog.entity == "export")
                                .order_by(ChangeLog.changed_at.desc(), ChangeLog.id.desc()).limit(limit)))
