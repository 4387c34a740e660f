"""Data protection (#15): the access log matrix (every read path of a sensitive page logs exactly once,
other pages never), masking for list-only profiles, the access-log command, retention on the database
(closed dates, legal hold, shared persons) and the Art. 15 export (each seeded item, nothing of another person)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app import clock
from tests.conftest import login
from tests.unit.letter_docs import text_of

SENSITIVE = ["social_situation", "care", "help_plan", "help_goal", "help_measure", "help_review", "help_goal_result"]
PLAIN = ["case", "partner", "doc_entry", "household_member"]


_LOG_START = [0]


@pytest.fixture
def world(ctx, factory):
    """Person A (client, with a care, a plan and a social situation) and person B (a household member of A's
    case with a situation of their own, and a case of their own)."""
    from app.extensions import db
    from app.privacy_models import AccessLog
    # The access log is append-only and outlives the records of earlier tests (ids are reused): count from here.
    _LOG_START[0] = db.session.scalar(select(func.max(AccessLog.id))) or 0
    person = factory.value("partner_kind", "person")
    a = factory("partner", "nord", kind=person, surname="Auskunftsperson", first_name="Anna",
                birth_date=date(1980, 4, 1))
    b = factory("partner", "nord", kind=person, surname="Fremdmann", first_name="Bert")
    factory("address", "nord", partner=a, kind=factory.value("address_kind", "main"), street="Anna-Weg",
            house_number="1", postcode="33100", city="Musterstadt")
    factory("contact", "nord", partner=a, channel=factory.value("contact_channel", "phone"), value="0151-111")
    factory("address", "nord", partner=b, kind=factory.value("address_kind", "main"), street="Bert-Gasse",
            house_number="9", postcode="33100", city="Musterstadt")
    case = factory("case", "nord", client=a, opened_on=date(2026, 1, 5), file_number="N-A-1",
                   status=factory.value("case_status", "open"))
    b_case = factory("case", "nord", client=b, opened_on=date(2026, 2, 1), file_number="N-B-1",
                     status=factory.value("case_status", "open"))
    member_b = factory("household_member", "nord", case=case, member=b)
    sit_a = factory("social_situation", "nord", case=case, person=a, info="Situation von Anna")
    sit_b = factory("social_situation", "nord", case=case, person=b, info="Geheimnis von Bert")
    care = factory("care", "nord", case=case, started_on=date(2026, 1, 10),
                   legal_basis=factory.value("care_legal_basis", "sgb12_67"), situation_start="Anna braucht Hilfe")
    plan = factory("help_plan", "nord", care=care, valid_from=date(2026, 1, 12),
                   state=factory.value("help_plan_state", "agreed"))
    goal = factory("help_goal", "nord", plan=plan, area=factory.value("help_area", "wohnen"), goal="Wohnung halten")
    measure = factory("help_measure", "nord", goal=goal, action="Vermieter anrufen",
                      responsible=factory.value("help_party", "client"))
    review = factory("help_review", "nord", plan=plan, reviewed_on=date(2026, 3, 1))
    result = factory("help_goal_result", "nord", review=review, goal=goal, result=factory.value("goal_result", "teilweise"))
    entry = factory("doc_entry", "nord", case=case, entry_date=date(2026, 1, 6),
                    service=_service(factory), info="Erstgespräch mit Anna")
    b_entry = factory("doc_entry", "nord", case=b_case, entry_date=date(2026, 2, 2), service=_service(factory),
                      info="Eintrag zu Bert")
    return dict(a=a, b=b, case=case, b_case=b_case, household_member=member_b, social_situation=sit_a, sit_b=sit_b,
                care=care, help_plan=plan, help_goal=goal, help_measure=measure, help_review=review,
                help_goal_result=result, doc_entry=entry, b_entry=b_entry, partner=a)


def _service(factory):
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    model = built_registry().model("service")
    return db.session.scalars(select(model).where(model.code == "notiz")).one()


def _logged(entity: str, record_id: int, channel: str | None = None) -> int:
    from app.extensions import db
    from app.privacy_models import AccessLog
    query = select(func.count()).select_from(AccessLog).where(AccessLog.entity == entity, AccessLog.id > _LOG_START[0],
                                                              AccessLog.record_id == record_id)
    if channel:
        query = query.where(AccessLog.channel == channel)
    db.session.expire_all()
    return db.session.scalar(query)


@pytest.mark.parametrize("entity", SENSITIVE + PLAIN)
def test_every_read_path_logs_a_sensitive_page_once(client, world, entity):
    login(client, "admin")
    record = world[entity]
    route = "/" + entity.replace("_", "-")
    expected = 1 if entity in SENSITIVE else 0
    assert client.get(f"{route}/show/{record.id}").status_code == 200
    assert _logged(entity, record.id, "show") == expected
    assert client.get(f"/api/v1/{entity}/{record.id}").status_code == 200
    assert _logged(entity, record.id, "rest") == expected
    # Lists are not reads: nothing more.
    assert client.get(f"{route}/list/").status_code == 200
    assert client.get(f"/api/v1/{entity}/").status_code == 200
    assert _logged(entity, record.id) == 2 * expected
    # The Art. 15 export of A reads each of A's records once.
    assert client.post(f"/subject-access/{world['a'].id}").status_code == 200
    assert _logged(entity, record.id, "subject_access") == (expected if entity != "household_member" else 0)


# The research module (#14): root entity, column key; a child page is read through its case.
RESEARCH = {"social_situation": ("case", "social_situation.info"), "care": ("case", "care.situation_start"),
            "case": ("case", "file_number"), "doc_entry": ("case", "doc_entry.info"),
            "household_member": ("case", "household_member.moved_in_on"), "partner": ("partner", "surname")}


@pytest.mark.parametrize("entity", list(RESEARCH))
def test_research_list_and_its_export_log_a_sensitive_page_once_per_record(client, world, entity):
    """The research list shows each record of a sensitive page: one row per record read (channel research),
    the XLSX export once more (export); grouped counts are no record reads; plain pages never log."""
    login(client, "admin")
    root, column = RESEARCH[entity]
    expected = 1 if entity in SENSITIVE else 0
    args = {"e": root, "c": ["file_number" if root == "case" else "surname", column] if column not in
            ("file_number", "surname") else [column], "run": "1"}
    page = client.get("/research/", query_string=args)
    assert page.status_code == 200
    records = [world[entity]] + ([world["sit_b"]] if entity == "social_situation" else [])
    for record in records:
        assert _logged(entity, record.id, "research") == expected
    if entity == "social_situation":
        assert "Geheimnis von Bert" in page.get_data(as_text=True)  # shown, hence logged (B's record too)
    assert client.get("/research/export", query_string=args).status_code == 200
    for record in records:
        assert _logged(entity, record.id, "export") == expected
        assert _logged(entity, record.id) == 2 * expected
    grouped = dict(args, g1=column, c=[])
    if entity != "case" and entity != "partner" and "info" not in column and "situation" not in column:
        assert client.get("/research/", query_string=grouped).status_code == 200
        assert _logged(entity, world[entity].id) == 2 * expected


def test_print_of_a_plan_is_a_logged_read(client, world):
    login(client, "admin")
    plan = world["help_plan"]
    client.get(f"/care-overview/case/{world['case'].id}")
    assert _logged("help_plan", plan.id, "overview") == 1
    client.post(f"/care-overview/plan/{plan.id}/print")
    assert _logged("help_plan", plan.id, "letter") == 1
    assert _logged("case", world["case"].id) == 0


def test_list_only_profile_sees_masked_fields_and_cannot_open(client, world):
    login(client, "sachbearbeitung_nord")
    page = client.get("/help-goal/list/").get_data(as_text=True)
    assert "••• (vertraulich)" in page and "Wohnung halten" not in page
    rest = client.get("/api/v1/help_measure/").get_json()
    assert [row["action"] for row in rest["result"]] == ["••• (vertraulich)"]
    assert client.get(f"/help-goal/show/{world['help_goal'].id}").status_code in (302, 403)
    assert client.get(f"/api/v1/help_goal/{world['help_goal'].id}").status_code in (401, 403)
    assert _logged("help_goal", world["help_goal"].id) == 0
    # (A profile that may read sees the text: the permission matrix lists it for every profile.)


def _log_as(name: str, entity: str, record) -> None:
    from app.actor import Actor
    from app.extensions import db
    from app.services.access_log import log_reads
    log_reads(db.session, Actor(name=name, units="all"), entity, [record], "show")
    db.session.commit()


def test_access_log_is_append_only_and_searchable(client, world):
    from app.cli import main
    from app.extensions import db
    from app.privacy_models import AccessLog, AppendOnlyError
    login(client, "sozialarbeit_nord")  # one account per test: the app context keeps the signed-in user
    client.get(f"/help-plan/show/{world['help_plan'].id}")
    _log_as("admin", "social_situation", world["social_situation"])
    row = db.session.scalars(select(AccessLog).order_by(AccessLog.id.desc())).first()
    row.detail = "geändert"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    runner = CliRunner()
    out = runner.invoke(main, ["access-log", "--user", "sozialarbeit_nord", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = [r for r in json.loads(out.output) if r["id"] > _LOG_START[0]]
    assert [(r["user"], r["entity"], r["record_id"], r["channel"]) for r in rows] == [
        ("sozialarbeit_nord", "help_plan", world["help_plan"].id, "show")]
    today = clock.today().strftime("%d.%m.%Y")  # the Berlin day the log row was written
    out = runner.invoke(main, ["access-log", "--entity", "social_situation", "--id", str(world["social_situation"].id),
                               "--from", today, "--to", today, "--format", "csv"])
    lines = [line for line in out.output.strip().splitlines()
             if line.startswith("id;") or int(line.split(";")[0]) > _LOG_START[0]]
    assert lines[0] == "id;at;user;entity;record_id;channel;org_unit_id;detail" and len(lines) == 2
    assert ";admin;social_situation;" in lines[1]
    old = (clock.today() - timedelta(days=400)).strftime("%d.%m.%Y")
    out = runner.invoke(main, ["access-log", "--to", old, "--format", "json"])
    assert json.loads(out.output) == []
    bad = runner.invoke(main, ["access-log", "--format", "xml"])
    assert bad.exit_code == 2 and "json, csv" in bad.output
    bad = runner.invoke(main, ["access-log", "--id", "3"])
    assert bad.exit_code == 2 and "--entity" in bad.output


def test_datenschutz_searches_the_log_in_the_app(client, world):
    _log_as("sozialarbeit_nord", "help_plan", world["help_plan"])
    login(client, "datenschutz_nord")
    page = client.get("/access-log/list/?_flt_0_username=sozialarbeit_nord").get_data(as_text=True)
    assert "sozialarbeit_nord" in page and "Detailseite" in page and "Hilfeplan (help_plan)" in page
    assert client.get(f"/help-plan/show/{world['help_plan'].id}").status_code in (302, 403)  # the log, not the plan


def test_subject_access_contains_each_item_and_nothing_of_another_person(client, world):
    from app.extensions import db
    from app.letters.models import Letter
    login(client, "admin")
    # A letter (the plan's print) and a document on A's case.
    client.post(f"/care-overview/plan/{world['help_plan'].id}/print")
    client.post(f"/attachments/entry/{world['doc_entry'].id}", data={
        "file": (io.BytesIO(b"%PDF-1.4 scan of anna"), "anna_scan.pdf")}, content_type="multipart/form-data")
    response = client.post(f"/subject-access/{world['a'].id}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert {"auskunft.docx", "daten.json", "daten.xlsx"} <= set(names)
    assert any(n.startswith("briefe/") and n.endswith(".docx") for n in names)
    assert any(n.startswith("dokumente/") and n.endswith("anna_scan.pdf") for n in names)
    data = json.loads(archive.read("daten.json"))
    ids = {name: {row["id"] for row in rows} for name, rows in data["daten"].items()}
    for key in ("partner", "case", "social_situation", "care", "help_plan", "help_goal", "help_measure",
                "help_review", "help_goal_result", "doc_entry"):
        assert world[key].id in ids[key], key
    assert "address" in ids and "contact" in ids
    assert world["sit_b"].id not in ids["social_situation"]
    assert world["b_case"].id not in ids.get("case", set()) and world["b_entry"].id not in ids["doc_entry"]
    assert data["verlauf"], "the history of the records is part of it"
    # Nothing of Bert anywhere: not in the JSON, the summary, the spreadsheet, the letters.
    summary = text_of(archive.read("auskunft.docx"))
    assert "Auskunftsperson" in summary and "Anna braucht Hilfe" in summary
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(archive.read("daten.xlsx")))
    cells = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None)
    texts = [archive.read("daten.json").decode(), summary, cells]
    texts += [text_of(archive.read(n)) for n in names if n.startswith("briefe/") and n.endswith(".docx")]
    for text in texts:
        for word in ("Fremdmann", "Bert", "Geheimnis", "N-B-1", "Bert-Gasse"):
            assert word not in text, word
    assert _logged("partner", world["a"].id, "export") == 1
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 1


def test_subject_access_stays_in_the_users_units(client, world):
    login(client, "datenschutz_sued")
    refused = client.post(f"/subject-access/{world['a'].id}", follow_redirects=True)
    assert "nicht gefunden" in refused.get_data(as_text=True)


def test_subject_access_masks_for_list_only(client, world):
    login(client, "datenschutz_nord")
    archive = zipfile.ZipFile(io.BytesIO(client.post(f"/subject-access/{world['a'].id}").data))
    data = json.loads(archive.read("daten.json"))
    assert data["daten"]["help_goal"][0]["goal"] == "••• (vertraulich)"
    assert "Soziale Situation" in data["nicht_enthalten"]
    assert _logged("help_goal", world["help_goal"].id, "subject_access") == 0  # masked: not read


def test_subject_access_command(world, tmp_path):
    from app.cli import main
    target = tmp_path / "a.zip"
    out = CliRunner().invoke(main, ["subject-access", str(world["a"].id), "-o", str(target)])
    assert out.exit_code == 0, out.output
    assert "auskunft.docx" in zipfile.ZipFile(target).namelist()
    missing = CliRunner().invoke(main, ["subject-access", "999999", "-o", str(tmp_path / "x.zip")])
    assert missing.exit_code == 2 and "nicht gefunden" in missing.output


def test_erasure_request_records_the_legal_check(client, world, factory):
    login(client, "datenschutz_nord")
    body = {"partner": world["a"].id, "received_on": "2026-03-02", "request_text": "Bitte alles löschen.",
            "decision": factory.value("erasure_decision", "refused").id, "decided_on": "2026-03-20"}
    refused = client.post("/api/v1/erasure_request/", json=body)
    assert refused.status_code == 400 and "Rechtliche Prüfung" in refused.get_json()["message"]
    made = client.post("/api/v1/erasure_request/", json={**body, "legal_check": "§ 84 Abs. 3 SGB X: laufender Fall"})
    assert made.status_code == 201, made.get_data(as_text=True)
    shown = client.get(f"/api/v1/erasure_request/{made.get_json()['id']}").get_json()["result"]
    assert shown["answer_by"] == "2026-04-02" and shown["legal_check"].startswith("§ 84")


def test_list_export_logs_each_sensitive_record_once(client, world):
    login(client, "admin")
    assert client.get("/help-goal/export_xlsx").status_code == 200
    assert _logged("help_goal", world["help_goal"].id, "export") == 1
    assert client.get("/case/export_xlsx").status_code == 200
    assert _logged("case", world["case"].id) == 0


def test_list_export_masks_for_list_only(client, world):
    from openpyxl import load_workbook
    login(client, "sachbearbeitung_nord")
    response = client.get("/help-goal/export_xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "••• (vertraulich)" in cells and "Wohnung halten" not in cells
    assert _logged("help_goal", world["help_goal"].id) == 0


def _two_goals(world, factory):
    from app.extensions import db
    factory("help_goal", "nord", plan=world["help_plan"], area=factory.value("help_area", "finanzen"),
            goal="Aaa Schulden ordnen")
    db.session.commit()


def _areas(client, **args) -> tuple[list[str], str]:
    page = client.get("/help-goal/list/", query_string=args)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # the rows come last (the search form above lists the catalogue too): each label's last place
    return [label for _, label in sorted((text.rfind(label), label) for label in ("Wohnen", "Finanzen/Schulden")
                                         if label in text)], text


ASC = {"_oc_HelpGoalView": "goal", "_od_HelpGoalView": "asc"}
DESC = {"_oc_HelpGoalView": "goal", "_od_HelpGoalView": "desc"}
Q_SORT = {"q": "(order_column:goal,order_direction:asc)"}


def test_list_only_profile_cannot_sort_or_filter_by_a_masked_column(client, world, factory):
    """Sorting or filtering by a masked field would reveal the hidden values' order: for a list-only profile
    the list and its export ignore both (no sort link, no filter choice), the REST list refuses them."""
    _two_goals(world, factory)
    login(client, "sachbearbeitung_nord")
    order_asc, _ = _areas(client, **ASC)
    order_desc, _ = _areas(client, **DESC)
    assert order_asc == order_desc and len(order_asc) == 2
    page = _areas(client)[1]
    assert "_oc_HelpGoalView=goal" not in page and "_oc_HelpGoalView=target_on" in page
    filtered, _ = _areas(client, _flt_0_goal="Wohnung")
    assert len(filtered) == 2  # the filter on the masked goal is not applied
    assert client.get("/help-goal/export_xlsx", query_string={"_flt_0_goal": "Wohnung"}).status_code == 200
    refused = client.get("/api/v1/help_goal/", query_string=Q_SORT)
    assert refused.status_code == 400 and "vertraulichen Feldern" in refused.get_json()["message"]
    refused = client.get("/api/v1/help_goal/", query_string={"q": "(filters:!((col:goal,opr:sw,value:Wohn)))"})
    assert refused.status_code == 400
    assert client.get("/api/v1/help_goal/", query_string={"q": "(order_column:target_on,order_direction:asc)"}
                      ).status_code == 200


def test_a_reading_profile_sorts_by_the_same_column(client, world, factory):
    """The counterpart: a profile that may read the page sorts by the goal (the order changes)."""
    _two_goals(world, factory)
    login(client, "admin")
    assert _areas(client, **ASC)[0] != _areas(client, **DESC)[0]
    assert client.get("/api/v1/help_goal/", query_string=Q_SORT).status_code == 200
