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


def write_nrw_xlsx(report: dict, target, created: datetime, body: str = "", version: int | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "Kommunal 30.06."
    bold, head = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws["A1"] = FORM_TITLE
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = "Integrierte Wohnungsnotfall-Berichterstattung NRW (IT.NRW) – kommunaler Teil"
    ws["A4"], ws["B4"] = "Stichtag", date.fromisoformat(report["stichtag"])
    ws["B4"].number_format = "DD.MM.YYYY"
    ws["B4"].alignment = Alignment(horizontal="left")
    ws["A5"], ws["B5"] = "Berichtsstelle", body
    ws["A6"], ws["B6"] = "erstellt am", created.strftime("%d.%m.%Y %H:%M") + (f" (Version {version})" if version else "")
    for cell in ("A4", "A5", "A6"):
        ws[cell].font = bold
    row = 8
    for col, label in enumerate(("", "insgesamt", "davon weiblich"), start=1):
        c = ws.cell(row, col, label)
        c.font, c.fill, c.border = bold, head, box
    for kind, label, total, female in form_rows(report):
        row += 1
        if kind == "title":
            ws.cell(row, 1, label).font = bold
            continue
        c = ws.cell(row, 1, label)
        c.border = box
        if kind == "sub":
            c.alignment = Alignment(indent=2)
        ws.cell(row, 2, value_at(report, total)).border = box
        cell = ws.cell(row, 3, value_at(report, female) if female else None)
        cell.border = box
        if not female:
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
    row += 2
    ws.cell(row, 1, "Hinweise der Plausibilitätsprüfung").font = bold
    for text in report.get("warnungen") or ["keine"]:
        row += 1
        ws.cell(row, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        ws.row_dimensions[row].height = 30
    ws.column_dimensions["A"].width = 62
    ws.column_dimensions["B"].width = 13
    ws.column_dimensions["C"].width = 15
    ws.freeze_panes = "B9"
    wb.save(target)


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
    numbers for age and size, real dates (TT.MM.JJJJ); sheet "Plausibilität" with the German report."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Datensätze"
    ws.append(list(hs.BUND_COLUMNS))
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        out = []
        for c in hs.BUND_COLUMNS:
            v = r[c]
            if c in ("stichtag", "beginn") and v:
                v = date.fromisoformat(v)
            elif c in ("alter", "haushaltsgroesse") and v != "":
                v = int(v)
            out.append(v if v != "" else None)
        ws.append(out)
        for cell in (ws.cell(ws.max_row, 1), ws.cell(ws.max_row, 13)):
            cell.number_format = "DD.MM.YYYY"
    for i, width in enumerate((11, 10, 18, 18, 12, 6, 10, 30, 8, 8, 24, 16, 11)):
        ws.column_dimensions[chr(65 + i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:M{len(rows) + 1}"
    notes = wb.create_sheet("Plausibilität")
    notes.append(["Plausibilitätsprüfung vor der Lieferung (nichts wurde entfernt)"])
    notes["A1"].font = Font(bold=True)
    for p in problems:
        notes.append([p.text])
    if not problems:
        notes.append(["keine Auffälligkeiten"])
    notes.column_dimensions["A"].width = 110
    wb.save(target)


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
