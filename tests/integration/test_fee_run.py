"""Shelter fees (#12 §4) on SQLite and PostgreSQL: the Heiligenhaus tariff from YAML, the monthly run with the
issue's JSON, idempotence, reversals after a late move-out, debits per payer as treasury postings, landlord
payouts, and the Gebührenbescheid as an archived .docx with its documentation entry."""
from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from app.actor import Actor

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = Actor.system("test")
HEILIGENHAUS = ROOT / "config" / "cities" / "musterhausen" / "fees.yaml"


@pytest.fixture
def world(ctx, factory):
    """Two shelters of the Gemeinde and one of a freier Träger, the Heiligenhaus tariff only."""
    from app.extensions import db
    from app.services import occupancy as occ_svc
    from app.services.fees import seed_fee_tariffs
    registry = ctx.config["FACHSTELLE_REGISTRY"]
    db.session.execute(delete(registry.model("fee_component")))
    db.session.execute(delete(registry.model("fee_tariff")))
    db.session.commit()
    assert seed_fee_tariffs(db.session, HEILIGENHAUS) == 1
    db.session.commit()
    v = factory.value

    def shelter(name, provider="gemeinde", places=4):
        s = factory("shelter", "nord", name=name, shelter_type=v("shelter_type", "notunterkunft"),
                    provider_type=v("provider_type", provider), capacity=places, street="Am Bahnhof",
                    house_number="12", postcode="47110", city="Musterhausen")
        r = factory("room", "nord", shelter=s, label="R1", places=places, area_m2=Decimal("40"))
        Place = registry.model("place")
        return s, list(db.session.scalars(select(Place).where(Place.room_id == r.id).order_by(Place.label)))

    class W:
        pass
    w = W()
    w.db, w.svc, w.registry = db, occ_svc, registry
    w.a, w.a_places = shelter("Haus A")
    w.b, w.b_places = shelter("Haus B", "gewerblich")
    w.t, w.t_places = shelter("Haus Träger", "freier_traeger")

    def person(surname, first="Anna"):
        return factory("partner", "nord", kind=v("partner_kind", "person"), surname=surname, first_name=first)

    def case(client):
        return factory("case", "nord", client=client, opened_on=date(2025, 5, 1), status=v("case_status", "open"))

    def book(case_, person_, place, move_in, move_out=None, legal="obg", payer=None):
        return occ_svc.book(db.session, SYSTEM, occ_svc.Booking(
            case_id=case_.id, person_id=person_.id, place_id=place.id, move_in=move_in, move_out=move_out,
            legal_basis=legal, payer_id=payer.id if payer else None))
    w.person, w.case, w.book = person, case, book
    return w


def run(month="2025-06", dry=False):
    from app.extensions import db
    from app.services.fees import run_month
    result = run_month(db.session, SYSTEM, month, dry_run=dry)
    db.session.rollback() if dry else db.session.commit()
    return result.as_json()


