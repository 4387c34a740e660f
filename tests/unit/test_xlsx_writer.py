"""The one XLSX writer (#14 §4), read back with openpyxl: real dates and numbers in German display formats,
frozen header, autofilter, widths, formula/URL conversion off, sheets split at Excel's limit."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.services import xlsx_export
from app.services.xlsx_export import XlsxColumn, column_for_field, write_xlsx, xlsx_file

COLUMNS = [XlsxColumn("Name", "text", 20), XlsxColumn("Geburtsdatum", "date"), XlsxColumn("Forderung", "money"),
           XlsxColumn("Personen", "int"), XlsxColumn("Angelegt", "datetime"), XlsxColumn("Aktiv", "bool"),
           XlsxColumn("Quote", "percent")]


def _read(path):
    book = load_workbook(path)
    return book, book.worksheets[0]


def test_values_come_back_typed_with_german_formats(tmp_path):
    path = tmp_path / "a.xlsx"
    rows = [("Müller, Jürgen", date(1963, 10, 31), Decimal("1234.56"), 3,
             datetime(2026, 12, 6, 22, 30, tzinfo=timezone.utc), True, Decimal("0.25")),
            ("Leer", None, None, None, None, False, None)]
    assert write_xlsx(path, COLUMNS, rows, sheet="Partner") == 2
    book, sheet = _read(path)
    assert sheet.title == "Partner"
    assert [c.value for c in sheet[1]] == [c.label for c in COLUMNS]
    assert all(c.font.b for c in sheet[1])
    name, born, amount, persons, created, active, share = sheet[2]
    assert name.value == "Müller, Jürgen"
    assert born.value == datetime(1963, 10, 31) and born.number_format == "DD.MM.YYYY"
    assert amount.value == pytest.approx(1234.56) and amount.number_format == "#,##0.00"
    assert persons.value == 3 and persons.number_format == "#,##0"
    # Stored in UTC, written in Berlin wall-clock time (23:30 in December).
    assert created.value == datetime(2026, 12, 6, 23, 30) and created.number_format == "DD.MM.YYYY hh:mm"
    assert active.value == "ja" and sheet["F3"].value == "nein"
    assert share.value == pytest.approx(0.25) and share.number_format == "0.0 %"
    assert [c.value for c in sheet[3]][1:5] == [None, None, None, None]


def test_header_frozen_autofilter_and_widths(tmp_path):
    path = tmp_path / "b.xlsx"
    write_xlsx(path, COLUMNS, [("x", date(2026, 1, 2), 1, 1, None, True, 0)] * 5)
    _, sheet = _read(path)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G6"
    assert sheet.column_dimensions["A"].width == pytest.approx(20, abs=1)
    assert sheet.column_dimensions["B"].width == pytest.approx(14, abs=1)  # "Geburtsdatum" + 2 beats 12


def test_title_row_above_the_header(tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx(path, COLUMNS[:2], [("a", date(2026, 1, 1))], title="Partner, Stand 06.12.2026")
    _, sheet = _read(path)
    assert sheet["A1"].value == "Partner, Stand 06.12.2026"
    assert [c.value for c in sheet[3]] == ["Name", "Geburtsdatum"]
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:B4"


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"klick\")", "=1+2", "+49 30 1234", "-5",
                                  "http://example.org", "mailto:a@b.de", "@SUM(A1)", "0123"])
def test_user_text_stays_text(tmp_path, text):
    path = tmp_path / "f.xlsx"
    write_xlsx(path, [XlsxColumn("Name")], [(text,)])
    _, sheet = _read(path)
    cell = sheet["A2"]
    assert cell.value == text and cell.data_type == "s"
    assert not sheet._hyperlinks


def test_wrong_types_are_written_as_text_not_failing(tmp_path):
    path = tmp_path / "w.xlsx"
    write_xlsx(path, [XlsxColumn("Zahl", "int"), XlsxColumn("Datum", "date")], [("unbekannt", "31.02.")])
    _, sheet = _read(path)
    assert [c.value for c in sheet[2]] == ["unbekannt", "31.02."]


def test_labels_of_catalogue_values_and_lists():
    class Value:
        def __init__(self, label):
            self.label = label
    assert xlsx_export._label_of(Value("offen")) == "offen"
    assert xlsx_export._label_of([Value("b"), Value("a")]) == "a, b"


def test_rows_beyond_the_sheet_limit_go_to_a_second_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_export, "MAX_ROWS_PER_SHEET", 4)  # rows 0..4: header + 4 data rows
    path = tmp_path / "s.xlsx"
    assert write_xlsx(path, [XlsxColumn("Nr", "int")], [(i,) for i in range(10)], sheet="Fälle") == 10
    book = load_workbook(path)
    assert [s.title for s in book.worksheets] == ["Fälle", "Fälle (2)", "Fälle (3)"]
    values = [c.value for s in book.worksheets for c in s["A"][1:]]
    assert values == list(range(10))
    assert all(s["A1"].value == "Nr" for s in book.worksheets)


def test_temp_file_is_streamed_and_leaves_nothing(tmp_path, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stream, count = xlsx_file([XlsxColumn("A")], [("x",), ("y",)])
    assert count == 2 and list(tmp_path.iterdir()) == []  # unlinked, still readable
    data = stream.read()
    stream.close()
    assert data[:2] == b"PK"


def test_progress_is_reported(tmp_path):
    seen = []
    write_xlsx(tmp_path / "p.xlsx", [XlsxColumn("A", "int")], ((i,) for i in range(12)), progress=seen.append,
               progress_every=5)
    assert seen == [5, 10, 12]


def test_column_types_from_field_metadata():
    from app.metamodel.spec import FieldSpec
    assert column_for_field(FieldSpec(name="amount", type="money", label="Betrag")).type == "money"
    assert column_for_field(FieldSpec(name="born", type="date", label="Geboren")).type == "date"
    assert column_for_field(FieldSpec(name="n", type="integer", label="Anzahl")).type == "int"
    assert column_for_field(FieldSpec(name="ok", type="boolean", label="Aktiv")).type == "bool"
    assert column_for_field(FieldSpec(name="s", type="choice", label="Status", catalogue="x")).type == "text"
    wide = column_for_field(FieldSpec(name="s", type="string", label="Name", length=120))
    narrow = column_for_field(FieldSpec(name="s", type="string", label="PLZ", length=5))
    assert wide.width == 50 and narrow.width == 10
    with pytest.raises(ValueError):
        XlsxColumn("x", "zahl")


def test_several_sheets_with_subtitle_and_notes_into_a_file_object(tmp_path):
    import io

    from app.services.xlsx_export import XlsxSheet, write_sheets
    buffer = io.BytesIO()
    count = write_sheets(buffer, [
        XlsxSheet("Eins", [XlsxColumn("A", "int"), XlsxColumn("Anteil", "percent")], [(1, Decimal("0.5")), (2, "–")],
                  title="Titel", subtitle="Zeitraum: 2025", notes=["Hinweis unten."]),
        XlsxSheet("Zwei", [XlsxColumn("B")], iter([("x",)]))])
    assert count == 3
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    one, two = book.worksheets
    assert [one["A1"].value, one["A2"].value, one["A3"].value] == ["Titel", "Zeitraum: 2025", None]
    assert [c.value for c in one[4]] == ["A", "Anteil"] and one.freeze_panes == "A5"
    assert one["B5"].value == 0.5 and one["B5"].number_format == "0.0 %" and one["B6"].value == "–"
    assert one["A8"].value == "Hinweis unten." and one.auto_filter.ref == "A4:B6"
    assert two.title == "Zwei" and two["A2"].value == "x"
