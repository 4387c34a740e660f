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
    assert ws.freeze_panes == "A2"
    assert [c.value for c in wb["Plausibilität"]["A"]][1:] == [p.text for p in res.problems]
