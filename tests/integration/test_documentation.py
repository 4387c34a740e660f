"""Documentation entries and the rules of the service catalogue: snapshot, follow-ups, closing tasks.

The follow-up rules of config/services.yaml, in the NRW calendar of the base configuration:
receipt of a lawsuit notice -> "Standardanschreiben" due 3 working days later; the invitation letter
closes it and opens "1. Hausbesuch" due 10 working days after the letter, which a contact cancels and
a home visit completes.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app import clock  # Berlin's date: the app's today, also in the hour after Berlin's midnight
from tests.conftest import login


@pytest.fixture
def docs(ctx, factory):
    """A client and a case of Fachstelle Nord, and helpers to record entries as the CLI would."""
    from app.extensions import db
    from app.services.history import acting_as

    registry = ctx.config["FACHSTELLE_REGISTRY"]
    Service, Entry, Task = (registry.model(n) for n in ("service", "doc_entry", "task"))
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Wonlos",
                     first_name="Günther")
    case = factory("case", "nord", client=person, opened_on=date(2026, 11, 2),
                   status=factory.value("case_status", "open"), file_number="2026/0815")

    class Docs:
        def service(self, code):
            return db.session.scalars(select(Service).where(Service.code == code)).one()

        def record(self, code, on, **values):
            entry = Entry(case=case, service=self.service(code), entry_date=on, **values)
            entry.org_unit_id = case.org_unit_id
            with acting_as("test"):
                db.session.add(entry)
                db.session.commit()
            return entry

        def tasks(self):
            db.session.expire_all()
            rows = db.session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id))
            return [(t.title, t.due_on, t.state.code, t.done_on) for t in rows]

    d = Docs()
    d.case, d.registry = case, registry
    return d


def test_lawsuit_notice_letter_visit_chain(docs):
    # Mon 2 Nov 2026: notice received -> letter due Thu 5 Nov (3 working days, the day itself not counted).
    docs.record("klage_eingang", date(2026, 11, 2))
    assert docs.tasks() == [("Standardanschreiben Räumungsklage versenden", date(2026, 11, 5), "open", None)]
    # Letter sent Wed 4 Nov: that task is done; the first home visit is due 10 working days later, 18 Nov.
    docs.record("einladung_raeumungsklage", date(2026, 11, 4))
    assert docs.tasks() == [
        ("Standardanschreiben Räumungsklage versenden", date(2026, 11, 5), "done", date(2026, 11, 4)),
        ("1. Hausbesuch (keine Reaktion auf das Anschreiben)", date(2026, 11, 18), "open", None)]
    # The home visit completes it.
    docs.record("hausbesuch", date(2026, 11, 16), in_pairs=True)
    assert docs.tasks()[1][2:] == ("done", date(2026, 11, 16))


def test_contact_cancels_the_home_visit(docs):
    docs.record("einladung_raeumungsklage", date(2026, 11, 4))
    docs.record("beratung_telefonisch", date(2026, 11, 6), info="Klient ruft an")
    assert docs.tasks() == [("1. Hausbesuch (keine Reaktion auf das Anschreiben)", date(2026, 11, 18), "cancelled",
                             date(2026, 11, 6))]


def test_due_dates_skip_holidays(docs):
    # Thu 24 Dec 2026: 25/26 Dec are holidays, then a weekend -> 3rd working day is Wed 30 Dec.
    docs.record("klage_eingang", date(2026, 12, 24))
    assert docs.tasks()[0][1] == date(2026, 12, 30)


def test_entry_keeps_the_meaning_it_had(docs, factory):
    from app.extensions import db
    entry = docs.record("beratung_persoenlich", date(2026, 11, 3))
    assert (entry.measurement_point.code, entry.counts_as_contact) == ("kontakt", True)
    service = docs.service("beratung_persoenlich")
    service.measurement_point = factory.value("measurement_point", "hausbesuch")
    service.counts_as_contact = False
    db.session.commit()
    db.session.expire_all()
    entry = db.session.get(docs.registry.model("doc_entry"), entry.id)
    assert (entry.measurement_point.code, entry.counts_as_contact) == ("kontakt", True)


def test_form_entry_creates_follow_up_for_the_clerk(client, docs):
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    service = docs.service("klage_eingang")
    response = client.post(f"/doc-entry/add?_flt_0_case={docs.case.id}",
                           data={"entry_date": "02.11.2026", "service": service.id, "info": "AG Mitte 12 C 345/26"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    task = db.session.scalars(select(docs.registry.model("task")).where(
        docs.registry.model("task").case_id == docs.case.id)).one()
    assert task.assignee.username == "sachbearbeitung_nord"
    assert task.source_entry.provider.username == "sachbearbeitung_nord"  # the entry keeps its provider too
    assert task.org_unit.code == "nord"
    assert task.source_entry.info == "AG Mitte 12 C 345/26"


def test_rest_entry_applies_the_same_rules(client, docs):
    login(client, "sachbearbeitung_nord")
    service = docs.service("klage_eingang")
    response = client.post("/api/v1/doc_entry/", json={"case": docs.case.id, "service": service.id,
                                                       "entry_date": "2026-11-02"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert docs.tasks() == [("Standardanschreiben Räumungsklage versenden", date(2026, 11, 5), "open", None)]


@pytest.mark.parametrize(("user", "deleted"), [
    ("sachbearbeitung_nord", False),  # clerks document; deleting needs a privileged profile
    ("teamleitung_nord", True),
])
def test_only_privileged_profiles_delete_entries(client, docs, user, deleted):
    from app.extensions import db
    entry = docs.record("notiz", date(2026, 11, 3), info="Aktennotiz")
    login(client, user)
    response = client.post(f"/doc-entry/delete/{entry.id}")
    assert response.status_code in ((302,) if deleted else (302, 403))
    db.session.expire_all()
    assert (db.session.get(docs.registry.model("doc_entry"), entry.id) is None) == deleted


def test_editing_after_24_hours_is_marked_in_the_history(client, docs):
    from datetime import datetime, timedelta, timezone

    from app.core_models import ChangeLog
    from app.extensions import db
    entry = docs.record("notiz", date(2026, 11, 3), info="Aktennotiz")
    entry.created_at = datetime.now(timezone.utc) - timedelta(hours=25)
    db.session.commit()
    login(client, "sachbearbeitung_nord")
    response = client.post(f"/doc-entry/edit/{entry.id}", data={
        "case": docs.case.id, "entry_date": "03.11.2026", "service": entry.service_id, "info": "Aktennotiz, ergänzt"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    actions = [c.action for c in db.session.scalars(select(ChangeLog).where(
        ChangeLog.entity == "doc_entry", ChangeLog.record_id == entry.id))]
    assert "late_edit" in actions and "update" in actions
    page = client.get(f"/doc-entry/show/{entry.id}").get_data(as_text=True)
    assert "nachträglich geändert" in page


def test_fresh_edit_is_not_marked(client, docs):
    from app.core_models import ChangeLog
    from app.extensions import db
    entry = docs.record("notiz", date(2026, 11, 3), info="Aktennotiz")
    login(client, "sachbearbeitung_nord")
    client.post(f"/doc-entry/edit/{entry.id}", data={"case": docs.case.id, "entry_date": "03.11.2026", "service": entry.service_id,
                                                     "info": "Aktennotiz, ergänzt"})
    actions = [c.action for c in db.session.scalars(select(ChangeLog).where(
        ChangeLog.entity == "doc_entry", ChangeLog.record_id == entry.id))]
    assert "update" in actions and "late_edit" not in actions


def test_retired_service_is_not_offered_but_old_entries_keep_it(client, docs):
    from datetime import timedelta

    from app.extensions import db
    entry = docs.record("notiz", date(2026, 11, 3), info="Aktennotiz")
    note = docs.service("notiz")
    login(client, "sachbearbeitung_nord")
    assert "Aktennotiz" in [r["text"] for r in client.get("/typeahead/service?q=akten").get_json()["results"]]
    note.active_to = clock.today() - timedelta(days=1)
    db.session.commit()
    assert client.get("/typeahead/service?q=akten").get_json()["results"] == []
    assert "Aktennotiz" in client.get(f"/doc-entry/show/{entry.id}").get_data(as_text=True)


def test_entries_are_part_of_the_case_history(client, docs):
    from app.extensions import db
    entry = docs.record("notiz", date(2026, 11, 3), info="Aktennotiz")
    login(client, "sachbearbeitung_nord")
    page = client.get(f"/case/show/{docs.case.id}").get_data(as_text=True)
    assert "Doku-Eintrag angelegt" in page and "03.11.2026, Aktennotiz" in page
    db.session.delete(db.session.get(type(entry), entry.id))
    db.session.commit()
    page = client.get(f"/case/show/{docs.case.id}").get_data(as_text=True)
    assert "Doku-Eintrag gelöscht" in page


def test_follow_up_goes_to_the_provider_named_by_id(docs, ctx):
    # REST and imports name the provider by its key only.
    from app.extensions import db
    clerk = ctx.appbuilder.sm.find_user(username="sozialarbeit_nord")
    docs.record("klage_eingang", date(2026, 11, 2), provider_id=clerk.id)
    task = db.session.scalars(select(docs.registry.model("task"))).one()
    assert task.assignee.username == "sozialarbeit_nord"


def test_typeahead_reads_only_the_title_and_joins_nothing(client, docs):
    """A look-up per keystroke: the record's title columns, no joined catalogue values, the same text."""
    from sqlalchemy import event

    from app.extensions import db
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    login(client, "sachbearbeitung_nord")
    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        found = client.get(f"/typeahead/case?q={docs.case.file_number[:4]}").get_json()["results"]
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert docs.case.id in [r["id"] for r in found]
    assert next(r["text"] for r in found if r["id"] == docs.case.id) == str(docs.case)
    read = [s for s in statements if "file_number_lc >=" in s]
    assert len(read) == 1
    assert "catalogue_value" not in read[0] and '"case".created_at' not in read[0]
    assert "JOIN partner" in read[0]  # the client named in the case's title, in the same query
