"""Merging two partners: every reference moves, the history keeps both, only admins may, within their units."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.actor import Actor
from app.core_models import ChangeLog
from app.errors import DomainError
from app.extensions import db
from app.services.partners import merge_partners, partner_references
from tests.conftest import login
from tests.integration.test_duplicates import person, switch_user

SYSTEM = Actor.system("test")  # outside a request nothing is visible without an actor (#10)

BORN = date(1970, 2, 1)


@pytest.fixture
def graph(factory):
    """A household as a clerk builds it over the years: the client recorded twice, once as "Mayer"."""
    v = factory.value
    survivor = person(factory, "nord", "Meier", "Hans", BORN, nationality="deutsch")
    duplicate = person(factory, "nord", "Mayer", "Hans", BORN, birth_place="Köln", nationality="türkisch")
    wife = person(factory, "nord", "Meier", "Petra", date(1972, 6, 3))
    officer = person(factory, "nord", "Brandt", "Uwe", date(1965, 1, 1))
    landlord = factory("partner", None, kind=v("partner_kind", "institution"), surname="Wohnbau eG")
    g = {"survivor": survivor, "duplicate": duplicate, "wife": wife, "officer": officer, "landlord": landlord}
    g["address_main"] = factory("address", "nord", partner=duplicate, kind=v("address_kind", "main"),
                                street="Hauptstraße", house_number="12", postcode="47112", city="Musterhausen")
    g["address_old"] = factory("address", "nord", partner=duplicate, kind=v("address_kind", "secondary"),
                               street="Gartenstraße", house_number="3", postcode="47112", city="Musterhausen")
    g["care_of"] = factory("address", "nord", partner=wife, kind=v("address_kind", "care_of"), care_of=duplicate,
                           street="Am Bahnhof", postcode="47110", city="Musterhausen")
    g["phone"] = factory("contact", "nord", partner=duplicate, channel=v("contact_channel", "phone"), value="0151 1234567")
    factory("partner_role_assignment", "nord", partner=survivor, role=v("partner_role", "klient"))
    g["role_twice"] = factory("partner_role_assignment", "nord", partner=duplicate, role=v("partner_role", "klient"))
    g["role_new"] = factory("partner_role_assignment", "nord", partner=duplicate, role=v("partner_role", "vermieter"))
    g["marriage"] = factory("relationship", "nord", partner=duplicate, type=v("relationship_type", "ehepartner"),
                            related_partner=wife)
    g["marriage_back"] = factory("relationship", "nord", partner=wife, type=v("relationship_type", "ehepartner"),
                                 related_partner=duplicate)
    g["self"] = factory("relationship", "nord", partner=survivor, type=v("relationship_type", "sonstige"),
                        related_partner=duplicate, info="vermutlich dieselbe Person")
    g["case_old"] = factory("case", "nord", client=duplicate, file_number="2019/0815", opened_on=date(2019, 3, 1),
                            status=v("case_status", "closed"))
    g["case_new"] = factory("case", "nord", client=wife, file_number="2026/0001", opened_on=date(2026, 1, 5),
                            status=v("case_status", "open"))
    g["member"] = factory("household_member", "nord", case=g["case_new"], member=duplicate,
                          relation=v("relationship_type", "ehepartner"))
    g["income"] = factory("household_income", "nord", case=g["case_new"], earner=duplicate,
                          income_type=v("income_type", "rente"), amount=Decimal("1234.50"))
    g["situation"] = factory("social_situation", "nord", case=g["case_new"], person=duplicate,
                             probation_officer=officer, addiction=[v("addiction", "alkohol")])
    g["officer_of"] = factory("social_situation", "nord", case=g["case_old"], person=wife,
                              probation_officer=duplicate)
    g["case_link"] = factory("relationship", "nord", partner=landlord, type=v("relationship_type", "vermieter"),
                             related_partner=duplicate, case=g["case_old"])
    return g


def count_refs(partner_id):
    return {ref.label: ref.count for ref in partner_references(db.session, partner_id)}


def test_merge_moves_every_reference_and_keeps_both_histories(graph):
    survivor, duplicate = graph["survivor"], graph["duplicate"]
    sid, did = survivor.id, duplicate.id
    before = count_refs(did)
    assert before == {"Adressen – Partner": 2, "Adressen – bei Partner (c/o)": 1, "Telefon und E-Mail": 1,
                      "Rollen": 2, "Beziehungen – Partner": 1, "Beziehungen – steht in Beziehung zu": 3,
                      "Fallakten": 1, "Haushaltsmitglieder": 1, "Einkommen des Haushalts": 1,
                      "Soziale Situation – Haushaltsmitglied": 1, "Soziale Situation – Bewährungshelfer/in": 1}

    result = merge_partners(db.session, sid, did, SYSTEM)
    db.session.commit()
    db.session.expire_all()

    assert db.session.get(type(survivor), did) is None
    assert count_refs(did) == {}
    # The role "Klient" the survivor had already and the relationship between the two are dropped.
    assert result.dropped == {"Rollen": 1, "Beziehungen": 1}
    assert result.moved["Beziehungen – steht in Beziehung zu"] == 2 and result.total == 13
    g = {name: db.session.get(type(rec), rec.id) for name, rec in graph.items() if name not in ("duplicate",)}
    assert g["role_twice"] is None and g["self"] is None
    assert g["address_main"].partner_id == sid and g["address_old"].partner_id == sid
    assert g["care_of"].care_of_id == sid and g["care_of"].partner_id == graph["wife"].id
    assert g["phone"].partner_id == sid and g["role_new"].partner_id == sid
    assert g["marriage"].partner_id == sid and g["marriage_back"].related_partner_id == sid
    assert g["case_old"].client_id == sid and g["member"].member_id == sid and g["income"].earner_id == sid
    assert g["situation"].person_id == sid and g["situation"].probation_officer_id == graph["officer"].id
    assert [a.code for a in g["situation"].addiction] == ["alkohol"]
    assert g["officer_of"].probation_officer_id == sid and g["case_link"].related_partner_id == sid
    assert g["case_link"].case_id == graph["case_old"].id
    # What the survivor lacked comes from the duplicate; what it knew stays.
    assert g["survivor"].birth_place == "Köln" and g["survivor"].nationality == "deutsch"
    assert result.filled == ["Geburtsort"]

    log = lambda rid, entity="partner": list(db.session.scalars(  # noqa: E731
        select(ChangeLog).where(ChangeLog.entity == entity, ChangeLog.record_id == rid).order_by(ChangeLog.id)))
    dup_log = [(e.action, e.field) for e in log(did)]
    assert dup_log[0] == ("create", None) and ("merge", None) in dup_log and dup_log[-1] == ("delete", None)
    merge_dup = next(e for e in log(did) if e.action == "merge")
    assert f"zusammengeführt in Partner Nr. {sid}" in merge_dup.new_value and "Geburtsort: Köln" in merge_dup.old_value
    merge_surv = next(e for e in log(sid) if e.action == "merge")
    assert merge_surv.old_value.startswith(f"Nr. {did}: ") and "Name: Mayer" in merge_surv.old_value
    assert "2 × Adressen – Partner" in merge_surv.new_value
    assert ("update", "birth_place") in [(e.action, e.field) for e in log(sid)]
    # Each moved record says so in its own history, naming both partners.
    moved = [e for e in log(graph["address_main"].id, "address") if e.action == "update"]
    assert [(e.field, e.old_value, e.new_value) for e in moved] == [
        ("partner", "Mayer, Hans, 01.02.1970", "Meier, Hans, 01.02.1970")]
    dropped = log(graph["role_twice"].id, "partner_role_assignment")
    assert dropped[-1].action == "delete"


def test_merge_refuses_self_and_unknown_partners(graph):
    sid = graph["survivor"].id
    with pytest.raises(DomainError, match="mit sich selbst"):
        merge_partners(db.session, sid, sid, SYSTEM)
    with pytest.raises(DomainError, match="Doppelsatz: Partner Nr. 999999 nicht gefunden"):
        merge_partners(db.session, sid, 999999, SYSTEM)
    db.session.rollback()
    assert count_refs(graph["duplicate"].id)  # nothing moved


def test_preview_shows_both_side_by_side_then_post_merges(client, graph):
    sid, did = graph["survivor"].id, graph["duplicate"].id
    login(client, "fachadmin_nord")
    page = client.get(f"/partner-merge/?survivor={sid}&duplicate={did}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Vorschau" in body and "Meier" in body and "Mayer" in body and "Köln" in body
    assert "wird übernommen: Köln" in body  # the survivor's empty birth place
    assert "2 × Adressen – Partner" in body and "3 × Beziehungen – steht in Beziehung zu" in body
    assert f"Jetzt zusammenführen: Nr. {did} in Nr. {sid}" in body
    assert db.session.get(type(graph["duplicate"]), did) is not None  # a GET never merges

    response = client.post("/partner-merge/", data={"survivor": sid, "duplicate": did})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/partner/show/{sid}")
    db.session.expire_all()
    assert db.session.get(type(graph["duplicate"]), did) is None
    shown = client.get(f"/partner/show/{sid}").get_data(as_text=True)
    assert "zusammengeführt" in shown and f"Nr. {did}" in shown
    assert f"(Doppelsatz Nr. {did})" in shown  # the duplicate's own history appears on the survivor's page


def test_clerk_may_not_merge(client, graph):
    sid, did = graph["survivor"].id, graph["duplicate"].id
    login(client, "sachbearbeitung_nord")
    assert client.get(f"/partner-merge/?survivor={sid}&duplicate={did}").status_code in (302, 403)
    response = client.post("/partner-merge/", data={"survivor": sid, "duplicate": did})
    assert response.status_code in (302, 403)
    assert "/partner/show/" not in response.headers.get("Location", "")
    db.session.expire_all()
    assert db.session.get(type(graph["duplicate"]), did) is not None


def test_admin_of_another_unit_cannot_merge_what_it_cannot_see(client, graph, factory):
    sid, did = graph["survivor"].id, graph["duplicate"].id
    login(client, "fachadmin_sued")
    body = client.get(f"/partner-merge/?survivor={sid}&duplicate={did}").get_data(as_text=True)
    assert "nicht gefunden" in body and "Mayer" not in body and "Vorschau" not in body
    body = client.post("/partner-merge/", data={"survivor": sid, "duplicate": did},
                       follow_redirects=True).get_data(as_text=True)
    assert "Bleibender Partner: Partner Nr." in body and "nicht gefunden" in body
    db.session.expire_all()
    assert db.session.get(type(graph["duplicate"]), did) is not None

    # The city's admin (all units) may.
    switch_user(client, "admin")
    assert client.post("/partner-merge/", data={"survivor": sid, "duplicate": did}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(graph["duplicate"]), did) is None


def test_merge_page_without_choice_and_with_bad_input(client, graph):
    login(client, "fachadmin_nord")
    body = client.get("/partner-merge/").get_data(as_text=True)
    assert "Bleibender Partner" in body and "Vorschau" not in body
    body = client.post("/partner-merge/", data={"survivor": "x"}, follow_redirects=True).get_data(as_text=True)
    assert "Bitte den bleibenden Partner und den Doppelsatz auswählen." in body
    sid = graph["survivor"].id
    body = client.get(f"/partner-merge/?survivor={sid}&duplicate={sid}").get_data(as_text=True)
    assert "nicht mit sich selbst" in body
    assert db.session.scalar(select(func.count()).select_from(type(graph["survivor"]))) == 5
