"""Registering court and bailiff notices: client, case, notice page, entry and the standard procedure's tasks."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app import clock  # Berlin's date: the app's today, also in the hour after Berlin's midnight
from app.actor import Actor
from app.errors import DomainError


@pytest.fixture
def reg(ctx):
    from app.extensions import db
    from app.services import notices
    from app.services.history import acting_as
    registry = ctx.config["FACHSTELLE_REGISTRY"]

    system = Actor.system("test")  # outside a request nothing is visible without an actor (#10)

    class Reg:
        def lawsuit(self, **kw):
            with acting_as(system):
                result = notices.register_lawsuit(db.session, today=date(2026, 12, 1), actor=system, **kw)
                db.session.commit()
            return result

        def eviction(self, **kw):
            with acting_as(system):
                result = notices.register_forced_eviction(db.session, today=date(2026, 12, 1), actor=system, **kw)
                db.session.commit()
            return result

        def count(self, name):
            return len(list(db.session.scalars(select(registry.model(name)))))

    r = Reg()
    r.registry, r.notices = registry, notices
    return r


def test_new_client_gets_case_page_notice_entry_and_letter_task(reg, factory):
    court = factory("partner", None, kind=factory.value("partner_kind", "institution"), surname="Amtsgericht Mitte")
    from app.core_models import OrgUnit
    from app.extensions import db
    nord = db.session.scalars(select(OrgUnit).where(OrgUnit.code == "nord")).one()
    result = reg.lawsuit(received_on=date(2026, 11, 27), court=court, court_file_number="12 C 345/26",
                         org_unit_id=nord.id,
                         hearing_on=date(2027, 1, 14),
                         person=reg.notices.NewPerson(surname="Wonlos", first_name="Günther",
                                                      birth_date=date(1969, 5, 13), street="Lagesche Str.",
                                                      house_number="1", postcode="33102", city="Paderborn"))
    assert result.created_client and result.created_case
    case = result.case
    assert case.client.surname == "Wonlos" and case.opened_on == date(2026, 11, 27)
    assert case.file_number == f"2026/{case.id:06d}"
    assert case.org_unit.code == "nord" and case.client.org_unit.code == "nord"
    page = reg.registry.model("housing_emergency")
    emergency = db.session.scalars(select(page).where(page.case_id == case.id)).one()
    assert (emergency.threatened_by.code, emergency.known_through.code) == ("raeumungsklage", "amtsgericht")
    assert result.notice.court_file_number == "12 C 345/26"
    assert [e.measurement_point.code for e in result.entries] == ["klage_eingang"]
    # Fri 27 Nov 2026 -> 3 working days: Mon 30 Nov, Tue 1 Dec, Wed 2 Dec.
    assert [(t.title, t.due_on) for t in result.tasks] == [("Standardanschreiben Räumungsklage versenden",
                                                             date(2026, 12, 2))]


def test_known_client_reuses_the_open_case(reg, factory):
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Meier")
    first = reg.lawsuit(received_on=date(2026, 11, 2), client=person)
    second = reg.eviction(received_on=date(2026, 11, 30), eviction_on=date(2026, 12, 15), eviction_at="09:00",
                          client=person)
    assert not second.created_case and second.case.id == first.case.id
    assert reg.count("case") == 1


def test_forced_eviction_tasks_and_contact_cancels_attendance(reg, factory):
    from app.extensions import db
    person = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Schulz")
    result = reg.eviction(received_on=date(2026, 11, 30), eviction_on=date(2026, 12, 15), eviction_at="09:00",
                          client=person)
    assert [e.measurement_point.code for e in result.entries] == ["zr_mitteilung_eingang", "zr_termin"]
    assert [(t.title, t.due_on) for t in result.tasks] == [
        ("Standardanschreiben Zwangsräumung versenden", date(2026, 12, 3)),
        ("Anwesenheit bei der Zwangsräumung (Räumung am 15.12.2026 um 09:00 Uhr)", date(2026, 12, 15))]
    # The client calls: attendance is no longer the standard's business; the letter still is.
    entry_model, service = reg.registry.model("doc_entry"), reg.registry.model("service")
    call = entry_model(case=result.case, entry_date=date(2026, 12, 1),
                       service=db.session.scalars(select(service).where(service.code == "beratung_telefonisch")).one())
    call.org_unit_id = result.case.org_unit_id
    db.session.add(call)
    db.session.commit()
    db.session.expire_all()
    states = {t.title.split(" ")[0]: t.state.code for t in db.session.scalars(select(reg.registry.model("task")))}
    assert states == {"Standardanschreiben": "open", "Anwesenheit": "cancelled"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"received_on": date(2026, 12, 2)}, "Eingangsdatum der Mitteilung liegt in der Zukunft"),
    ({"received_on": date(2026, 11, 2), "hearing_on": date(2026, 10, 1)}, "Verhandlungstermin liegt vor"),
    ({"received_on": date(2026, 11, 2)}, "Bitte eine Person auswählen"),
    ({"received_on": date(2026, 11, 2), "person": None}, "Bitte eine Person"),
], ids=["future-receipt", "hearing-before-receipt", "no-client", "no-person"])
def test_bad_input_is_a_german_message_and_writes_nothing(reg, kwargs, message):
    from app.extensions import db
    with pytest.raises(DomainError, match=message):
        reg.lawsuit(**kwargs)
    db.session.rollback()
    assert reg.count("case") == 0


def test_clerk_registers_a_lawsuit_in_the_browser_form(client, reg, factory):
    from tests.conftest import login
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    page = client.get("/notices/lawsuit").get_data(as_text=True)
    assert "Räumungsklage erfassen" in page and "Eingang der Mitteilung" in page
    court = factory("partner", None, kind=factory.value("partner_kind", "institution"), surname="Amtsgericht Mitte")
    today = clock.today().strftime("%d.%m.%Y")
    response = client.post("/notices/lawsuit", data={
        "surname": "Neumann", "first_name": "Erika", "birth_date": "01.02.1970", "street": "Hauptstraße",
        "house_number": "5", "postcode": "12345", "city": "Musterstadt", "court": court.id,
        "court_file_number": "12 C 99/26", "received_on": today}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Räumungsklage erfasst (neue Person und neue Fallakte)" in html
    assert "Standardanschreiben Räumungsklage versenden: fällig am" in html
    case = db.session.scalars(select(reg.registry.model("case"))).one()
    assert case.client.surname == "Neumann" and case.org_unit.code == "nord"


def test_bad_form_input_keeps_what_was_typed(client, reg):
    from tests.conftest import login
    login(client, "sachbearbeitung_nord")
    html = client.post("/notices/eviction", data={"surname": "Neumann", "received_on": "31.02.2026",
                                                  "eviction_on": "", "eviction_at": "25:00"}).get_data(as_text=True)
    assert "kein gültiges Datum" in html and "Pflichtfeld" in html and "Uhrzeit als SS:MM" in html
    assert 'value="Neumann"' in html
    assert reg.count("case") == 0


@pytest.mark.parametrize(("typed", "stored"), [
    ("9.30 Uhr", "09:30"),  # dot and "Uhr", as written in the bailiff's letter
    ("14:05", "14:05"),     # as before
    ("10 Uhr", "10:00"),    # the full hour
], ids=["dot-uhr", "colon", "full-hour"])
def test_eviction_time_is_read_as_clerks_write_it(client, reg, factory, typed, stored):
    # #10: one time parser (app.domain.dates) for every page; the form accepted only "SS:MM" before.
    from tests.conftest import login
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    today = clock.today().strftime("%d.%m.%Y")
    response = client.post("/notices/eviction", data={
        "surname": "Neumann", "first_name": "Erika", "birth_date": "01.02.1970", "received_on": today,
        "eviction_on": "15.12.2030", "eviction_at": typed}, follow_redirects=True)
    assert "Zwangsräumung erfasst" in response.get_data(as_text=True)
    eviction = db.session.scalars(select(reg.registry.model("forced_eviction"))).one()
    assert eviction.eviction_at == stored


def test_controlling_may_not_register(client, reg):
    from tests.conftest import login
    login(client, "controlling_nord")
    assert client.get("/notices/lawsuit").status_code in (302, 403)


def test_a_typed_in_person_who_may_exist_gets_the_duplicate_step(client, reg, factory):
    # #11: the duplicate step of the partner form here too, with surname and birth date only; nothing is
    # saved before "Trotzdem anlegen".
    from tests.conftest import login
    factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Meier",
            first_name="Sieglinde", birth_date=date(1963, 10, 31))
    login(client, "sachbearbeitung_nord")
    data = {"surname": "Meier", "birth_date": "31.10.1963", "received_on": clock.today().strftime("%d.%m.%Y")}
    html = client.post("/notices/lawsuit", data=data).get_data(as_text=True)
    assert "Möglicher Doppelsatz" in html and "Meier, 31.10.1963 ist vielleicht schon erfasst" in html
    assert "Vorhandenen öffnen" in html and "Trotzdem anlegen" in html and 'value="Meier"' in html
    assert reg.count("case") == 0
    html = client.post("/notices/lawsuit", data={**data, "fs_confirm_new": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Räumungsklage erfasst (neue Person und neue Fallakte)" in html
    assert reg.count("case") == 1
