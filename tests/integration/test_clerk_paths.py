"""Issue #11, item 9: faster clerk paths – the duplicate step, messages that name the record, page titles and
breadcrumbs, the redirect after a save, the one search box, "Brief erzeugen" after saving an entry."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app import clock  # Berlin's date: the app's today, also in the hour after Berlin's midnight
from app.extensions import db
from tests.conftest import login

BORN = date(1963, 10, 31)


def person(factory, unit, surname, first_name=None, birth_date=None, **values):
    return factory("partner", unit, kind=factory.value("partner_kind", "person"), surname=surname,
                   first_name=first_name, birth_date=birth_date, **values)


def partner_rows(ctx, surname):
    model = ctx.config["FACHSTELLE_REGISTRY"].model("partner")
    db.session.expire_all()
    return db.session.scalars(select(model).where(model.surname == surname)).all()


def flashes(body: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m)).replace("&times;", "").strip()
            for m in re.findall(r'<div class="alert alert-\w+">(.*?)</div>', body, re.S)]


# --- the duplicate warning as a step ---------------------------------------------------------------------

def test_a_title_leaves_out_empty_parts(factory):
    assert str(person(factory, "nord", "Meier", "", BORN)) == "Meier, 31.10.1963"
    assert str(person(factory, "nord", "Meier", "  ", None)) == "Meier"


def test_a_likely_duplicate_is_not_saved_until_the_clerk_confirms(client, factory):
    existing = person(factory, "nord", "Meier", "Sieglinde", BORN)
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person").id
    typed = {"kind": kind, "surname": "Meier", "first_name": "", "birth_date": "31.10.1963"}
    response = client.post("/partner/add", data=typed)
    body = response.get_data(as_text=True)
    # Surname and birth date only (no first name) is enough; nothing is saved yet.
    assert response.status_code == 200
    assert [p.id for p in partner_rows(client.application, "Meier")] == [existing.id]
    assert "Möglicher Doppelsatz" in body and "Meier, 31.10.1963 ist vielleicht schon erfasst" in body
    assert "Meier, , " not in body
    assert f'href="/partner/show/{existing.id}"' in body and "Vorhandenen öffnen" in body
    assert 'name="fs_confirm_new"' in body and 'form="model_form"' in body and "Trotzdem anlegen" in body
    assert 'value="31.10.1963"' in body  # the form keeps what was typed

    response = client.post("/partner/add", data={**typed, "fs_confirm_new": "1"})
    rows = partner_rows(client.application, "Meier")
    assert len(rows) == 2
    new = next(p for p in rows if p.id != existing.id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/partner/show/{new.id}")


def test_no_step_without_look_alikes(client, factory):
    person(factory, "nord", "Meier", "Sieglinde", BORN)
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person").id
    response = client.post("/partner/add", data={"kind": kind, "surname": "Meier", "first_name": "Sieglinde",
                                                 "birth_date": "01.01.1990"})
    assert response.status_code == 302 and len(partner_rows(client.application, "Meier")) == 2


# --- messages, redirects, titles, breadcrumbs ------------------------------------------------------------

def test_a_save_names_the_record_and_shows_it(client, factory):
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person").id
    response = client.post("/partner/add", data={"kind": kind, "surname": "Meier", "first_name": "Sieglinde"},
                           headers={"Referer": "http://localhost/partner/list/"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Partner Meier, Sieglinde angelegt." in flashes(body)
    assert "Zeile hinzugefügt" not in body and "Added Row" not in body
    partner = partner_rows(client.application, "Meier")[0]
    assert response.request.path == f"/partner/show/{partner.id}"
    assert "<title>Partner Meier, Sieglinde – Fachstelle</title>" in body

    case = factory("case", "nord", client=partner, file_number="2026/0042", opened_on=date(2026, 11, 1),
                   status=factory.value("case_status", "open"))
    response = client.post(f"/case/edit/{case.id}", data={
        "client": partner.id, "file_number": "2026/0042", "opened_on": "01.11.2026",
        "status": factory.value("case_status", "open").id, "info": "geändert"},
        headers={"Referer": "http://localhost/case/list/"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Fallakte 2026/0042 gespeichert." in flashes(body)
    assert response.request.path == f"/case/show/{case.id}"  # the record, not the browsing history
    assert "<title>Fallakte 2026/0042 – Fachstelle</title>" in body


def test_a_case_file_page_returns_to_its_case_with_breadcrumbs(client, factory):
    partner = person(factory, "nord", "Meier", "Sieglinde", BORN)
    case = factory("case", "nord", client=partner, file_number="2026/0042", opened_on=date(2026, 11, 1),
                   status=factory.value("case_status", "open"))
    service = client.application.config["FACHSTELLE_REGISTRY"].model("service")
    advice = db.session.scalars(select(service).where(service.code == "beratung_persoenlich")).one()
    login(client, "sachbearbeitung_nord")
    response = client.post(f"/doc-entry/add?_flt_0_case={case.id}", data={
        "entry_date": "01.12.2026", "service": advice.id, "info": "Gespräch"},
        headers={"Referer": "http://localhost/doc-entry/list/"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.request.path == f"/case/show/{case.id}"
    assert any(m.startswith("Doku-Eintrag 01.12.2026, Beratung persönlich angelegt.") for m in flashes(body)), flashes(body)
    model = client.application.config["FACHSTELLE_REGISTRY"].model("doc_entry")
    entry = db.session.scalars(select(model).where(model.case_id == case.id)).one()
    page = client.get(f"/doc-entry/show/{entry.id}").get_data(as_text=True)
    crumbs = re.search(r'<ol class="breadcrumb fs-breadcrumb">(.*?)</ol>', page, re.S).group(1)
    assert f'<a href="/case/show/{case.id}">Fallakte 2026/0042</a>' in crumbs
    assert "Doku-Eintrag 01.12.2026, Beratung persönlich" in crumbs
    assert "<title>Doku-Eintrag 01.12.2026, Beratung persönlich – Fachstelle</title>" in page


def test_the_add_form_of_a_case_file_page_shows_where_it_belongs(client, factory):
    partner = person(factory, "nord", "Meier", "Sieglinde", BORN)
    case = factory("case", "nord", client=partner, file_number="2026/0042", opened_on=date(2026, 11, 1),
                   status=factory.value("case_status", "open"))
    login(client, "sachbearbeitung_nord")
    page = client.get(f"/doc-entry/add?_flt_0_case={case.id}").get_data(as_text=True)
    crumbs = re.search(r'<ol class="breadcrumb fs-breadcrumb">(.*?)</ol>', page, re.S).group(1)
    assert f'<a href="/case/show/{case.id}">Fallakte 2026/0042</a>' in crumbs and "Doku-Eintrag (neu)" in crumbs
    assert "<title>Doku-Eintrag (neu) – Fachstelle</title>" in page
    other = factory("case", "sued", client=person(factory, "sued", "Kurz", "Karl", BORN), file_number="2026/0099",
                    opened_on=date(2026, 11, 1), status=factory.value("case_status", "open"))
    page = client.get(f"/doc-entry/add?_flt_0_case={other.id}").get_data(as_text=True)
    assert "2026/0099" not in page  # another unit's case is not named


# --- the one search box --------------------------------------------------------------------------------

def _case(factory, client_partner, number, unit="nord"):
    return factory("case", unit, client=client_partner, file_number=number, opened_on=date(2026, 11, 1),
                   status=factory.value("case_status", "open"))


def test_the_search_box_opens_a_single_match(client, factory):
    sieglinde = person(factory, "nord", "Meier", "Sieglinde", BORN)
    hans = person(factory, "nord", "Meier", "Hans", date(1970, 2, 1))
    case = _case(factory, sieglinde, "2026/0042")
    _case(factory, hans, "2026/0043")
    _case(factory, hans, "2026/0044")
    login(client, "sachbearbeitung_nord")
    home = client.get("/").get_data(as_text=True)
    assert 'action="/search/"' in home and 'name="q"' in home
    assert 'id="fs-search-nav"' in client.get("/partner/list/").get_data(as_text=True)  # the navbar too

    for typed, target in (("2026/0042", f"/case/show/{case.id}"),          # Aktenzeichen
                          ("31.10.1963", f"/case/show/{case.id}"),         # birth date: one partner, one case
                          ("Meier, Sieglinde", f"/case/show/{case.id}"),
                          ("Sieglinde Meier", f"/case/show/{case.id}"),
                          ("01.02.1970", None)):                             # one partner, two cases: a list
        response = client.get("/search/", query_string={"q": typed})
        if target:
            assert response.status_code == 302 and response.headers["Location"].endswith(target), typed
        else:
            body = response.get_data(as_text=True)
            assert response.status_code == 200 and "2026/0043" in body and "2026/0044" in body
            assert f'href="/partner/show/{hans.id}"' in body

    body = client.get("/search/", query_string={"q": "meier"}).get_data(as_text=True)
    assert f'href="/partner/show/{sieglinde.id}"' in body and f'href="/partner/show/{hans.id}"' in body
    assert f'href="/case/show/{case.id}"' in body
    # No name begins so: those that sound alike are listed (with a note), not opened.
    response = client.get("/search/", query_string={"q": "Maier, Sieglinde"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "ähnlich klingende Namen" in body
    assert f'href="/partner/show/{sieglinde.id}"' in body


def test_the_search_box_finds_only_the_users_units(client, factory):
    sued = person(factory, "sued", "Südmann", "Karl", BORN)
    _case(factory, sued, "2026/0900", unit="sued")
    login(client, "sachbearbeitung_nord")
    for typed in ("2026/0900", "31.10.1963", "Südmann"):
        response = client.get("/search/", query_string={"q": typed})
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "Nichts gefunden" in body and "Südmann" not in body.replace(typed, ""), typed


# --- "Brief erzeugen" right after saving -------------------------------------------------------------------

import pytest  # noqa: E402


@pytest.fixture
def letters_ready(ctx):
    from sqlalchemy import delete

    from app.letters.models import Letter, StaffDetails
    ctx.config["FACHSTELLE_LETTERS_PDF"] = "off"
    clerk = ctx.appbuilder.sm.find_user(username="sachbearbeitung_nord")
    db.session.add(StaffDetails(user_id=clerk.id, address_as="Frau", room="204", phone="0411/1", sign="27/92"))
    db.session.commit()
    yield clerk
    db.session.rollback()
    db.session.execute(delete(Letter))
    db.session.execute(delete(StaffDetails))
    db.session.commit()
    ctx.config.pop("FACHSTELLE_LETTERS_PDF", None)


def _post_button(client, body: str, label: str):
    """Click the POST button labelled ``label`` of a page (a form with its CSRF token)."""
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', body, re.S)
    action = next(url for url, inner in forms if label in inner)
    return client.post(action, follow_redirects=True)


def test_after_a_lawsuit_notice_the_letter_is_two_clicks_away(client, factory, letters_ready):
    from app.letters.models import Letter
    court = factory("partner", None, kind=factory.value("partner_kind", "institution"), surname="Amtsgericht Mitte")
    login(client, "sachbearbeitung_nord")
    saved = client.post("/notices/lawsuit", data={
        "surname": "Neumann", "first_name": "Erika", "birth_date": "01.02.1970", "street": "Hauptstraße",
        "house_number": "5", "postcode": "12345", "city": "Musterstadt", "court": court.id,
        "court_file_number": "12 C 99/26", "received_on": clock.today().strftime("%d.%m.%Y")},
        follow_redirects=True).get_data(as_text=True)
    assert "1. Einladung Räumungsklage: Brief erzeugen" in saved
    # Click 1: the entry "1. Einladung Räumungsklage" and its letter.
    made = _post_button(client, saved, "1. Einladung Räumungsklage: Brief erzeugen")
    body = made.get_data(as_text=True)
    assert made.status_code == 200 and "erstellt und beim Eintrag archiviert" in body, flashes(body)
    letter = db.session.scalars(select(Letter)).one()
    entry = db.session.get(client.application.config["FACHSTELLE_REGISTRY"].model("doc_entry"), letter.doc_entry_id)
    assert entry.service.code == "einladung_raeumungsklage"
    # The follow-up "Standardanschreiben Räumungsklage versenden" is done by the entry (as from the form).
    task = client.application.config["FACHSTELLE_REGISTRY"].model("task")
    titles = {t.title: t.state.code for t in db.session.scalars(select(task).where(task.case_id == entry.case_id))}
    assert titles.get("Standardanschreiben Räumungsklage versenden") != "open", titles
    # Click 2: the letter itself.
    link = re.search(r'href="(/[^"]+)"[^>]*><i class="fa fa-file-word-o"></i> Brief öffnen', body).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data[:2] == b"PK"


def test_saving_an_entry_with_a_letter_template_offers_the_letter(client, factory, letters_ready):
    partner = person(factory, "nord", "Neumann", "Erika", BORN)
    factory("address", "nord", partner=partner, kind=factory.value("address_kind", "main"), street="Hauptstraße",
            house_number="5", postcode="12345", city="Musterstadt", country="Deutschland")
    case = _case(factory, partner, "2026/0042")
    service = client.application.config["FACHSTELLE_REGISTRY"].model("service")
    invitation = db.session.scalars(select(service).where(service.code == "einladung_raeumungsklage")).one()
    advice = db.session.scalars(select(service).where(service.code == "beratung_persoenlich")).one()
    login(client, "sachbearbeitung_nord")
    body = client.post(f"/doc-entry/add?_flt_0_case={case.id}", data={
        "entry_date": clock.today().strftime("%d.%m.%Y"), "service": invitation.id},
        follow_redirects=True).get_data(as_text=True)
    assert "Brief erzeugen" in " ".join(flashes(body))
    made = _post_button(client, body, "Brief erzeugen").get_data(as_text=True)
    assert "erstellt und beim Eintrag archiviert" in made
    body = client.post(f"/doc-entry/add?_flt_0_case={case.id}", data={
        "entry_date": clock.today().strftime("%d.%m.%Y"), "service": advice.id},
        follow_redirects=True).get_data(as_text=True)
    assert "Brief erzeugen" not in " ".join(flashes(body))  # no template, no button


# --- each error message once -------------------------------------------------------------------------------

def test_a_too_long_name_is_reported_once_in_german(client, factory):
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person").id
    for url in ("/partner/add", "/partner/add"):  # the second request builds nothing anew: still once
        body = client.post(url, data={"kind": kind, "surname": "M" * 121, "first_name": "Sieglinde"}).get_data(as_text=True)
        errors = re.findall(r'<div class="alert alert-danger">(.*?)</div>', body, re.S)
        assert [" ".join(e.split()) for e in errors] == ["Höchstens 120 Zeichen."], errors
        assert "länger als" not in body
    assert partner_rows(client.application, "M" * 121) == []


# --- "Sachbearbeitung" is a user, and "Meine Fälle" ------------------------------------------------------

def test_sachbearbeitung_defaults_to_the_creating_clerk_and_my_cases_lists_them(client, factory):
    partner = person(factory, "nord", "Meier", "Sieglinde", BORN)
    other = _case(factory, partner, "2026/0001")  # nobody's
    login(client, "sachbearbeitung_nord")
    form = client.get(f"/case/add?_flt_0_client={partner.id}").get_data(as_text=True)
    me = client.application.appbuilder.sm.find_user(username="sachbearbeitung_nord")
    assert re.search(rf'<select[^>]*name="clerk_user"[^>]*>.*?<option selected value="{me.id}"', form, re.S) \
        or re.search(rf'<option[^>]*value="{me.id}"[^>]*selected', form), "Sachbearbeitung is not preset"
    assert 'name="clerk"' not in form  # the old free text is no longer edited
    response = client.post(f"/case/add", data={
        "client": partner.id, "file_number": "2026/0042", "opened_on": "01.11.2026",
        "status": factory.value("case_status", "open").id, "clerk_user": me.id})
    assert response.status_code == 302
    model = client.application.config["FACHSTELLE_REGISTRY"].model("case")
    mine = db.session.scalars(select(model).where(model.file_number == "2026/0042")).one()
    assert mine.clerk_user_id == me.id
    home = client.get("/").get_data(as_text=True)
    assert 'href="/my-cases/"' in home and "Meine Fälle" in home
    assert "Meine Fälle" in client.get("/partner/list/").get_data(as_text=True)  # in the menu
    listing = client.get("/my-cases/").get_data(as_text=True)
    assert f"/case/show/{mine.id}" in listing and f"/case/show/{other.id}" not in listing
    assert "<title>Meine Fälle – Fachstelle</title>" in listing and "Meier, Sieglinde" in listing


def test_every_search_lookup_reads_an_index(ctx, factory):
    """City size (200,000 partners): no look-up of the search box scans the partner or case table."""
    from sqlalchemy import event, text

    from app.actor import Actor
    from app.domain.quick_search import read_query
    from app.services.search import quick_search
    sieglinde = person(factory, "nord", "Meier", "Sieglinde", BORN)
    _case(factory, sieglinde, "2026/0042")
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    engine = db.session.get_bind()
    actor = Actor(name="test", units=(sieglinde.org_unit_id,))
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for typed in ("Meier, Sieglinde", "Sieglinde Meier", "31.10.1963", "2026/0042", "Maier"):
            quick_search(db.session, read_query(typed), actor)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    conn = db.session.connection()
    looked = [(s, p) for s, p in statements if 'FROM partner' in s or 'FROM "case"' in s]
    assert len(looked) >= 8
    for statement, parameters in looked:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "INDEX" in plan or "PRIMARY KEY" in plan, (statement, plan)
            assert not re.search(r"SCAN (partner|case)\b(?! USING)", plan), (statement, plan)
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "Seq Scan on partner" not in plan and "Seq Scan on \"case\"" not in plan, plan
    db.session.rollback()
