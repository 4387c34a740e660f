"""The list shortcuts of FachstelleInterface return exactly what FAB's plain query would.

A filtered list with few matches picks its page among them (``_page_among_matches``), a related list
skips its count when the first page is not full, and REST schemas are checked once per process: each
must give the same rows, order, counts and errors as before, and keep other units' rows out.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import prison
import pytest
from flask_appbuilder.models.sqla.filters import FilterRelationOneToManyEqual

from tests.conftest import login

NORD = "sachbearbeitung_nord"


@pytest.fixture
def cases(factory):
    """31 cases of nord with the prefix "TQ/", opening dates with ties; 5 of sued with the same prefix."""
    client_n = factory("partner", "nord", kind_id=factory.value("partner_kind", "person").id, surname="Quast")
    client_s = factory("partner", "sued", kind_id=factory.value("partner_kind", "person").id, surname="Quell")
    status = factory.value("case_status", "open").id
    made = []
    for i in range(31):
        made.append(factory("case", "nord", client_id=client_n.id, file_number=f"TQ/{i:03d}", status_id=status,
                            opened_on=date(2024, 1, 1) + timedelta(days=i // 3)))
    for i in range(5):
        factory("case", "sued", client_id=client_s.id, file_number=f"TQ/9{i:02d}", status_id=status,
                opened_on=date(2024, 1, 1))
    factory("case", "nord", client_id=client_n.id, file_number="XX/001", status_id=status, opened_on=date(2024, 6, 1))
    return made


def _expected(cases, reverse: bool) -> list[int]:
    key = [(c.opened_on, c.id) for c in cases]
    return [pk for _, pk in sorted(key, reverse=reverse)]


def _shown(body: str) -> list[int]:
    found: list[int] = []
    for pk in map(int, re.findall(r"/case/show/(\d+)", body)):
        if pk not in found:
            found.append(pk)
    return found


@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_filtered_list_pages_follow_the_order(client, cases, direction):
    login(client, NORD)
    expected = _expected(cases, reverse=direction == "desc")
    base = f"/case/list/?_flt_0_file_number=tq/&_oc_CaseView=opened_on&_od_CaseView={direction}"
    first = client.get(base)
    second = client.get(base + "&page_CaseView=1")
    assert first.status_code == second.status_code == 200
    assert _shown(first.get_data(as_text=True)) == expected[:25]
    assert _shown(second.get_data(as_text=True)) == expected[25:]


def test_filtered_rest_list_pages_follow_the_order(client, cases):
    login(client, NORD)
    expected = _expected(cases, reverse=True)
    q = {"filters": [{"col": "file_number", "opr": "sw", "value": "TQ/"}], "order_column": "opened_on",
         "order_direction": "desc", "page": 1, "page_size": 10}
    got = client.get(f"/api/v1/case/?q={prison.dumps(q)}").get_json()
    assert got["count"] == 31  # nord's matches only
    assert got["ids"] == expected[10:20]


def test_related_list_counts_whether_or_not_the_page_is_full(ctx, factory):
    views = ctx.config["FACHSTELLE_VIEWS"]
    partner = factory("partner", "nord", kind_id=factory.value("partner_kind", "person").id, surname="Adler")
    kind = factory.value("address_kind", "main").id
    for street in ("Amselweg", "Birkenweg", "Buchenweg"):
        factory("address", "nord", partner_id=partner.id, kind_id=kind, street=street)
    with ctx.test_request_context("/"):
        datamodel = views["address"].datamodel

        def page(size):
            filters = datamodel.get_filters()
            filters.add_filter_related_view("partner", FilterRelationOneToManyEqual, partner.id)
            return datamodel.query(filters, "id", "asc", page=None, page_size=size)

        assert [(count, len(rows)) for count, rows in (page(25), page(2))] == [(3, 3), (3, 2)]


@pytest.mark.parametrize("user", ["admin", NORD, "sachbearbeitung_sued"])
def test_case_files_related_lists_are_fabs(client, factory, monkeypatch, user):
    # The nine related lists of a case file are read with one select() each (_one_parent_select); with
    # FAB's query path the page must be the same, for the unit's clerk, an admin and another unit.
    from app.web.interface import FachstelleInterface

    person = factory("partner", "nord", kind_id=factory.value("partner_kind", "person").id, surname="Tab")
    case = factory("case", "nord", client_id=person.id, file_number="TB/1", opened_on=date(2025, 5, 5),
                   status_id=factory.value("case_status", "open").id)
    for day in (3, 1, 2, 1):
        factory("task", "nord", case_id=case.id, title=f"Aufgabe {day}", due_on=date(2026, 1, day),
                state_id=factory.value("task_state", "open").id)
    for member in range(3):
        other = factory("partner", "nord", kind_id=person.kind_id, surname=f"Mitglied{member}")
        factory("household_member", "nord", case_id=case.id, member_id=other.id, moved_in_on=date(2020, 1, 1))
    factory("household_member", "sued", case_id=case.id, member_id=person.id)  # another unit's row: never shown
    login(client, user)
    urls = [f"/case/show/{case.id}", f"/case/show/{case.id}?_oc_TaskView=title&_od_TaskView=desc",
            f"/case/show/{case.id}?_oc_HouseholdMemberView=member&_od_HouseholdMemberView=asc"]
    lean = [re.sub(r'value="[^"]*" name="csrf_token"|name="csrf_token"[^>]*', "", client.get(u).get_data(as_text=True))
            for u in urls]
    monkeypatch.setattr(FachstelleInterface, "_one_parent_select", lambda self, *args: None)
    fab = [re.sub(r'value="[^"]*" name="csrf_token"|name="csrf_token"[^>]*', "", client.get(u).get_data(as_text=True))
           for u in urls]
    assert lean == fab
    if user != "sachbearbeitung_sued":
        assert lean[0].index("Aufgabe 1") < lean[0].index("Aufgabe 2") < lean[0].index("Aufgabe 3")
        assert lean[0].count("/household-member/show/") == (4 if user == "admin" else 3)


def test_case_file_reads_only_the_tabs_that_have_rows(client, factory, monkeypatch):
    """One EXISTS probe finds the empty tabs of a case file; their tables are built without reading rows,
    and the page is the same as with every tab read (an other unit's row still stays out)."""
    from sqlalchemy import event

    from app.extensions import db
    from app.web.interface import FachstelleInterface

    person = factory("partner", "nord", kind_id=factory.value("partner_kind", "person").id, surname="Leer")
    case = factory("case", "nord", client_id=person.id, file_number="LE/1", opened_on=date(2025, 5, 5),
                   status_id=factory.value("case_status", "open").id)
    factory("task", "nord", case_id=case.id, title="Einzige Aufgabe", due_on=date(2026, 1, 1),
            state_id=factory.value("task_state", "open").id)
    factory("household_member", "sued", case_id=case.id, member_id=person.id)  # exists, but not for nord
    login(client, NORD)
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        page = client.get(f"/case/show/{case.id}")
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Einzige Aufgabe" in body and "/household-member/show/" not in body
    probes = [s for s in statements if "EXISTS" in s and "FROM task" in s]
    assert len(probes) == 1
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "EXISTS" not in s]
    assert any("FROM task" in s for s in reads)                       # the tab with a row is read
    assert any("FROM household_member" in s for s in reads)           # rows exist (another unit's)
    assert not any("FROM appointment" in s or "FROM doc_entry" in s for s in reads)  # empty tabs are not

    def without_probe(html: str) -> str:
        return re.sub(r'value="[^"]*" name="csrf_token"|name="csrf_token"[^>]*', "", html)
    monkeypatch.setattr(FachstelleInterface, "note_empty_related_lists", lambda self, item, related: None)
    assert without_probe(client.get(f"/case/show/{case.id}").get_data(as_text=True)) == without_probe(body)