def test_june_run_bills_heiligenhaus_and_is_idempotent(world):
    from app.fee_models import FeeLine
    from app.treasury_models import TreasuryPosting
    w = world
    mother, child = w.person("Meier"), w.person("Meier", "Ben")
    c = w.case(mother)
    w.book(c, mother, w.a_places[0], date(2025, 5, 1))              # all June: 184,00
    w.book(c, child, w.a_places[1], date(2025, 6, 19))              # 12 days: 73,60
    solo = w.person("Kurz")
    w.book(w.case(solo), solo, w.b_places[0], date(2025, 6, 1), date(2025, 6, 10))   # 10 days: 61,33
    other = w.person("Träger")
    w.book(w.case(other), other, w.t_places[0], date(2025, 6, 1))   # freier Träger: no fee
    sgb = w.person("Sozial")
    w.book(w.case(sgb), sgb, w.a_places[2], date(2025, 6, 1), legal="sgb12_67")  # not obg: no fee

    preview = run(dry=True)
    assert preview == {"monat": "2025-06", "neu": 6, "summe": "318.93",
                       "unterkuenfte": {"Haus A": "257.60", "Haus B": "61.33"}}
    assert w.db.session.scalar(select(FeeLine.id)) is None          # a dry run writes nothing

    first = run()
    assert first == preview
    again = run()
    assert again == {**first, "neu": 0}
    lines = w.db.session.scalars(select(FeeLine).order_by(FeeLine.id)).all()
    assert len(lines) == 6 and all(ln.kassenzeichen for ln in lines)
    postings = w.db.session.scalars(select(TreasuryPosting).where(TreasuryPosting.source_kind == "shelter_fee")).all()
    # one debit per payer and Sachkonto (Grundgebühr 432100, Nebenkosten 432110): Meier household's two persons
    # each pay for themselves here (no payer entered), Kurz too
    assert {p.art for p in postings} == {"soll"}
    assert sum((p.betrag for p in postings), Decimal(0)) == Decimal("318.93")
    assert {p.sachkonto for p in postings} == {"432100", "432110"} and {p.produkt for p in postings} == {"1.05.02.01"}
    assert {p.kostenstelle for p in postings} == {"5021"}


def test_late_move_out_after_export_is_a_reversal(world):
    from app.fee_models import FeeLine
    from app.treasury_models import TreasuryPosting
    w = world
    p = w.person("Lang")
    occ = w.book(w.case(p), p, w.a_places[0], date(2025, 5, 1))
    assert run()["summe"] == "184.00"
    w.db.session.execute(TreasuryPosting.__table__.update().values(batch_id=None))  # (exported or not: same rule)
    w.svc.move_out(w.db.session, SYSTEM, occ, date(2025, 6, 12))      # entered late: 12 days
    result = run()
    assert result == {"monat": "2025-06", "neu": 4, "summe": "73.60", "unterkuenfte": {"Haus A": "73.60"}}
    kinds = [ln.kind for ln in w.db.session.scalars(select(FeeLine).order_by(FeeLine.id))]
    assert kinds == ["auto", "auto", "storno", "storno", "auto", "auto"]
    arts = sorted(p.art for p in w.db.session.scalars(select(TreasuryPosting)))
    assert arts == ["soll", "soll", "sollabgang", "sollabgang"]
    assert run()["neu"] == 0


def test_transfer_mid_month_splits_and_payer_gets_the_debit(world, factory):
    from app.treasury_models import TreasuryPosting
    w = world
    jobcenter = factory("partner", "nord", kind=factory.value("partner_kind", "institution"), surname="Jobcenter")
    p = w.person("Wander")
    occ = w.book(w.case(p), p, w.a_places[0], date(2025, 5, 1), payer=jobcenter)
    w.svc.transfer(w.db.session, SYSTEM, occ, w.b_places[0].id, date(2025, 6, 16))
    result = run()
    # 15 days in A, the moving day and 14 more in B: the monthly amount split, sum exactly 184,00
    assert result == {"monat": "2025-06", "neu": 4, "summe": "184.00",
                      "unterkuenfte": {"Haus A": "92.00", "Haus B": "92.00"}}
    names = {x.name for x in w.db.session.scalars(select(TreasuryPosting))}
    assert names == {"Jobcenter"}


