"""Files of the official housing statistics (#14): NRW form as JSON and as XLSX in the printed form's layout,
federal records as semicolon CSV (UTF-8) and XLSX; and the reader of the NRW XLSX (round trip, comparison).

The XLSX of the NRW form follows the kommunal questionnaire "Berichterstattung über Wohnungslose, die kommunal
und ordnungsrechtlich untergebracht sind" (IT.NRW, formerly LDS): a label column and the two columns
"insgesamt" / "davon weiblich"; the sub-rows "davon Alleinstehende in eigenem Haushalt" under the three age
groups below 25.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from ..domain import housing_stats as hs
from ..domain.housing_stats_form import (ALLEIN_LABEL, GROESSE_LABELS, NAT_LABELS, STRUKTUR_LABELS,  # noqa: F401
                                         ALTER_LABELS, form_rows, value_at)

FORM_TITLE = "Berichterstattung über Wohnungslose, die kommunal und ordnungsrechtlich untergebracht sind"


def _set_at(report: dict, path: str, value: int) -> None:
    *head, last = path.split(".")
    node = report
    for part in head:
        node = node.setdefault(part, {})
    node[last] = value


def write_nrw_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def _workbook(target):
    """An XlsxWriter workbook on a path or a binary file object (the app's one XLSX writer, as
    ``app.services.xlsx_export``: text stays text, no formulas or links guessed from it)."""
    import os

    import xlsxwriter
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
               "default_date_format": "DD.MM.YYYY"}
    if hasattr(target, "write"):
        return xlsxwriter.Workbook(target, {**options, "in_memory": True})
    return xlsxwriter.Workbook(os.fspath(target), options)


def write_nrw_xlsx(report: dict, target, created: datetime, body: str = "", version: int | None = None) -> None:
    """The kommunal form: title, Stichtag, Berichtsstelle and creation on rows 1–6, the header on row 8, one row
    per line of the printed form ("davon" rows indented, no "weiblich" cell greyed), the plausibility notes
    below. Written with XlsxWriter; ``read_nrw_xlsx`` (openpyxl) reads it back."""
    wb = _workbook(target)
    try:
        ws = wb.add_worksheet("Kommunal 30.06.")
        bold = wb.add_format({"bold": True})
        title = wb.add_format({"bold": True, "font_size": 13})
        day = wb.add_format({"num_format": "DD.MM.YYYY", "align": "left"})
        boxed = {"border": 1, "border_color": "#999999"}
        head = wb.add_format({**boxed, "bold": True, "bg_color": "#DDDDDD"})
        label = wb.add_format(boxed)
        sub = wb.add_format({**boxed, "indent": 2})
        number = wb.add_format(boxed)
        empty = wb.add_format({**boxed, "bg_color": "#EEEEEE"})
        note = wb.add_format({"text_wrap": True, "valign": "top"})
        ws.write_string(0, 0, FORM_TITLE, title)
        ws.write_string(1, 0, "Integrierte Wohnungsnotfall-Berichterstattung NRW (IT.NRW) – kommunaler Teil")
        ws.write_string(3, 0, "Stichtag", bold)
        ws.write_datetime(3, 1, datetime.combine(date.fromisoformat(report["stichtag"]), datetime.min.time()), day)
        ws.write_string(4, 0, "Berichtsstelle", bold)
        ws.write_string(4, 1, body or "")
        ws.write_string(5, 0, "erstellt am", bold)
        ws.write_string(5, 1, created.strftime("%d.%m.%Y %H:%M") + (f" (Version {version})" if version else ""))
        row = 7
        for col, text in enumerate(("", "insgesamt", "davon weiblich")):
            ws.write_string(row, col, text, head)
        for kind, text, total, female in form_rows(report):
            row += 1
            if kind == "title":
                ws.write_string(row, 0, text, bold)
                continue
            ws.write_string(row, 0, text, sub if kind == "sub" else label)
            ws.write_number(row, 1, value_at(report, total), number)
            if female:
                ws.write_number(row, 2, value_at(report, female), number)
            else:
                ws.write_blank(row, 2, None, empty)
        row += 2
        ws.write_string(row, 0, "Hinweise der Plausibilitätsprüfung", bold)
        for text in report.get("warnungen") or ["keine"]:
            row += 1
            ws.merge_range(row, 0, row, 2, text, note)
            ws.set_row(row, 30)
        ws.set_column(0, 0, 62)
        ws.set_column(1, 1, 13)
        ws.set_column(2, 2, 15)
        ws.freeze_panes(8, 1)
    finally:
        wb.close()


class FormError(ValueError):
    """A file that is not an NRW form of this program; the message is German."""


def read_nrw_xlsx(path) -> dict:
    """Read the form back (the round trip and "compare with a submitted file" use it): the same dict as the JSON."""
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is no workbook
        raise FormError(f"{path}: keine lesbare XLSX-Datei ({exc.__class__.__name__}).") from exc
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    if not rows or rows[0][0] != FORM_TITLE:
        raise FormError(f"{path}: kein Erhebungsbogen „{FORM_TITLE}“.")
    stichtag = rows[3][1]
    stichtag = stichtag.date() if isinstance(stichtag, datetime) else stichtag
    report: dict = {"stichtag": stichtag.isoformat()}
    expected = [r for r in form_rows(_skeleton()) if r[0] != "title"]
    body = [r for r in rows[8:] if r and r[0] is not None and r[1] is not None]
    for (kind, label, total, female), got in zip(expected, body, strict=False):
        if got[0] != label:
            raise FormError(f"{path}: Zeile „{got[0]}“ erwartet „{label}“.")
        _set_at(report, total, int(got[1]))
        if female:
            _set_at(report, female, int(got[2]))
    report["haushalte"] = {"gesamt": report["haushalte"]["gesamt"], "struktur": report["haushalte"]["struktur"],
                           "groesse": report["haushalte"]["groesse"]}
    start = next((i for i, r in enumerate(rows) if r and r[0] == "Hinweise der Plausibilitätsprüfung"), None)
    notes = [r[0] for r in rows[start + 1:] if r and r[0]] if start is not None else []
    report["warnungen"] = [] if notes == ["keine"] else notes
    return report


def _skeleton() -> dict:
    return hs.nrw_report([], date(2000, 6, 30)).report


def write_bund_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(hs.BUND_COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in hs.BUND_COLUMNS])
    return buf.getvalue()


def write_bund_xlsx(rows: list[dict[str, str]], target, problems=()) -> None:
    """Sheet "Datensätze" with the CSV's columns as header (machine names, as the delivery needs them), real
    numbers for age and size, real dates (TT.MM.JJJJ); sheet "Plausibilität" with the German report.
    Written with XlsxWriter (the app's one XLSX writer)."""
    wb = _workbook(target)
    try:
        ws = wb.add_worksheet("Datensätze")
        bold = wb.add_format({"bold": True})
        day = wb.add_format({"num_format": "DD.MM.YYYY"})
        for col, name in enumerate(hs.BUND_COLUMNS):
            ws.write_string(0, col, name, bold)
        for r, record in enumerate(rows, start=1):
            for col, name in enumerate(hs.BUND_COLUMNS):
                v = record[name]
                if v == "" or v is None:
                    continue
                if name in ("stichtag", "beginn"):
                    ws.write_datetime(r, col, datetime.combine(date.fromisoformat(v), datetime.min.time()), day)
                elif name in ("alter", "haushaltsgroesse"):
                    ws.write_number(r, col, int(v))
                else:
                    ws.write_string(r, col, str(v))
        for col, width in enumerate((11, 10, 18, 18, 12, 6, 10, 30, 8, 8, 24, 16, 11)):
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(rows), len(hs.BUND_COLUMNS) - 1)
        notes = wb.add_worksheet("Plausibilität")
        notes.write_string(0, 0, "Plausibilitätsprüfung vor der Lieferung (nichts wurde entfernt)", bold)
        for i, p in enumerate(problems, start=1):
            notes.write_string(i, 0, p.text)
        if not problems:
            notes.write_string(1, 0, "keine Auffälligkeiten")
        notes.set_column(0, 0, 110)
    finally:
        wb.close()


def read_bund_xlsx(path) -> list[dict[str, str]]:
    """The records back as strings (as in the CSV): round trip and comparison."""
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb["Datensätze"]
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    out = []
    for r in rows:
        rec = {}
        for name, v in zip(header, r, strict=True):
            if isinstance(v, datetime):
                v = v.date().isoformat()
            rec[name] = "" if v is None else str(v)
        out.append(rec)
    return out
