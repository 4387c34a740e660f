"""Soziale Betreuung and Hilfeplan (#15) through REST and the care pages: measures and review dates on the
worklist, a review per goal, the next version, the print for signature, closing only with a result."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import clock
from tests.conftest import login
from tests.unit.letter_docs import text_of


@pytest.fixture
def care_case(ctx, factory):
    from app.extensions import db
    from flask_appbuilder.security.sqla.models import User
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Hilfsbedarf",
                     first_name="Hanna")
    factory("address", "nord", partner=person, kind=factory.value("address_kind", "main"), street="Hilfeweg",
            house_number="3", postcode="33100", city="Musterstadt")
    case = factory("case", "nord", client=person, opened_on=date(2026, 1, 5), file_number="N-CARE-1",
                   status=factory.value("case_status", "open"))
    worker = db.session.query(User).filter_by(username="sozialarbeit_nord").one()
    return case, worker


def _ok(response, code=201):
    assert response.status_code == code, response.get_data(as_text=True)
    return response.get_json()


def _plan_with_goals(client, factory, case, worker):
    care = _ok(client.post("/api/v1/care/", json={"case": case.id, "started_on": "2026-01-05",
                                                  "legal_basis": factory.value("care_legal_basis", "sgb12_67").id,
                                                  "social_worker": worker.id}))["id"]
    plan = _ok(client.post("/api/v1/help_plan/", json={
        "care": care, "valid_from": "2026-01-10", "review_on": (clock.today() + timedelta(days=30)).isoformat(),
        "state": factory.value("help_plan_state", "agreed").id}))["id"]
    goals = [_ok(client.post("/api/v1/help_goal/", json={"plan": plan, "area": factory.value("help_area", area).id,
                                                         "goal": text}))["id"]
             for area, text in (("wohnen", "Die Wohnung bleibt erhalten"), ("finanzen", "Schulden geordnet"))]
    measure = _ok(client.post("/api/v1/help_measure/", json={
        "goal": goals[1], "action": "Termin bei der Schuldnerberatung", "responsible":
        factory.value("help_party", "client").id, "due_on": (clock.today() + timedelta(days=14)).isoformat()}))["id"]
    return care, plan, goals, measure


def test_measures_and_review_dates_are_tasks_on_the_worklist(client, factory, care_case):
    from app.extensions import db
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    case, worker = care_case
    login(client, "sozialarbeit_nord")
    care, plan_id, goals, measure_id = _plan_with_goals(client, factory, case, worker)
    Plan, Measure, Task = (registry.model(n) for n in ("help_plan", "help_measure", "task"))
    plan, measure = db.session.get(Plan, plan_id), db.session.get(Measure, measure_id)
    assert plan.plan_version == 1
    assert measure.task.title == "Hilfeplan: Termin bei der Schuldnerberatung (Klient/in)"
    assert measure.task.due_on == measure.due_on and measure.task.assignee_id == worker.id
    assert measure.task.case_id == case.id and measure.task.state.code == "open"
    assert plan.review_task.due_on == plan.review_on - timedelta(days=7)
    worklist = client.get("/worklist/").get_data(as_text=True)
    assert "Hilfeplan: Termin bei der Schuldnerberatung" in worklist and "Fortschreibung Hilfeplan (Version 1)" in worklist
    # The measure done: its task done too.
    _ok(client.put(f"/api/v1/help_measure/{measure_id}", json={"done_on": clock.today().isoformat()}), 200)
    db.session.expire_all()
    assert db.session.get(Measure, measure_id).task.state.code == "done"


def test_review_next_version_print_and_close(client, factory, care_case):
    from app.extensions import db
    from app.letters.models import Letter
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    case, worker = care_case
    login(client, "sozialarbeit_nord")
    care, plan_id, goals, measure_id = _plan_with_goals(client, factory, case, worker)
    overview = client.get(f"/care-overview/case/{case.id}").get_data(as_text=True)
    assert "Aktueller Hilfeplan: Version 1" in overview and "Termin bei der Schuldnerberatung" in overview
    assert "Offene Maßnahmen (1)" in overview
    # A review needs a result per goal: one missing is refused with the goal's words, nothing saved.
    refused = client.post(f"/care-overview/plan/{plan_id}/review", data={
        "reviewed_on": "01.03.2026", f"goal_{goals[0]}": "erreicht", "next_review_on": "01.06.2026"})
    assert "Ziel „Schulden geordnet“: bitte ein Ergebnis wählen." in refused.get_data(as_text=True)
    Review = registry.model("help_review")
    assert db.session.scalars(select(Review)).all() == []
    saved = client.post(f"/care-overview/plan/{plan_id}/review", data={
        "reviewed_on": "01.03.2026", f"goal_{goals[0]}": "erreicht", f"goal_{goals[1]}": "teilweise",
        "summary": "Gute Fortschritte", "next_review_on": "01.06.2026"})
    assert saved.status_code == 302
    db.session.expire_all()
    review = db.session.scalars(select(Review)).one()
    Result = registry.model("help_goal_result")
    assert sorted(r.result.code for r in db.session.scalars(select(Result).where(Result.review_id == review.id))) == \
        ["erreicht", "teilweise"]
    plan = db.session.get(registry.model("help_plan"), plan_id)
    assert plan.review_on == date(2026, 6, 1)
    # Print: a .docx letter for the signature, on a documentation entry that takes the signed scan.
    printed = client.post(f"/care-overview/plan/{plan_id}/print", follow_redirects=True).get_data(as_text=True)
    assert "Hilfeplan gedruckt" in printed
    db.session.expire_all()
    plan = db.session.get(registry.model("help_plan"), plan_id)
    letter = db.session.scalars(select(Letter).where(Letter.case_id == case.id)).one()
    assert plan.signed_entry_id == letter.doc_entry_id
    text = text_of(client.get(f"/letters/{letter.id}/docx").data)
    assert "Hilfeplan (Version 1)" in text and "Wohnen: Die Wohnung bleibt erhalten" in text
    assert "Termin bei der Schuldnerberatung – Klient/in – bis" in text and "Unterschrift Hanna Hilfsbedarf" in text
    upload = client.post(f"/attachments/entry/{plan.signed_entry_id}",
                         data={"file": (io.BytesIO(b"%PDF-1.4 signed"), "hilfeplan_unterschrieben.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 302
    from app.core_models import Attachment
    assert db.session.scalars(select(Attachment.file_name).where(Attachment.doc_entry_id == plan.signed_entry_id)).all() == ["hilfeplan_unterschrieben.pdf"]
    # Next version: the reached goal stays behind, the partly reached goes on with its open measure.
    client.post(f"/care-overview/plan/{plan_id}/new-version")
    db.session.expire_all()
    Plan, Goal = registry.model("help_plan"), registry.model("help_goal")
    new = db.session.scalars(select(Plan).where(Plan.care_id == care).order_by(Plan.plan_version.desc())).first()
    assert new.plan_version == 2 and db.session.get(Plan, plan_id).state.code == "superseded"
    assert [g.goal for g in db.session.scalars(select(Goal).where(Goal.plan_id == new.id))] == ["Schulden geordnet"]
    # Closing: refused without a result (REST 400, the form's message), accepted with one.
    refused = client.put(f"/api/v1/care/{care}", json={"ended_on": "2026-07-31"})
    assert refused.status_code == 400 and "nur mit Ergebnis" in refused.get_json()["message"]
    _ok(client.put(f"/api/v1/care/{care}", json={"ended_on": "2026-07-31",
                                                 "result": factory.value("care_result", "teilweise").id}), 200)


def test_closing_form_without_result_keeps_the_care_open(client, factory, care_case):
    from app.extensions import db
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    case, worker = care_case
    login(client, "sozialarbeit_nord")
    care = _ok(client.post("/api/v1/care/", json={"case": case.id, "started_on": "2026-01-05",
                                                  "legal_basis": factory.value("care_legal_basis", "own_help").id}))["id"]
    page = client.post(f"/care/edit/{care}", data={"case": str(case.id), "started_on": "05.01.2026", "legal_basis": str(
        factory.value("care_legal_basis", "own_help").id), "ended_on": "31.07.2026", "result": ""},
        follow_redirects=True).get_data(as_text=True)
    assert "nur mit Ergebnis" in page
    db.session.expire_all()
    assert db.session.get(registry.model("care"), care).ended_on is None


def test_closing_the_care_marks_its_open_tasks_entfallen(client, factory, care_case):
    """Closing a Betreuung (end + result): the open measure's task and the review reminder leave the worklist
    as "entfallen" on the end date; a done measure's task stays done; editing the open measure later does not
    reopen its task."""
    from app.extensions import db
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    case, worker = care_case
    login(client, "sozialarbeit_nord")
    care, plan_id, goals, measure_id = _plan_with_goals(client, factory, case, worker)
    done = _ok(client.post("/api/v1/help_measure/", json={
        "goal": goals[0], "action": "Mietvertrag prüfen", "responsible": factory.value("help_party", "client").id,
        "due_on": (clock.today() + timedelta(days=3)).isoformat(), "done_on": clock.today().isoformat()}))["id"]
    Plan, Measure = registry.model("help_plan"), registry.model("help_measure")
    end = clock.today().isoformat()
    _ok(client.put(f"/api/v1/care/{care}", json={"ended_on": end,
                                                 "result": factory.value("care_result", "teilweise").id}), 200)
    db.session.expire_all()
    task = db.session.get(Measure, measure_id).task
    assert (task.state.code, task.done_on) == ("cancelled", clock.today())
    assert db.session.get(Plan, plan_id).review_task.state.code == "cancelled"
    done_task = db.session.get(Measure, done).task
    assert done_task is None or done_task.state.code == "done"
    worklist = client.get("/worklist/").get_data(as_text=True)
    assert "Termin bei der Schuldnerberatung" not in worklist and "Fortschreibung Hilfeplan" not in worklist
    _ok(client.put(f"/api/v1/help_measure/{measure_id}", json={"action": "Termin abgesagt"}), 200)
    db.session.expire_all()
    assert db.session.get(Measure, measure_id).task.state.code == "cancelled"