def test_split_payer_gets_a_debit_per_share(world, factory):
    """Kostenträger geteilt: Jobcenter 70 %, the person 30 % — one line and one debit per payer; the lines add
    up to the line without split; changing the shares later reverses and rebills; bad shares are refused."""
    from app.fee_models import FeeLine
    from app.treasury_models import TreasuryPosting
    w = world
    share = w.registry.model("occupancy_payer_share")
    jobcenter = factory("partner", "nord", kind=factory.value("partner_kind", "institution"), surname="Jobcenter")
    p = w.person("Teilung")
    occ = w.book(w.case(p), p, w.a_places[0], date(2025, 6, 19))
    unit = occ.org_unit_id
    w.db.session.add_all([share(occupancy_id=occ.id, payer_id=jobcenter.id, percent=Decimal("70"), org_unit_id=unit),
                          share(occupancy_id=occ.id, payer_id=None, percent=Decimal("30"), org_unit_id=unit)])
    w.db.session.commit()
    result = run()
    assert result["summe"] == "73.60" and result["neu"] == 4  # 2 components × 2 payers
    lines = w.db.session.scalars(select(FeeLine).order_by(FeeLine.component, FeeLine.payer_id)).all()
    by = {(ln.component, ln.payer_id): str(ln.amount) for ln in lines}
    # Grundgebühr 43,20 → 30,24 + 12,96; Nebenkosten 30,40 → 21,28 + 9,12
    grund = {k[1]: v for k, v in by.items() if v in ("30.24", "12.96")}
    assert grund == {jobcenter.id: "30.24", p.id: "12.96"}
    assert {k[1]: v for k, v in by.items() if v in ("21.28", "9.12")} == {jobcenter.id: "21.28", p.id: "9.12"}
    postings: dict = {}
    for x in w.db.session.scalars(select(TreasuryPosting)):  # one per payer and Sachkonto
        postings[x.name] = postings.get(x.name, Decimal(0)) + x.betrag
    assert postings == {"Jobcenter": Decimal("51.52"), "Teilung": Decimal("22.08")}
    assert run()["neu"] == 0  # idempotent
    # the shares change to 50/50: the old lines are reversed, the new ones billed; the sum stays
    for s in w.db.session.scalars(select(share).where(share.occupancy_id == occ.id)):
        s.percent = Decimal("50")
    w.db.session.commit()
    again = run()
    assert again["summe"] == "73.60" and again["neu"] == 8
    # shares that do not make 100 % stop the run with a German message naming the occupancy; nothing is written
    from app.errors import DomainError
    from app.fee_models import FeeRun
    runs = len(w.db.session.scalars(select(FeeRun)).all())
    w.db.session.add(share(occupancy_id=occ.id, payer_id=None, percent=Decimal("10"), org_unit_id=unit))
    w.db.session.commit()
    with pytest.raises(DomainError, match=f"Belegung Nr. {occ.id}, Kostenaufteilung: .*110 %"):
        run()
    w.db.session.rollback()
    assert len(w.db.session.scalars(select(FeeRun)).all()) == runs


def test_landlord_payout_once_per_month(world, factory):
    from app.treasury_models import TreasuryPosting
    w = world
    landlord = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Vermieter")
    factory("shelter_lease", "nord", shelter=w.b, landlord=landlord, rent=Decimal("900.00"),
            iban="DE89370400440532013000", valid_from=date(2025, 6, 11))
    run()
    run()
    payouts = w.db.session.scalars(select(TreasuryPosting).where(TreasuryPosting.art == "auszahlung")).all()
    assert [(p.betrag, p.iban, p.name) for p in payouts] == [(Decimal("600.00"), "DE89370400440532013000",
                                                             "Vermieter")]  # 20 of 30 days


