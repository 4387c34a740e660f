"""``fachstelle indicators`` (JSON, CSV, XLSX survey form), ``indicators aggregate`` and ``success-measures``.

The data is the one of ``test_indicator_report`` (2nd quarter 2025, report date 01.07.2025). Commands run
in-process (click's runner, on the test database) except one run as a real subprocess, which proves the
``aggregate`` path needs no database and prints no traceback.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from tests.integration.test_indicator_report import EXPECTED, figures, world  # noqa: F401 (fixture)

PERIOD = ["--from", "01.04.2025", "--to", "2025-06-30", "--as-of", "01.07.2025"]


def run(*args):
    from app.cli import main
    return CliRunner().invoke(main, list(args))


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def failed(*args) -> str:
    result = run(*args)
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one German line
    return lines[0]


def test_json_has_the_agreed_shape(world):
    data = json.loads(ok("indicators", *PERIOD).stdout)
    assert list(data) == ["period", "as_of", "org_units", "total"]
    assert data["period"] == {"from": "2025-04-01", "to": "2025-06-30"} and data["as_of"] == "2025-07-01"
    assert list(data["org_units"]) == ["Fachstelle Nord", "Fachstelle Süd"]
    for part in (*data["org_units"].values(), data["total"]):
        assert list(part) == ["1.1", "1.2", "1.3", "1.4", "1.5"]
        assert all(list(r) == ["numerator", "denominator", "percent", "pending"] for r in part.values())
    for unit, expected in EXPECTED.items():
        assert figures(data, unit) == expected
    only = json.loads(ok("indicators", *PERIOD, "--org-unit", "Fachstelle Süd").stdout)
    assert list(only["org_units"]) == ["Fachstelle Süd"] and figures(only, "total") == EXPECTED["Fachstelle Süd"]


def test_csv_and_xlsx_are_written(world, tmp_path):
    from openpyxl import load_workbook
    ok("indicators", *PERIOD, "--format", "csv", "-o", str(tmp_path / "k.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "k.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][:7] == ["Dienststelle", "QS", "Qualitätsstandard", "Zähler", "Nenner", "Anteil (%)", "offen"]
    assert ["Fachstelle Süd", "1.3", "Sofortiges Tätigwerden – Anschreiben Zwangsräumungen", "0", "0", "–", "0"] \
        == rows[8][:7]
    assert rows[-5][:7] == ["Gesamt", "1.1", "Sofortiges Tätigwerden bei Räumungsklagen", "2", "3", "66,7", "1"]

    ok("indicators", *PERIOD, "--org-unit", "nord", "--format", "xlsx", "-o", str(tmp_path / "nord.xlsx"))
    wb = load_workbook(tmp_path / "nord.xlsx")
    sheet = wb["Fachstelle Nord"]
    assert sheet["B4"].value == "Fachstelle Nord" and sheet["B5"].value == "2. Quartal 2025"
    row = [c.value for c in sheet[12]]
    assert row[:2] == ["1.1", "Sofortiges Tätigwerden bei Räumungsklagen"] and row[3:7] == [1, 2, 0.5, 1]
    assert "Amtsgerichte über Räumungsklagen" in sheet["C12"].value  # the agreement's indicator text
    assert wb["_daten"].sheet_state == "hidden"


def test_aggregate_sums_district_forms(world, tmp_path):
    for unit in ("nord", "sued"):
        ok("indicators", *PERIOD, "--org-unit", unit, "--format", "xlsx", "-o", str(tmp_path / f"{unit}.xlsx"))
    merged = json.loads(ok("indicators", "aggregate", str(tmp_path / "nord.xlsx"), str(tmp_path / "sued.xlsx")).stdout)
    assert figures(merged, "total") == EXPECTED["total"]  # 2 of 3 = 66.7 (not the mean of 50 and 100)
    assert merged == json.loads(ok("indicators", *PERIOD).stdout)  # the same as the report over both
    # The merged form is a form again; a JSON report is accepted too.
    ok("indicators", "aggregate", str(tmp_path / "nord.xlsx"), str(tmp_path / "sued.xlsx"), "--format", "xlsx",
       "-o", str(tmp_path / "berlin.xlsx"))
    (tmp_path / "sued.json").write_text(ok("indicators", *PERIOD, "--org-unit", "sued").stdout, encoding="utf-8")
    again = json.loads(ok("indicators", "aggregate", str(tmp_path / "nord.xlsx"), str(tmp_path / "sued.json")).stdout)
    assert figures(again, "total") == EXPECTED["total"]
    total = json.loads(ok("indicators", "aggregate", str(tmp_path / "berlin.xlsx")).stdout)
    assert figures(total, "total") == EXPECTED["total"]


@pytest.mark.parametrize(("args", "message"), [
    (["--org-unit", "west"], "Dienststelle 'west' gibt es nicht. Vorhanden: nord, sued"),
    (["--as-of", "32.01.2025"], "--as-of: „32.01.2025“ ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)."),
    (["--format", "pdf"], "--format: „pdf“ gibt es nicht; möglich sind json, csv, xlsx."),
    (["--format", "xlsx"], "Für --format xlsx bitte mit -o eine Datei angeben."),
    (["--as-of", "01.01.2025"], "Der Stichtag (01.01.2025) liegt vor dem Beginn des Zeitraums (01.04.2025)."),
], ids=["unit", "date", "format", "xlsx-stdout", "as-of-before"])
def test_bad_report_input(world, args, message):
    assert failed("indicators", *PERIOD, *args) == message


def test_missing_period_and_reversed_period(ctx):
    assert failed("indicators", "--to", "30.06.2025") == "Bitte --from angeben (TT.MM.JJJJ oder JJJJ-MM-TT)."
    assert failed("indicators", "--from", "01.07.2025", "--to", "30.06.2025") == \
        "Das Ende des Zeitraums (30.06.2025) liegt vor seinem Beginn (01.07.2025)."


def test_bad_forms(world, tmp_path):
    from openpyxl import Workbook
    for unit in ("nord", "sued"):
        ok("indicators", *PERIOD, "--org-unit", unit, "--format", "xlsx", "-o", str(tmp_path / f"{unit}.xlsx"))
    ok("indicators", "--from", "01.04.2025", "--to", "31.05.2025", "--as-of", "01.07.2025", "--org-unit", "sued",
       "--format", "xlsx", "-o", str(tmp_path / "sued_mai.xlsx"))
    (tmp_path / "text.xlsx").write_text("kein Excel", encoding="utf-8")
    Workbook().save(tmp_path / "other.xlsx")
    nord = str(tmp_path / "nord.xlsx")
    assert failed("indicators", "aggregate", nord, str(tmp_path / "fehlt.xlsx")) == \
        f"Datei nicht gefunden: {tmp_path / 'fehlt.xlsx'}"
    assert failed("indicators", "aggregate", str(tmp_path / "text.xlsx")) == \
        f"{tmp_path / 'text.xlsx'}: keine lesbare XLSX-Datei (erwartet: Erhebungsbogen der Fachstelle)."
    assert failed("indicators", "aggregate", str(tmp_path / "other.xlsx")) == \
        f"{tmp_path / 'other.xlsx'}: kein Erhebungsbogen der Fachstelle (Blatt „_daten“ fehlt)."
    assert failed("indicators", "aggregate", nord, nord) == \
        f"{nord}: „Fachstelle Nord“ steht schon in {nord} – jeder Bezirk zählt nur einmal."
    assert failed("indicators", "aggregate", nord, str(tmp_path / "sued_mai.xlsx")) == \
        f"{tmp_path / 'sued_mai.xlsx'}: Zeitraum 01.04.2025 – 31.05.2025 passt nicht zu {nord} (2. Quartal 2025)."
    assert failed("indicators", "aggregate") == "Bitte mindestens einen Erhebungsbogen (XLSX) angeben."


def test_tampered_form_names_sheet_and_row(world, tmp_path):
    from openpyxl import load_workbook
    ok("indicators", *PERIOD, "--org-unit", "nord", "--format", "xlsx", "-o", str(tmp_path / "nord.xlsx"))
    wb = load_workbook(tmp_path / "nord.xlsx")
    wb["_daten"]["D4"] = "viele"
    wb.save(tmp_path / "nord.xlsx")
    assert failed("indicators", "aggregate", str(tmp_path / "nord.xlsx")) == \
        f"{tmp_path / 'nord.xlsx'}, Blatt „_daten“, Zeile 4: Nenner ist keine ganze Zahl ≥ 0 („viele“)."


def test_aggregate_as_a_subprocess(world, tmp_path):
    for unit in ("nord", "sued"):
        ok("indicators", *PERIOD, "--org-unit", unit, "--format", "xlsx", "-o", str(tmp_path / f"{unit}.xlsx"))
    env = {"PATH": "/usr/bin:/bin", "FACHSTELLE_INSTANCE_DIR": str(tmp_path / "instance")}
    cmd = [sys.executable, "-m", "app.cli", "indicators", "aggregate"]
    done = subprocess.run([*cmd, str(tmp_path / "nord.xlsx"), str(tmp_path / "sued.xlsx")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert figures(json.loads(done.stdout), "total") == EXPECTED["total"]
    bad = subprocess.run([*cmd, str(tmp_path / "nord.xlsx"), str(tmp_path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == f"Datei nicht gefunden: {tmp_path}"


def test_success_measures_xlsx(world, tmp_path, factory):
    from datetime import date

    from openpyxl import load_workbook
    case = world["cases"]["N1"]
    factory("housing_emergency", "nord", case=case, started_on=date(2025, 1, 2), closed_on=date(2025, 6, 5),
            result=factory.value("case_result", "erhalt_mietschuld"))
    ok("success-measures", "--from", "01.04.2025", "--to", "30.06.2025", "-o", str(tmp_path / "erfolg.xlsx"))
    wb = load_workbook(tmp_path / "erfolg.xlsx")
    assert wb.sheetnames == ["Wohnraumerhalt", "Leistungen je Produkt", "Leistungen je Leistung", "Darlehen"]
    rows = [[c.value for c in row] for row in wb["Wohnraumerhalt"].iter_rows(min_row=5, max_row=7)]
    assert rows[0][:5] == ["nord", "Fachstelle Nord", 1, 1, 1.0]
    assert rows[1][:5] == ["sued", "Fachstelle Süd", 0, 0, "–"]
    assert rows[2][1:5] == ["Gesamt", 1, 1, 1.0]
    assert failed("success-measures", "--from", "01.04.2025", "--to", "30.06.2025") == \
        "Bitte mit -o eine XLSX-Datei angeben."