def test_a_case_file_reads_its_client_and_clerk_with_the_case(client, factory):
    """#10: the record of a page joins its references (``record_refs``): no query per reference, and a
    colleague shown as the clerk does not have their units read (only the signed-in user's are)."""
    from sqlalchemy import event

    from app.extensions import db
    from flask_appbuilder.security.sqla.models import User

    clerk = db.session.query(User).filter_by(username="sozialarbeit_nord").one()
    person = factory("partner", "nord", kind_id=factory.value("partner_kind", "person").id, surname="Verweis",
                     first_name="Vera")
    case = factory("case", "nord", client_id=person.id, file_number="VW/1", opened_on=date(2025, 5, 5),
                   status_id=factory.value("case_status", "open").id, clerk_user_id=clerk.id)
    login(client, NORD)
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        page = client.get(f"/case/show/{case.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Verweis" in body and str(clerk) in body
    case_reads = [s for s in statements if re.search(r'FROM "?case"?\b', s) and "partner" in s and "ab_user" in s]
    assert case_reads, "the case is read with its client and clerk joined"
    assert not [s for s in statements if re.search(r"FROM partner\s+WHERE partner.id = ", s)]  # no lazy load
    assert len([s for s in statements if "FROM user_org_unit" in s]) == 0  # the clerk's units are not read
    login(client, "sozialarbeit_nord")
    assert client.get(f"/case/show/{case.id}").status_code == 200  # a user of nord still sees nord's case


@pytest.mark.parametrize("url", ["/household-member/list/?_oc_HouseholdMemberView=member&_od_HouseholdMemberView=asc",
                                 "/partner/list/?_oc_PartnerView=kind&_od_PartnerView=asc",
                                 "/partner/list/?_oc_PartnerView=nosuch&_od_PartnerView=up",
                                 "/case/list/?_oc_CaseView=client.surname&_od_CaseView=desc"])
def test_sorting_by_what_the_list_does_not_offer_gives_its_default_order(client, cases, url):
    login(client, NORD)
    response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("q", ["(page:x)", "(page_size:!t)"], ids=["page-not-int", "size-not-int"])
def test_rest_still_rejects_bad_rison_every_time(client, q):
    login(client, NORD)
    answers = [client.get(f"/api/v1/case/?q={q}") for _ in range(2)]
    assert [a.status_code for a in answers] == [400, 400]
    # #11: in German (FAB's English text translated), jsonschema's detail kept for developers.
    assert all("passt nicht zum erwarteten Aufbau (" in a.get_json()["message"] for a in answers)


def test_search_filters_do_not_pile_up(client):
    # Converted filters are shared across requests; FAB appends custom ones to the lists it gets.
    login(client, NORD)
    datamodel = client.application.config["FACHSTELLE_VIEWS"]["case"].datamodel

    def sizes():
        return {col: len(f) for col, f in datamodel.get_filters(["file_number"]).get_search_filters().items()}

    before = sizes()
    for _ in range(3):
        assert client.get("/case/list/").status_code == 200
    assert sizes() == before


@pytest.mark.parametrize(("opr", "col", "value", "numbers"), [
    ("sw", "file_number", "tq/00", [f"TQ/00{i}" for i in range(10)]),  # the indexed twin, case-insensitive
    ("eq", "file_number", "TQ/007", ["TQ/007"]),                         # a name, not the date filter
    ("eq", "opened_on", "01.01.2024", ["TQ/000", "TQ/001", "TQ/002"]),   # a German date
], ids=["prefix", "equal-text", "equal-date"])
def test_rest_operator_means_the_columns_own_filter(client, cases, opr, col, value, numbers):
    # FAB's stock user list registers its own "sw"/"eq" classes in FAB's shared table first.
    login(client, "admin")
    assert client.get("/users/list/").status_code == 200
    client.post("/logout/")  # sign-out is a POST (#11)
    login(client, NORD)
    q = {"filters": [{"col": col, "opr": opr, "value": value}], "page_size": 100, "columns": ["file_number"]}
    got = client.get(f"/api/v1/case/?q={prison.dumps(q)}").get_json()
    assert sorted(r["file_number"] for r in got["result"]) == numbers


def test_rest_refuses_an_operator_the_column_does_not_have(client):
    login(client, NORD)
    q = {"filters": [{"col": "opened_on", "opr": "sw", "value": "2024"}]}
    assert client.get(f"/api/v1/case/?q={prison.dumps(q)}").status_code == 400


def test_get_by_key_is_fabs(ctx, factory, monkeypatch):
    # One record by key is one select() with the org-unit condition (FachstelleInterface.get); FAB's own
    # path must find the same record, and nothing where it finds nothing.
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    views = ctx.config["FACHSTELLE_VIEWS"]
    mine = factory("partner", "nord", kind_id=factory.value("partner_kind", "person").id, surname="Eigen")
    other = factory("partner", "sued", kind_id=factory.value("partner_kind", "person").id, surname="Fremd")
    datamodel = views["partner"].datamodel
    view = next(v for v in ctx.appbuilder.baseviews if type(v) is views["partner"])
    client = login(ctx.test_client(), NORD)
    with client:
        client.get("/partner/list/")  # a request of the clerk: the org-unit filter sees unit nord
        keys = [mine.id, str(mine.id), other.id, "abc", None, 10**9]
        lean = [datamodel.get(key, view._base_filters) for key in keys]
        fab = [SQLAInterface.get(datamodel, key, view._base_filters) for key in keys]
    assert lean == fab == [mine, mine, None, None, None, None]