def test_cli_prints_the_issue_json(world):
    from app.cli import main
    w = world
    p = w.person("Cli")
    w.book(w.case(p), p, w.a_places[0], date(2025, 6, 19))
    runner = CliRunner()
    out = runner.invoke(main, ["fees", "run", "--month", "2025-06", "--dry-run", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {"monat": "2025-06", "neu": 2, "summe": "73.60",
                                      "unterkuenfte": {"Haus A": "73.60"}}
    out = runner.invoke(main, ["fees", "run", "--month", "2025-6x"])
    assert out.exit_code == 2 and "JJJJ-MM" in out.output


def test_fee_notice_docx_archived_with_an_entry(world, ctx):
    import docx

    from app.letters.archive import letter_file
    from app.services.fee_notice import make_fee_notice
    w = world
    p = w.person("Meier")
    c = w.case(p)
    occ = w.book(c, p, w.a_places[0], date(2025, 6, 19))
    from app.core_models import OrgUnit
    from app.letters.models import OfficeDetails
    nord = w.db.session.scalars(select(OrgUnit).where(OrgUnit.code == "nord")).one()
    added = None
    if w.db.session.scalar(select(OfficeDetails).where(OfficeDetails.org_unit_id == nord.id)) is None:
        added = OfficeDetails(org_unit_id=nord.id, legal_remedy="Gegen diesen Bescheid kann innerhalb "
                              "eines Monats Klage beim Verwaltungsgericht erhoben werden.")
        w.db.session.add(added)
    user = ctx.appbuilder.sm.find_user(username="admin")
    letter = make_fee_notice(w.db.session, SYSTEM, user, occ.id, "einzug")
    w.db.session.commit()
    assert letter.doc_entry_id is not None
    data = letter_file(w.db.session, letter.id, actor=SYSTEM).data
    text = "\n".join(par.text for par in docx.Document(io.BytesIO(data)).paragraphs)
    assert "108,00 € × 12/30 Tage = 43,20 €" in text and "76,00 € × 12/30 Tage = 30,40 €" in text
    assert "Summe dieses Bescheids: 73,60 €" in text and "Einzug" in text
    assert "184,00 € monatlich" in text and "IBAN" in text and "Kassenzeichen" in text
    assert "19.06.2025 bis auf Weiteres" in text and "Verwaltungsgericht" in text
    assert "Am Bahnhof 12" in text  # no address of her own: the shelter's
    entry = w.db.session.get(w.registry.model("doc_entry"), letter.doc_entry_id)
    assert entry.case_id == c.id and entry.service.code == "gebuehrenbescheid"
    if added is not None:  # office letterheads are not purged between tests
        w.db.session.delete(added)
        w.db.session.commit()


def test_fee_page_button_and_notice_for_the_obdachverwaltung(world, client):
    from app.fee_models import FeeLine
    from tests.conftest import login
    w = world
    p = w.person("Knopf")
    occ = w.book(w.case(p), p, w.a_places[0], date(2025, 6, 19))
    login(client, "obdachverwaltung_nord")
    page = client.get("/fees/?month=2025-06")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Gebührenlauf 2025-06 starten" in html and "Haus A" in html and "73,60" in html
    done = client.post("/fees/run", data={"month": "2025-06"}, follow_redirects=True)
    assert "Gebührenlauf 2025-06: 2 neue Zeile(n)" in done.get_data(as_text=True)
    assert len(w.db.session.scalars(select(FeeLine)).all()) == 2
    assert "Nichts Neues" in client.get("/fees/?month=2025-06").get_data(as_text=True)
    shown = client.get(f"/occupancy/show/{occ.id}")
    if shown.status_code == 200:  # the occupancy page shows its fee lines and the notice button
        assert "Gebührenbescheid erzeugen" in shown.get_data(as_text=True)
    bad = client.get("/fees/?month=2025-13")
    assert bad.status_code == 200 and "JJJJ-MM" in bad.get_data(as_text=True)


def test_tariff_change_makes_the_notices_once(world, client):
    """A new tariff version from 01.07.2025: the household there before gets its Gebührenbescheid (Anlass
    Tarifänderung) from the button, once; who moves in that day or lives in a shelter without the tariff not."""
    import docx

    from app.fee_models import FeeNoticeSent
    from app.letters.archive import letter_file
    from app.letters.models import Letter
    from tests.conftest import login
    w = world
    Tariff, Component = w.registry.model("fee_tariff"), w.registry.model("fee_component")
    old = w.db.session.scalars(select(Tariff)).one()
    old.valid_to = date(2025, 6, 30)
    new = Tariff(code="heiligenhaus_2025_07", label="Heiligenhaus ab Juli 2025", valid_from=date(2025, 7, 1),
                 satzung=old.satzung, part_month=old.part_month, counted_days=old.counted_days,
                 legal_bases=list(old.legal_bases), provider_types=list(old.provider_types))
    w.db.session.add(new)
    w.db.session.flush()
    w.db.session.add(Component(tariff=new, code="grund", label="Grundgebühr", amount=Decimal("120.00"),
                               basis=old_component(w, old).basis,
                               unit=old_component(w, old).unit, sachkonto="4321"))
    w.db.session.commit()
    there = w.person("Vorher")
    w.book(w.case(there), there, w.a_places[0], date(2025, 6, 1))
    late = w.person("Ersterjuli")
    w.book(w.case(late), late, w.a_places[1], date(2025, 7, 1))
    other = w.person("Träger")
    w.book(w.case(other), other, w.t_places[0], date(2025, 6, 1))
    from app.core_models import OrgUnit
    from app.letters.models import OfficeDetails
    nord = w.db.session.scalars(select(OrgUnit).where(OrgUnit.code == "nord")).one()
    added = None
    if w.db.session.scalar(select(OfficeDetails).where(OfficeDetails.org_unit_id == nord.id)) is None:
        added = OfficeDetails(org_unit_id=nord.id, legal_remedy="Gegen diesen Bescheid kann innerhalb "
                              "eines Monats Klage beim Verwaltungsgericht erhoben werden.")
        w.db.session.add(added)
        w.db.session.commit()
    login(client, "obdachverwaltung_nord")
    page = client.get("/fees/?month=2025-07").get_data(as_text=True)
    assert "Bescheide zur Tarifänderung erzeugen" in page
    done = client.post("/fees/tariff-notices", data={"day": "01.07.2025", "month": "2025-07"},
                       follow_redirects=True).get_data(as_text=True)
    assert "1 Haushalt(e) betroffen, 1 Gebührenbescheid(e) erzeugt, 0 schon vorher erzeugt" in done
    sent = w.db.session.scalars(select(FeeNoticeSent)).all()
    assert len(sent) == 1 and sent[0].tariff == "heiligenhaus_2025_07" and sent[0].effective_on == date(2025, 7, 1)
    letter = w.db.session.get(Letter, sent[0].letter_id)
    text = "\n".join(par.text for par in docx.Document(io.BytesIO(
        letter_file(w.db.session, letter.id, actor=SYSTEM).data)).paragraphs)
    assert "Tarifänderung" in text and "120,00 €" in text and "Vorher" in text
    again = client.post("/fees/tariff-notices", data={"day": "01.07.2025", "month": "2025-07"},
                        follow_redirects=True).get_data(as_text=True)
    assert "0 Gebührenbescheid(e) erzeugt, 1 schon vorher erzeugt" in again
    assert len(w.db.session.scalars(select(FeeNoticeSent)).all()) == 1
    bad = client.post("/fees/tariff-notices", data={"day": "31.02.2025"}, follow_redirects=True)
    assert bad.status_code == 200 and "Neuer Tarif gilt ab" in bad.get_data(as_text=True)
    if added is not None:  # office letterheads are not purged between tests
        w.db.session.delete(added)
        w.db.session.commit()


def old_component(w, tariff):
    return w.db.session.scalars(select(w.registry.model("fee_component"))
                                .where(w.registry.model("fee_component").tariff_id == tariff.id)).first()


def test_clerk_without_the_fee_function_may_not_run(world, client):
    from tests.conftest import login
    login(client, "sachbearbeitung_nord")
    assert client.post("/fees/run", data={"month": "2025-06"}).status_code in (302, 403)
    from app.fee_models import FeeRun
    assert world.db.session.scalars(select(FeeRun)).first() is None


def test_many_new_payers_draw_distinct_kassenzeichen_in_one_go(world):
    from app.domain import kassenzeichen as kz
    from app.fee_models import FeeLine
    from app.services.kassenzeichen import config
    w = world
    for i in range(5):
        p = w.person(f"Neu{i}")
        w.book(w.case(p), p, w.a_places[i % 4] if i < 4 else w.b_places[0], date(2025, 6, 1))
    assert run()["neu"] == 10
    numbers = {ln.person_id: ln.kassenzeichen for ln in w.db.session.scalars(select(FeeLine))}
    assert len(set(numbers.values())) == 5
    method = config().check_digit
    assert all(kz.is_valid(n, method) for n in numbers.values()) or method == "keine"


def test_leistungsabo_by_hand_is_billed_by_the_run(world, factory):
    from app.fee_models import FeeLine
    w = world
    p = w.person("Abo")
    c = w.case(p)
    occ = w.book(c, p, w.a_places[0], date(2025, 5, 1))
    from app.services.history import acting_as
    sub = w.registry.model("fee_subscription")(
        case=c, person=p, place=w.a_places[0], label="Stromkostenpauschale", amount=Decimal("20.00"),
        units=Decimal("1"), unit=factory.value("fee_unit", "month"), first_day=date(2025, 6, 16), sachkonto="432140")
    sub.org_unit_id = c.org_unit_id
    with acting_as("test"):  # ("unit" is a field here, so not through factory(entity, unit, …))
        w.db.session.add(sub)
        w.db.session.commit()
    result = run()
    # Heiligenhaus 184,00 for all June, plus the Leistungsabo from the 16th: 20,00 × 15/30 days
    assert result == {"monat": "2025-06", "neu": 3, "summe": "194.00", "unterkuenfte": {"Haus A": "194.00"}}
    hand = w.db.session.scalars(select(FeeLine).where(FeeLine.kind == "hand")).one()
    assert (hand.amount, hand.days, hand.sachkonto, hand.person_id) == (Decimal("10.00"), 15, "432140", p.id)
    assert occ.id in {ln.occupancy_id for ln in w.db.session.scalars(select(FeeLine).where(FeeLine.kind == "auto"))}
    assert run()["neu"] == 0


def test_cost_shares_that_do_not_make_100_percent_are_flagged_when_saved(world, client):
    """A clerk enters the shares one by one: each save says what the shares add up to while it is not 100 %."""
    from tests.conftest import login
    w = world
    p = w.person("Anteil")
    occ = w.book(w.case(p), p, w.a_places[0], date(2025, 6, 19))
    login(client, "obdachverwaltung_nord")
    first = client.post(f"/occupancy-payer-share/add?_flt_0_occupancy={occ.id}",
                        data={"occupancy": occ.id, "percent": "70", "note": "Jobcenter"}, follow_redirects=True)
    assert first.status_code == 200
    assert "ergeben zusammen 70,00 %" in first.get_data(as_text=True)
    second = client.post(f"/occupancy-payer-share/add?_flt_0_occupancy={occ.id}",
                         data={"occupancy": occ.id, "percent": "30", "note": "selbst"}, follow_redirects=True)
    assert second.status_code == 200 and "ergeben zusammen" not in second.get_data(as_text=True)


def test_saving_a_tariff_leads_to_its_notices(world, client):
    """After a tariff version is saved, the success message links to the fee page with the day it applies from
    filled into "Bescheide zur Tarifänderung erzeugen"."""
    from tests.conftest import login
    w = world
    Tariff = w.registry.model("fee_tariff")
    old = w.db.session.scalars(select(Tariff)).one()
    login(client, "admin")
    form = {"code": "neu_2025_07", "label": "Tarif ab Juli 2025", "valid_from": "01.07.2025",
            "part_month": old.part_month_id, "counted_days": old.counted_days_id}
    saved = client.post("/fee-tariff/add", data=form, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Gebührenbescheide zur Tarifänderung ab 01.07.2025" in html
    link = "/fees/?month=2025-07&amp;day=01.07.2025#tariff-day"
    assert link in html
    page = client.get("/fees/?month=2025-07&day=01.07.2025").get_data(as_text=True)
    assert 'value="01.07.2025"' in page
