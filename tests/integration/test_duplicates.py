"""The duplicate check: indexed look-ups, org-unit isolation, the live JSON check and the warning after saving."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import event, text

from app.actor import Actor
from app.extensions import db
from app.services.partners import find_duplicates
from tests.conftest import login

BORN = date(1970, 2, 1)
SYSTEM = Actor.system("test")  # outside a request nothing is visible without an actor (#10)


def person(factory, unit, surname, first_name=None, birth_date=None, **values):
    return factory("partner", unit, kind=factory.value("partner_kind", "person"), surname=surname,
                   first_name=first_name, birth_date=birth_date, **values)


def switch_user(client, user: str):
    """Log in as another user in the same test: the test's app context shares ``g`` (cached user, units)."""
    from flask import g
    client.post("/logout/")  # sign-out is a POST (#11)
    g.__dict__.clear()
    return login(client, user)


def found(surname, first_name, birth, exclude_id=None):
    return [(d.partner.surname, d.partner.first_name) for d in
            find_duplicates(db.session, surname, first_name, birth, exclude_id=exclude_id, actor=SYSTEM)]


def test_finds_sound_alikes_typos_and_double_names_but_not_other_people(factory):
    person(factory, "nord", "Meier", "Hans", BORN)
    person(factory, "nord", "Müller-Lüdenscheidt", "Karl", date(1960, 5, 5))
    person(factory, "sued", "Schmitt", "Anna", date(1981, 3, 4))
    person(factory, "nord", "Kowalski", "Jana", date(1990, 9, 9))
    person(factory, "nord", "Meier", "Hans", date(1985, 7, 15))  # same name, other person

    assert found("Mayer", "Hans", BORN) == [("Meier", "Hans")]
    assert found("Maier", "Hans", None) == [("Meier", "Hans"), ("Meier", "Hans")]  # no date: both could be
    assert found("Hans", "Meier", BORN) == [("Meier", "Hans")]                      # swapped
    assert found("Meier", "Hnas", date(1970, 1, 2)) == [("Meier", "Hans")]         # typo in name and date
    assert found("Müller", "Karl", date(1960, 5, 5)) == [("Müller-Lüdenscheidt", "Karl")]
    assert found("Schmidt", "", date(1981, 3, 4)) == [("Schmitt", "Anna")]          # empty first name
    assert found("Kowalski", "Jan", date(1990, 9, 9)) == []                         # twin brother
    assert found("Schulz", "Peter", BORN) == []
    assert found("", "Hans", BORN) == []                                            # nothing to compare


def test_best_match_first_and_the_record_itself_excluded(factory):
    exact = person(factory, "nord", "Meier", "Hans", BORN)
    alike = person(factory, "nord", "Mayer", "Hans", BORN)
    result = find_duplicates(db.session, "Meier", "Hans", BORN, actor=SYSTEM)
    assert [d.partner.id for d in result] == [exact.id, alike.id]
    assert result[0].score == 100 and result[1].score < 100
    # Editing "Meier" must not warn about itself, only about "Mayer".
    assert [d.partner.id for d in find_duplicates(db.session, "Meier", "Hans", BORN, exclude_id=exact.id,
                                                               actor=SYSTEM)] == [alike.id]


def test_lookups_use_indexes(factory):
    """Every query of the check is answered from an index (no full scan of the partner table)."""
    person(factory, "nord", "Meier", "Hans", BORN)
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if "FROM partner" in statement:
            statements.append((statement, parameters))

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", remember)
    try:
        assert found("Mayer", "Hans", BORN)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert len(statements) == 3  # birth date, near birth dates + sound, sound of both names
    conn = db.session.connection()
    for statement, parameters in statements:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "SCAN partner" not in plan.replace("SCAN partner USING", "SEARCH"), plan
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: ask whether an index *can* answer
            plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "Seq Scan on partner" not in plan, plan
    db.session.rollback()


