"""The standardised survey form (Erhebungsbogen, Zielvereinbarung Maßnahme 1) as XLSX and CSV, and its merge.

A form holds, per district, QS 1.1–1.5 with numerator, denominator, percent and pending, the indicator
text of the agreement and the seven access standards. Besides the sheets people read, every workbook
carries a hidden sheet ``_daten`` with one row per district and indicator; ``read_form`` reads only that
sheet, so a form stays machine-readable whatever its layout looks like.

Merging district forms into the Berlin-wide figures (``merge``) adds numerators and denominators;
percentages are recomputed from the sums and never averaged (1 of 1 and 1 of 4 give 2 of 5 = 40 %).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ..domain.dates import parse_date
from ..domain.indicator_texts import INDICATOR_TEXTS
from ..domain.money import format_decimal
from ..domain.indicators import ACCESS_STANDARDS, INDICATORS, Report, percent
from ..domain.periods import Period, describe
from ..problems import Problem, Problems, Source

DATA_SHEET = "_daten"
MARKER = "fachstelle-erhebungsbogen"
VERSION = 1
DATA_HEADER = ("org_unit", "code", "numerator", "denominator", "pending", "period_from", "period_to", "as_of")
TOTAL_LABEL = "Gesamt"


@dataclass(frozen=True)
class Where:
    """A place in a survey file: the file, or a row of the data sheet, or an entry of a JSON report."""

    file: Path | str
    line: int | None = None  # row of the data sheet
    entry: str | None = None  # JSON: "<org unit> <indicator>"

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}, Blatt „{DATA_SHEET}“, Zeile {self.line}"
        return f"{self.file}, {self.entry}" if self.entry else str(self.file)

    @property
    def source(self) -> Source:
        return Source(str(self.file), self.line, path=self.entry)


class FormError(Problems):
    """A file is not a readable survey form, or forms do not fit together.

    The text names the file (sheet and row) in German as the CLI prints it; ``problems`` holds the one
    ``Problem`` (id ``survey.E…``, source with file and row) for callers that collect them."""

    def __init__(self, id: str, message: str, where: Where | None = None, source: Source | None = None):
        Exception.__init__(self, f"{where}: {message}" if where else message)
        self.problems = [Problem(id, message, where.source if where else source)]
        self.heading = "Der Erhebungsbogen enthält Fehler:"

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Figures:
    numerator: int
    denominator: int
    pending: int = 0

    @property
    def percent(self):
        return percent(self.numerator, self.denominator)

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.numerator + other.numerator, self.denominator + other.denominator,
                       self.pending + other.pending)

    def to_json(self) -> dict:
        value = self.percent
        return {"numerator": self.numerator, "denominator": self.denominator,
                "percent": None if value is None else float(value), "pending": self.pending}


@dataclass(frozen=True)
class Survey:
    """Counts per district and indicator for one period; the total is always the sum over districts."""

    period: Period
    as_of: date
    org_units: dict[str, dict[str, Figures]]
    # QS 1.5 details, when known: district -> standard code -> (fulfilled, date of the counting confirmation)
    standards: dict[str, dict[str, tuple[bool, date | None]]] | None = None

    @property
    def total(self) -> dict[str, Figures]:
        total = {code: Figures(0, 0) for code in INDICATORS}
        for figures in self.org_units.values():
            for code in INDICATORS:
                total[code] = total[code] + figures[code]
        return total

    def to_json(self) -> dict:
        """The shape of ``Report.to_json``: period, as_of, org_units, total."""
        return {"period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
                "as_of": self.as_of.isoformat(),
                "org_units": {unit: {code: f.to_json() for code, f in figures.items()}
                              for unit, figures in self.org_units.items()},
                "total": {code: f.to_json() for code, f in self.total.items()}}


def survey_of(report: Report) -> Survey:
    units = {unit: {code: Figures(r.numerator, r.denominator, r.pending_count) for code, r in results.items()}
             for unit, results in report.org_units.items()}
    standards = {unit: {**{ref.standard: (True, ref.confirmed_on) for ref in results["1.5"].met},
                        **{ref.standard: (False, ref.confirmed_on) for ref in results["1.5"].not_met}}
                 for unit, results in report.org_units.items()}
    return Survey(Period(report.period_from, report.period_to), report.as_of, units, standards)


# --- text formats ---------------------------------------------------------------------------------

def percent_text(value) -> str:
    """German: 87,5 (one decimal) or "–" where there is no denominator."""
    return "–" if value is None else format_decimal(value, 1)


def write_json(survey: Survey) -> str:
    return json.dumps(survey.to_json(), ensure_ascii=False, indent=2) + "\n"


CSV_HEADER = ("Dienststelle", "QS", "Qualitätsstandard", "Zähler", "Nenner", "Anteil (%)", "offen",
              "Zeitraum von", "Zeitraum bis", "Stichtag")


def write_csv(survey: Survey) -> str:
    """Semicolon-separated (German spreadsheets), one row per district and indicator, then the total."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    dates = (f"{survey.period.start:%d.%m.%Y}", f"{survey.period.end:%d.%m.%Y}", f"{survey.as_of:%d.%m.%Y}")
    for unit, figures in [*survey.org_units.items(), (TOTAL_LABEL, survey.total)]:
        for code in INDICATORS:
            f = figures[code]
            writer.writerow((unit, code, INDICATOR_TEXTS[code].title, f.numerator, f.denominator,
                             percent_text(f.percent), f.pending, *dates))
    return out.getvalue()


