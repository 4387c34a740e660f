"""Issue 4's one button: an entry "1. Einladung Räumungsklage" makes its letter with the client's address,
the clerk's letterhead and a proposed appointment, archived with the entry."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from app import clock  # Berlin's date: the app's today, also in the hour after Berlin's midnight
from app.actor import Actor
from tests.conftest import login
from tests.unit.letter_docs import text_of

SYSTEM = Actor.system("test")  # outside a request the archive shows nothing without an actor (#10)


@pytest.fixture
def entry(ctx, factory):
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.letters.models import Letter, StaffDetails
    ctx.config["FACHSTELLE_LETTERS_PDF"] = "off"
    clerk = ctx.appbuilder.sm.find_user(username="sachbearbeitung_nord")
    db.session.add(StaffDetails(user_id=clerk.id, address_as="Herr", room="204", phone="0411/11151223", sign="27/92"))
    db.session.commit()
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    service = registry.model("service")
    partner = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Wonlos",
                      first_name="Günther", sex=factory.value("sex", "male"))
    factory("address", "nord", partner=partner, kind=factory.value("address_kind", "main"), street="Lagesche Str.",
            house_number="1", postcode="33102", city="Paderborn", country="Deutschland")
    case = factory("case", "nord", client=partner, file_number="2026/0815", opened_on=date(2026, 11, 1),
                   status=factory.value("case_status", "open"))
    invitation = db.session.scalars(select(service).where(service.code == "einladung_raeumungsklage")).one()
    made = factory("doc_entry", "nord", case=case, service=invitation, entry_date=clock.today(), provider=clerk)
    yield made
    db.session.rollback()
    db.session.execute(delete(Letter))
    db.session.execute(delete(StaffDetails))
    db.session.commit()
    ctx.config.pop("FACHSTELLE_LETTERS_PDF", None)


def test_one_button_letter_with_address_letterhead_and_proposed_appointment(client, entry):
    from app.extensions import db
    from app.letters.archive import letter_file
    from app.letters.models import Letter
    login(client, "sachbearbeitung_nord")
    page = client.get(f"/doc-entry/show/{entry.id}").get_data(as_text=True)
    assert "Brief erzeugen" in page
    response = client.post(f"/entry-letter/{entry.id}", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "erstellt und beim Eintrag archiviert" in html and "Vorgeschlagener Termin" in html
    letter = db.session.scalars(select(Letter)).one()
    assert letter.doc_entry_id == entry.id and letter.case_id == entry.case_id
    text = text_of(letter_file(db.session, letter.id, actor=SYSTEM).data)
    for expected in ("Herrn", "Günther Wonlos", "Lagesche Str. 1", "33102 Paderborn", "Sehr geehrter Herr Wonlos",
                     "204", "27/92"):
        assert expected in text, expected
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    proposed = db.session.scalars(select(registry.model("appointment"))).one()
    assert proposed.starts_on.strftime("%d.%m.%Y") in text and proposed.starts_at in text
    # Archived with the entry: listed there and downloadable, unchanged.
    page = client.get(f"/doc-entry/show/{entry.id}").get_data(as_text=True)
    assert letter.file_name in page
    download = client.get(f"/letters/{letter.id}/docx")
    assert download.status_code == 200 and text_of(download.data) == text


def test_second_letter_reuses_the_appointment(client, entry):
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    client.post(f"/entry-letter/{entry.id}")
    client.post(f"/entry-letter/{entry.id}")
    registry = client.application.config["FACHSTELLE_REGISTRY"]
    assert len(list(db.session.scalars(select(registry.model("appointment"))))) == 1


def test_other_unit_gets_404(client, entry):
    login(client, "sachbearbeitung_sued")
    assert client.post(f"/entry-letter/{entry.id}").status_code == 404
    assert client.get(f"/doc-entry/show/{entry.id}").status_code == 404


def test_missing_address_is_named_and_nothing_archived(client, ctx, entry):
    from app.extensions import db
    from app.letters.models import Letter
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    db.session.execute(delete(registry.model("address")))
    db.session.commit()
    login(client, "sachbearbeitung_nord")
    html = client.post(f"/entry-letter/{entry.id}", follow_redirects=True).get_data(as_text=True)
    assert "fehlt" in html and "Briefformular" in html
    assert db.session.scalars(select(Letter)).first() is None


def test_letter_reads_court_and_eviction_data_from_the_notice_pages(client, ctx, entry, factory):
    from app.extensions import db
    from app.letters.sources import case_letter_context
    court = factory("partner", None, kind=factory.value("partner_kind", "institution"), surname="Amtsgericht Mitte")
    factory("eviction_lawsuit", "nord", case=entry.case, court=court, court_file_number="12 C 345/26",
            received_on=date(2026, 11, 2), hearing_on=date(2027, 1, 14))
    factory("forced_eviction", "nord", case=entry.case, received_on=date(2026, 11, 20),
            eviction_on=date(2026, 12, 15), eviction_at="09:00")
    clerk = ctx.appbuilder.sm.find_user(username="sachbearbeitung_nord")
    facts = case_letter_context(db.session, entry.case_id, user=clerk)["case"]
    assert (facts["court"], facts["court_file_number"], facts["hearing_date"], facts["eviction_date"]) == (
        "Amtsgericht Mitte", "12 C 345/26", "14.01.2027", "15.12.2026")


def test_series_of_todays_lawsuit_notices(client, ctx, entry, factory):
    """The day's standard letters in one series: every case whose court notice came in today, own unit only."""
    from app.extensions import db
    factory("eviction_lawsuit", "nord", case=entry.case, received_on=clock.today(), court_file_number="1 C 1/26")
    other = factory("partner", "sued", kind=factory.value("partner_kind", "person"), surname="Südlich")
    sued_case = factory("case", "sued", client=other, opened_on=clock.today(), status=factory.value("case_status", "open"))
    factory("eviction_lawsuit", "sued", case=sued_case, received_on=clock.today())
    login(client, "sachbearbeitung_nord")
    page = client.get("/letters/series/?notices=lawsuit").get_data(as_text=True)
    assert f"#{entry.case_id}" in page and f"#{sued_case.id}" not in page
    assert 'value="einladung_raeumungsklage" selected' in page
    db.session.rollback()


def test_archived_letter_is_in_the_case_and_entry_history(client, entry):
    # #11: a letter made and archived shows up in the history of its case and of its entry.
    from app.core_models import ChangeLog
    from app.extensions import db
    from app.letters.models import Letter
    login(client, "sachbearbeitung_nord")
    client.post(f"/entry-letter/{entry.id}")
    letter = db.session.scalars(select(Letter)).one()
    for entity, record_id in (("case", entry.case_id), ("doc_entry", entry.id)):
        logged = db.session.scalars(select(ChangeLog).where(ChangeLog.entity == entity,
                                                            ChangeLog.record_id == record_id,
                                                            ChangeLog.action == "letter_archived")).one()
        assert logged.new_value == letter.file_name and logged.changed_by == "sachbearbeitung_nord"
    assert "Brief archiviert" in client.get(f"/case/show/{entry.case_id}").get_data(as_text=True)