def test_live_check_shows_only_partners_the_user_may_see(client, factory):
    nord = person(factory, "nord", "Meier", "Hans", BORN)
    court = factory("partner", None, kind=factory.value("partner_kind", "institution"), surname="Meyer",
                    first_name="Hans", birth_date=BORN)  # an institution shared by all units
    login(client, "sachbearbeitung_sued")
    body = client.get("/partner-duplicates", query_string={"surname": "Mayer", "first_name": "Hans",
                                                           "birth_date": "01.02.1970"}).get_json()
    assert [r["id"] for r in body["results"]] == [court.id]

    switch_user(client, "sachbearbeitung_nord")
    body = client.get("/partner-duplicates", query_string={"surname": "Mayer", "first_name": "Hans",
                                                           "birth_date": "01.02.1970"}).get_json()
    assert sorted(r["id"] for r in body["results"]) == sorted([nord.id, court.id])
    first = body["results"][0]
    assert first["url"].endswith(f"/partner/show/{first['id']}") and "01.02.1970" in first["text"]
    # While editing, the record itself is left out; a bad date is ignored rather than an error.
    body = client.get("/partner-duplicates", query_string={"surname": "Meier", "first_name": "Hans",
                                                           "birth_date": "31.02.1970", "exclude": nord.id}).get_json()
    assert [r["id"] for r in body["results"]] == [court.id]


def test_live_check_needs_a_login(client):
    assert client.get("/partner-duplicates?surname=Meier").status_code in (302, 401)


def test_saving_a_likely_duplicate_warns_with_links(client, factory):
    meier = person(factory, "nord", "Meier", "Hans", BORN)
    person(factory, "sued", "Mayer", "Hans", BORN)  # another unit: never named to this clerk
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person").id
    # #11: the warning is a step first (nothing saved), then "Trotzdem anlegen" saves and warns again.
    step = client.post("/partner/add", data={"kind": kind, "surname": "Maier", "first_name": "Hans",
                                             "birth_date": "01.02.1970"}).get_data(as_text=True)
    assert "Trotzdem anlegen" in step and "Mayer" not in step
    assert db.session.query(meier.__class__).filter_by(surname="Maier").count() == 0
    response = client.post("/partner/add", data={"kind": kind, "surname": "Maier", "first_name": "Hans",
                                                 "birth_date": "01.02.1970", "fs_confirm_new": "1"},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Möglicher Doppelsatz" in body
    assert f'<a href="/partner/show/{meier.id}">Meier, Hans, 01.02.1970</a>' in body
    assert body.count("/partner/show/") >= 1 and "Mayer" not in body
    assert "zusammenführen</a>" not in body  # a clerk may not merge: no merge link

    # Saved anyway after confirming, and editing it warns again, never about itself.
    maier = db.session.query(meier.__class__).filter_by(surname="Maier").one()
    response = client.post(f"/partner/edit/{maier.id}", data={"kind": kind, "surname": "Maier", "first_name": "Hans",
                                                              "birth_date": "01.02.1970", "birth_place": "Köln"},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Möglicher Doppelsatz" in body and f"/partner/show/{meier.id}" in body
    assert f'href="/partner/show/{maier.id}"' not in body


def test_no_warning_for_a_new_person_and_admins_get_a_merge_link(client, factory):
    meier = person(factory, "nord", "Meier", "Hans", BORN)
    login(client, "sachbearbeitung_nord")
    kind = factory.value("partner_kind", "person").id
    body = client.post("/partner/add", data={"kind": kind, "surname": "Meier", "first_name": "Hans",
                                             "birth_date": "15.07.1985"}, follow_redirects=True).get_data(as_text=True)
    assert "Möglicher Doppelsatz" not in body  # same name, other birth date: another person

    switch_user(client, "fachadmin_nord")
    body = client.post("/partner/add", data={"kind": kind, "surname": "Meyer", "first_name": "Hans",
                                             "birth_date": "01.02.1970", "fs_confirm_new": "1"},
                       follow_redirects=True).get_data(as_text=True)
    new_id = int(re.search(r"duplicate=(\d+)", body).group(1))
    assert "Möglicher Doppelsatz" in body
    assert f"/partner-merge/?survivor={meier.id}&amp;duplicate={new_id}" in body