# --- XLSX -------------------------------------------------------------------------------------------

def _sheet_title(name: str, taken: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "-", name)[:31]
    base, n = title, 2
    while title in taken or title == DATA_SHEET:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def write_xlsx(survey: Survey, target, created: datetime, title_total: str = TOTAL_LABEL) -> None:
    """One form sheet per district (and the total when there are several) plus the hidden data sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    sheets = list(survey.org_units.items())
    if len(sheets) != 1:
        sheets.append((title_total, survey.total))
    bold, head = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    wrap = Alignment(wrap_text=True, vertical="top")
    for unit, figures in sheets:
        ws = wb.create_sheet(_sheet_title(unit, taken))
        ws["A1"] = "Erhebungsbogen Qualitätsstandards Prävention"
        ws["A1"].font = Font(bold=True, size=14)
        ws["A2"] = "Zielvereinbarung Soziale Wohnhilfen, Maßnahme 1 (Ist-Erhebung in den Bezirken)"
        header = (("Bezirk / Dienststelle", unit), ("Berichtszeitraum", describe(survey.period)),
                  ("Zeitraum von", survey.period.start), ("Zeitraum bis", survey.period.end),
                  ("Stichtag", survey.as_of), ("erstellt am", created.strftime("%d.%m.%Y %H:%M")))
        for i, (label, value) in enumerate(header, start=4):
            ws.cell(i, 1, label).font = bold
            cell = ws.cell(i, 2, value)
            if isinstance(value, date):
                cell.number_format = "DD.MM.YYYY"
                cell.alignment = Alignment(horizontal="left")
        row = 11
        for col, label in enumerate(("QS", "Qualitätsstandard", "Indikator", "Zähler", "Nenner", "Anteil",
                                     "offen", "Nenner: Grundgesamtheit"), start=1):
            cell = ws.cell(row, col, label)
            cell.font, cell.fill = bold, head
        for code in INDICATORS:
            row += 1
            f, text = figures[code], INDICATOR_TEXTS[code]
            ws.cell(row, 1, code)
            ws.cell(row, 2, text.title).alignment = wrap
            ws.cell(row, 3, text.indicator).alignment = wrap
            ws.cell(row, 4, f.numerator)
            ws.cell(row, 5, f.denominator)
            share = f.percent
            cell = ws.cell(row, 6, "–" if share is None else float(share) / 100)
            cell.number_format = "0.0%"
            cell.alignment = Alignment(horizontal="right")
            ws.cell(row, 7, f.pending if code != "1.5" else None)
            ws.cell(row, 8, text.denominator).alignment = wrap
        row += 2
        ws.cell(row, 1, "Offen: Frist läuft am Stichtag noch; zählt weder im Zähler noch im Nenner. "
                        "Anteil = Zähler / Nenner; „–“: Nenner 0. Summen über Bezirke addieren Zähler und Nenner.")
        states = (survey.standards or {}).get(unit)
        if states:
            row += 2
            ws.cell(row, 1, "QS 1.5 – die sieben Standards des einheitlichen Zugangs").font = bold
            row += 1
            for col, label in enumerate(("Nr.", "Standard", "erfüllt", "zuletzt bestätigt am"), start=1):
                cell = ws.cell(row, col, label)
                cell.font, cell.fill = bold, head
            for n, (standard, label) in enumerate(ACCESS_STANDARDS.items(), start=1):
                row += 1
                fulfilled, confirmed_on = states.get(standard, (False, None))
                ws.cell(row, 1, n)
                ws.cell(row, 2, label)
                ws.cell(row, 3, "ja" if fulfilled else "nein")
                if confirmed_on is not None:
                    ws.cell(row, 4, confirmed_on).number_format = "DD.MM.YYYY"
                else:
                    ws.cell(row, 4, "nie bestätigt")
        for col, width in zip("ABCDEFGH", (22, 34, 60, 9, 9, 9, 8, 40)):
            ws.column_dimensions[col].width = width
    data = wb.create_sheet(DATA_SHEET)
    data.append((MARKER, VERSION))
    data.append(DATA_HEADER)
    for unit, figures in survey.org_units.items():
        for code in INDICATORS:
            f = figures[code]
            data.append((unit, code, f.numerator, f.denominator, f.pending, survey.period.start.isoformat(),
                         survey.period.end.isoformat(), survey.as_of.isoformat()))
    data.sheet_state = "hidden"
    wb.save(target)


# --- reading and merging ----------------------------------------------------------------------------

def read_form(path: Path) -> Survey:
    """A survey from an XLSX form (its hidden data sheet) or from the JSON of ``fachstelle indicators``."""
    if not path.is_file():
        raise FormError("survey.E001", f"Datei nicht gefunden: {path}", source=Source(str(path)))
    if path.suffix.lower() == ".json":
        return _read_json(path)
    try:
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a file that is no workbook
        raise FormError("survey.E002", "keine lesbare XLSX-Datei (erwartet: Erhebungsbogen der Fachstelle).",
                        Where(path)) from None
    try:
        if DATA_SHEET not in wb.sheetnames:
            raise FormError("survey.E003", f"kein Erhebungsbogen der Fachstelle (Blatt „{DATA_SHEET}“ fehlt).",
                            Where(path))
        rows = list(wb[DATA_SHEET].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows or not rows[0] or rows[0][0] != MARKER:
        raise FormError("survey.E003", f"kein Erhebungsbogen der Fachstelle (Kennung in „{DATA_SHEET}“ A1 fehlt).",
                        Where(path))
    if len(rows) < 2 or tuple(rows[1][:len(DATA_HEADER)]) != DATA_HEADER:
        raise FormError("survey.E004", "Spaltenköpfe fehlen oder sind verändert.", Where(path, 2))
    records = []
    for line, row in enumerate(rows[2:], start=3):
        if not row or all(v is None for v in row):
            continue
        records.append((Where(path, line), dict(zip(DATA_HEADER, row))))
    return _survey(path, records)


def _read_json(path: Path) -> Survey:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        period, as_of = data["period"], data["as_of"]
        records = [(Where(path, entry=f"{unit} {code}"), {"org_unit": unit, "code": code, **values,
                                               "period_from": period["from"], "period_to": period["to"],
                                               "as_of": as_of})
                   for unit, results in data["org_units"].items() for code, values in results.items()]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise FormError("survey.E005", "kein Bericht von „fachstelle indicators --format json“.",
                        Where(path)) from None
    return _survey(path, records)


def _count(where: Where, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise FormError("survey.E006", f"{name} ist keine ganze Zahl ≥ 0 („{value}“).", where)
    return int(value)


def _date(where: Where, value) -> date:
    if isinstance(value, datetime):
        return value.date()
    try:
        return parse_date(str(value).strip(), two_digit_years=False)
    except ValueError:
        raise FormError("survey.E007", f"„{value}“ ist kein Datum (JJJJ-MM-TT).", where) from None


def _survey(path: Path, records: list[tuple[Where, dict]]) -> Survey:
    units: dict[str, dict[str, Figures]] = {}
    period = as_of = None
    for where, r in records:
        unit, code = r.get("org_unit"), r.get("code")
        if not isinstance(unit, str) or not unit.strip():
            raise FormError("survey.E008", "Dienststelle fehlt.", where)
        if code not in INDICATORS:
            raise FormError("survey.E009", f"„{code}“ ist keine Kennzahl (erwartet: {', '.join(INDICATORS)}).",
                            where)
        f = Figures(_count(where, "Zähler", r.get("numerator")), _count(where, "Nenner", r.get("denominator")),
                    _count(where, "offen", r.get("pending") or 0))
        if f.numerator > f.denominator:
            raise FormError("survey.E010", f"Zähler {f.numerator} ist größer als Nenner {f.denominator}.", where)
        this = Period(_date(where, r.get("period_from")), _date(where, r.get("period_to")))
        seen = _date(where, r.get("as_of"))
        if period is None:
            period, as_of = this, seen
        elif (this, seen) != (period, as_of):
            raise FormError("survey.E011", "Zeitraum oder Stichtag weicht von den übrigen Zeilen ab.", where)
        if code in units.setdefault(unit, {}):
            raise FormError("survey.E012", f"{unit}, QS {code} steht doppelt in der Datei.", where)
        units[unit][code] = f
    if period is None:
        raise FormError("survey.E013", "der Erhebungsbogen enthält keine Zahlen.", Where(path))
    for unit, figures in units.items():
        missing = [code for code in INDICATORS if code not in figures]
        if missing:
            raise FormError("survey.E014", f"für „{unit}“ fehlt QS {', '.join(missing)}.", Where(path))
    return Survey(period, as_of, units)


def merge(forms: list[tuple[Path, Survey]]) -> Survey:
    """District forms -> one survey: same period required, each district once; as of the latest date."""
    if not forms:
        raise FormError("survey.E015", "Keine Erhebungsbögen angegeben.")
    first_path, first = forms[0]
    units: dict[str, dict[str, Figures]] = {}
    origin: dict[str, Path] = {}
    for path, survey in forms:
        if survey.period != first.period:
            raise FormError("survey.E016", f"Zeitraum {describe(survey.period)} passt nicht zu {first_path} "
                                           f"({describe(first.period)}).", Where(path))
        for unit, figures in survey.org_units.items():
            if unit in units:
                raise FormError("survey.E017", f"„{unit}“ steht schon in {origin[unit]} – "
                                                "jeder Bezirk zählt nur einmal.", Where(path))
            units[unit], origin[unit] = figures, path
    return Survey(first.period, max(s.as_of for _, s in forms), units)
