"""XLSX round trip of the housing statistics (#14): the NRW form and the federal records read back with openpyxl."""
import csv
import io
import json
from datetime import date, datetime

from app.domain import housing_stats as hs
from app.integrations import housing_stats_files as files
from openpyxl import load_workbook

from tests.unit.test_housing_stats_rules import B, D, KEY, fact

FACTS = [fact(1, hid=1, role="bezugsperson", sex="female", birth=date(2004, 1, 1), nat="SY"),
         fact(2, hid=1, role="kind", sex="male", birth=date(2015, 1, 1)),
         fact(3, sex="female", birth=date(2006, 3, 1), nat="DE", mig="ja"),
         fact(4, birth=None, nat=None),
         fact(5, hid=9, role="bezugsperson", birth=date(1950, 1, 1), stype="betreutes_wohnen",
              provider="freier_traeger", assoc="awo", basis="sgb12_67")]


def test_nrw_xlsx_round_trip(tmp_path):
    report = hs.nrw_report(FACTS, D).report
    target = tmp_path / "nrw.xlsx"
    files.write_nrw_xlsx(report, target, datetime(2025, 7, 2, 9, 0), body="Musterhausen")
    assert files.read_nrw_xlsx(target) == report
    ws = load_workbook(target).active
    labels = [c.value for c in ws["A"] if c.value]
    assert files.FORM_TITLE == labels[0]
    assert labels.count(files.ALLEIN_LABEL) == 3
    assert ws["B4"].value.date() == D and ws["B4"].number_format == "DD.MM.YYYY"
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "21 bis unter 25")
    assert row[1:3] == (1, 1)
    # the printed form's layout, written by XlsxWriter (#14 "one XLSX writer")
    assert ws.title == "Kommunal 30.06." and ws.freeze_panes == "B9"
    assert [ws.cell(8, c).value for c in (2, 3)] == ["insgesamt", "davon weiblich"] and ws["B8"].font.b
    assert ws["A1"].font.b and ws["A1"].font.sz == 13 and ws["B5"].value == "Musterhausen"
    sub = next(c for c in ws["A"] if c.value == files.ALLEIN_LABEL)
    assert sub.alignment.indent == 2 and sub.border.left.style == "thin"
    no_female = next(r for r in ws.iter_rows(min_row=9) if r[0].value and r[1].value is not None
                     and r[2].value is None)
    assert no_female[2].fill.fgColor.rgb.endswith("EEEEEE")
    notes = next(c.row for c in ws["A"] if c.value == "Hinweise der Plausibilitätsprüfung")
    assert any(str(m).startswith(f"A{notes + 1}:C") for m in ws.merged_cells.ranges)
    assert ws.column_dimensions["A"].width > 60
    import zipfile
    assert b"openpyxl" not in zipfile.ZipFile(target).read("docProps/core.xml")  # openpyxl signs as creator


def test_nrw_xlsx_to_a_file_object():
    report = hs.nrw_report(FACTS, D).report
    buffer = io.BytesIO()
    files.write_nrw_xlsx(report, buffer, datetime(2025, 7, 2, 9, 0), version=2)
    buffer.seek(0)
    assert files.read_nrw_xlsx(buffer) == report


def test_nrw_json_is_the_report():
    report = hs.nrw_report(FACTS, D).report
    assert json.loads(files.write_nrw_json(report)) == report


def test_bund_csv_and_xlsx_round_trip(tmp_path):
    res = hs.bund_records(FACTS, B, KEY)
    text = files.write_bund_csv(res.rows)
    assert text.splitlines()[0] == ("stichtag;ags;person;haushalt;geschlecht;alter;staatsangehoerigkeit;"
                                    "haushaltstyp;haushaltsgroesse;art_der_ueberlassung;anbieter;verband;beginn")
    parsed = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert parsed == res.rows
    target = tmp_path / "bund.xlsx"
    files.write_bund_xlsx(res.rows, target, res.problems)
    assert files.read_bund_xlsx(target) == res.rows
    wb = load_workbook(target)
    ws = wb["Datensätze"]
    assert ws["A2"].number_format == "DD.MM.YYYY" and isinstance(ws["F2"].value, int)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:M{len(res.rows) + 1}"
    assert [c.value for c in wb["Plausibilität"]["A"]][1:] == [p.text for p in res.problems]
