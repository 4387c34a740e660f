"""Excel of every list (#14 §4): a generated list page exports its rows (search filters, org units) with the
page's fields as typed values under the YAML labels, and the export is in the history."""
from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from tests.conftest import login


def _sheet(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data)).worksheets[0]


def test_case_list_export_has_the_rows_of_the_list_and_real_values(client, factory):
    from app.core_models import ChangeLog
    from app.extensions import db
    person = factory.value("partner_kind", "person")
    mine = factory("partner", "nord", kind=person, surname="=HYPERLINK(\"x\")", first_name="Anna")
    other = factory("partner", "sued", kind=person, surname="Süd", first_name="Sven")
    factory("case", "nord", client=mine, file_number="N-1", opened_on=date(2026, 1, 5),
            status=factory.value("case_status", "open"))
    factory("case", "nord", client=mine, file_number="N-2", opened_on=date(2026, 2, 5),
            status=factory.value("case_status", "closed"))
    factory("case", "sued", client=other, file_number="S-1", opened_on=date(2026, 3, 5),
            status=factory.value("case_status", "open"))
    login(client, "sachbearbeitung_nord")
    page = client.get("/case/list/").get_data(as_text=True)
    assert "/case/export_xlsx" in page
    sheet = _sheet(client.get("/case/export_xlsx"))
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Klient/in", "Aktenzeichen", "Fallbeginn", "Fallende", "Status"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"N-1", "N-2"}  # never the other unit's case
    assert rows["N-1"][2] == datetime(2026, 1, 5) and sheet["C2"].number_format == "DD.MM.YYYY"
    assert rows["N-1"][0].startswith("=HYPERLINK") and sheet["A2"].data_type == "s"
    assert rows["N-1"][4] and isinstance(rows["N-1"][4], str)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    # The search filter of the list applies to the export too.
    open_id = factory.value("case_status", "closed").id
    filtered = _sheet(client.get(f"/case/export_xlsx?_flt_0_status={open_id}"))
    assert [r[1] for r in filtered.iter_rows(min_row=2, values_only=True)] == ["N-2"]
    entry = db.session.query(ChangeLog).filter_by(entity="export").order_by(ChangeLog.id.desc()).first()
    assert entry.changed_by == "sachbearbeitung_nord" and entry.field == "Fallakten"
    assert entry.new_value.startswith("1 Zeilen") and "Status=" in entry.new_value


def test_export_needs_the_list_permission(app, user_client):
    # social_situation: none for Sachbearbeitung, read for Teamleitung
    assert user_client("sachbearbeitung_nord").get("/social-situation/export_xlsx").status_code in (302, 403)
    assert user_client("teamleitung_nord").get("/social-situation/export_xlsx").status_code == 200


def test_money_and_booleans_of_a_child_page(client, factory):
    person = factory.value("partner_kind", "person")
    client_rec = factory("partner", "nord", kind=person, surname="Geld", first_name="G")
    case = factory("case", "nord", client=client_rec, file_number="N-9", opened_on=date(2026, 1, 5),
                   status=factory.value("case_status", "open"))
    from decimal import Decimal
    factory("housing_emergency", "nord", case=case, started_on=date(2026, 1, 6), energy_debts_only=True,
            rent_arrears=Decimal("1234.56"))
    login(client, "sachbearbeitung_nord")
    sheet = _sheet(client.get("/housing-emergency/export_xlsx"))
    header = [c.value for c in sheet[1]]
    amount = header.index("Mietschulden") + 1
    flag = header.index("Nur Energieschulden") + 1
    assert sheet.cell(2, amount).value == 1234.56 and sheet.cell(2, amount).number_format == "#,##0.00"
    assert sheet.cell(2, flag).value == "ja"


def test_hand_written_lists_export_what_their_page_lists(client, factory):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    me = db.session.query(User).filter_by(username="sachbearbeitung_nord").one()
    person = factory.value("partner_kind", "person")
    mine = factory("partner", "nord", kind=person, surname="Eigen", first_name="E")
    case = factory("case", "nord", client=mine, file_number="M-1", opened_on=date(2026, 1, 5), clerk_user=me,
                   status=factory.value("case_status", "open"))
    other = factory("partner", "sued", kind=person, surname="Fremd", first_name="F")
    factory("case", "sued", client=other, file_number="S-7", opened_on=date(2026, 1, 5),
            status=factory.value("case_status", "open"))
    factory("task", "nord", case=case, title="Anrufen", due_on=date(2026, 1, 9),
            state=factory.value("task_state", "open"), assignee=me)
    login(client, "sachbearbeitung_nord")
    assert "/my-cases/export" in client.get("/my-cases/").get_data(as_text=True)
    cases = _sheet(client.get("/my-cases/export"))
    assert [c.value for c in cases[1]] == ["Aktenzeichen", "Klient/in", "Fallbeginn", "Fallende", "Status"]
    assert [r[0] for r in cases.iter_rows(min_row=2, values_only=True)] == ["M-1"]
    assert "/worklist/export" in client.get("/worklist/").get_data(as_text=True)
    tasks = _sheet(client.get("/worklist/export?team=1"))
    assert [r[1] for r in tasks.iter_rows(min_row=2, values_only=True)] == ["Anrufen"]
    assert tasks["A2"].value == datetime(2026, 1, 9)
    docs = _sheet(client.get("/documentation/export?scope=team"))
    assert [c.value for c in docs[1]][:2] == ["Datum", "Leistung"]
    assert client.get(f"/documentation/export?case={case.id}").status_code == 200


def test_progress_of_an_export(app, user_client):
    import json
    from pathlib import Path

    from app.web import xlsx
    client = user_client("sachbearbeitung_nord")
    token = "ab" * 16
    seen = []
    original = xlsx._progress_writer

    def spy(user_id):
        report, path = original(user_id)

        def wrapped(rows, done=False):
            report(rows, done)
            seen.append(json.loads(Path(path).read_text()))
        return wrapped, path
    xlsx._progress_writer = spy
    try:
        response = client.get(f"/case/export_xlsx?_export_token={token}")
        assert response.status_code == 200
        response.close()
    finally:
        xlsx._progress_writer = original
    assert seen[-1] == {"rows": -1, "done": True} and seen[0]["done"] is False
    answer = client.get(f"/export-progress/{token}").get_json()
    assert answer["done"] is True or answer.get("waiting")  # the download's close may have removed it already
    answer = client.get(f"/export-progress/{token}").get_json()
    assert answer["done"] is False and answer.get("waiting")  # told once, then the file is gone
    assert client.get("/export-progress/nicht-hex").status_code == 404
    assert app.test_client().get(f"/export-progress/{token}").status_code in (302, 401)


def test_a_list_without_export_shows_no_button(app, user_client):
    page = user_client("fachadmin_nord").get("/catalogues/list/")
    assert page.status_code == 200 and "export_xlsx" not in page.get_data(as_text=True)


def test_login_audit_exports_its_list(app, user_client):
    client = user_client("fachadmin_nord")
    assert "export_xlsx" in client.get("/login-audit/list/").get_data(as_text=True)
    sheet = _sheet(client.get("/login-audit/export_xlsx"))
    assert [c.value for c in sheet[1]] == ["Zeitpunkt", "Benutzername (wie eingegeben)", "Adresse", "Ergebnis", "Weg"]
    assert sheet.max_row >= 2 and isinstance(sheet["A2"].value, datetime)
    assert user_client("sachbearbeitung_nord").get("/login-audit/export_xlsx").status_code in (302, 403)
