"""Fee debits and landlord payouts as treasury postings (#12 §4 through the #13 core, ``docs/kasse.md``).

1. Every payer (the person, or the Jobcenter/Sozialamt entered on the occupancy) has one Kassenzeichen for
   shelter fees, drawn from the city's range the first time (``source_kind`` ``shelter_fee``, the payer's
   partner id); payments on it come back through the payment import.
2. A run's new lines become one posting per payer, Sachkonto, Kostenstelle and Produkt: a positive sum is a
   ``soll`` (``sollzugang`` when that payer already has a posting for the month), a negative one — lines
   reversed after a late move-out — a ``sollabgang``. Postings are never changed (append-only).
3. Due: the 5th working day of the month (Heiligenhaus § 4: "bis zum 5. Werktag eines jeden Monats"); a run
   after that day (back-billing) makes it due 3 working days after the run.
4. Rented flats (``shelter_lease``): the month's rent, by calendar days of the lease in the month, is an
   ``auszahlung`` to the landlord, once per lease and month (``vorgang`` ``miete-<lease>-<JJJJ-MM>``).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..domain import fees as rules
from ..domain.money import quantize
from ..fee_models import FeeRun
from ..metamodel.build_models import built_registry
from ..core_models import utcnow
from ..domain import kassenzeichen as kz_rules
from ..treasury_models import POSTING_KINDS, KassenzeichenCounter, KassenzeichenEntry, TreasuryPosting
from .documentation import working_calendar
from .kassenzeichen import KassenzeichenError, next_kassenzeichen
from .kassenzeichen import config as kz_config
from .treasury_postings import PostingError, add_posting, cost_defaults

FEE_KIND = "shelter_fee"
RENT_KIND = "shelter_rent"


def payer_kassenzeichen(session: Session, actor: Actor, payer_id: int, org_unit_id: int | None = None) -> str:
    """The payer's Kassenzeichen for shelter fees (drawn once, then reused)."""
    found = session.scalars(select(KassenzeichenEntry.value).where(
        KassenzeichenEntry.source_kind == FEE_KIND, KassenzeichenEntry.source_id == payer_id)).first()
    if found:
        return found
    return next_kassenzeichen(session, actor, FEE_KIND, payer_id, org_unit_id)


def payers_kassenzeichen(session: Session, actor: Actor, payers: dict[int, int | None]) -> dict[int, str]:
    """``payer_kassenzeichen`` for many payers ({payer: org unit}): the known ones in one query."""
    known = dict(session.execute(select(KassenzeichenEntry.source_id, KassenzeichenEntry.value).where(
        KassenzeichenEntry.source_kind == FEE_KIND)).all())
    missing = sorted(payer for payer in payers if payer not in known)
    if len(missing) <= 3:
        for payer in missing:
            known[payer] = next_kassenzeichen(session, actor, FEE_KIND, payer, payers[payer])
    elif missing:
        known.update(_draw_many(session, actor, {payer: payers[payer] for payer in missing}))
    return {payer: known[payer] for payer in payers}


def _draw_many(session: Session, actor: Actor, payers: dict[int, int | None]) -> dict[int, str]:
    """``next_kassenzeichen`` for many payers under one lock of the counter, registered with one INSERT
    (the first run of a city draws a number for every payer)."""
    cfg = kz_config()
    counter = session.execute(select(KassenzeichenCounter).where(KassenzeichenCounter.prefix == cfg.prefix)
                              .with_for_update()).scalar_one_or_none()
    if counter is None:
        counter = KassenzeichenCounter(prefix=cfg.prefix, last=cfg.start - 1)
        session.add(counter)
    taken = set(session.scalars(select(KassenzeichenEntry.value)))
    drawn, rows = {}, []
    number = max(counter.last, cfg.start - 1)
    for payer, unit in payers.items():
        while True:
            number += 1
            if number > cfg.end:
                raise KassenzeichenError(f"Der Nummernkreis der Kassenzeichen ({cfg.start}–{cfg.end}) ist erschöpft; "
                                         "bitte in settings.yaml (treasury.kassenzeichen) erweitern.")
            value = kz_rules.compose(cfg.prefix, number, cfg.digits, cfg.check_digit)
            if value not in taken:  # a number entered by hand from the treasury may be taken: skip it
                break
        drawn[payer] = value
        rows.append(dict(value=value, source_kind=FEE_KIND, source_id=payer, org_unit_id=unit,
                         created_by=actor.name, created_at=utcnow()))
    counter.last = number
    session.flush()
    from .bulk import copy_rows
    copy_rows(session, KassenzeichenEntry.__table__, rows)
    return drawn


def due_date(year: int, month: int, today: date) -> date:
    cal = working_calendar(built_registry().spec)
    first, _ = rules.month_bounds(year, month)
    fifth = cal.add_working_days(first - timedelta(days=1), 5)
    return fifth if today <= fifth else cal.add_working_days(today, 3)


def _names(session: Session, partner_ids) -> dict[int, tuple[str, str | None]]:
    partner = built_registry().model("partner")
    rows = session.execute(select(partner.id, partner.surname, partner.first_name).where(
        partner.id.in_(list(partner_ids)))).all()
    return {r.id: (r.surname or f"Partner {r.id}", r.first_name) for r in rows}


def hand_over(session: Session, actor: Actor, run: FeeRun, lines: list[dict], year: int, month: int
              ) -> tuple[int, int]:
    """Postings for the run's new lines (dicts, before they are written: this sets their ``kassenzeichen`` and
    ``posting_id``) and the month's payouts; returns (debit postings, payouts)."""
    due = due_date(year, month, actor.today)
    payers = {}
    for line in lines:
        if not line["kassenzeichen"]:
            payers.setdefault(line["payer_id"], line["org_unit_id"])
    numbers = payers_kassenzeichen(session, actor, payers)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for line in lines:
        if not line["kassenzeichen"]:
            line["kassenzeichen"] = numbers[line["payer_id"]]
        groups[(line["payer_id"], line["kassenzeichen"], line["sachkonto"], line["kostenstelle"],
                line["produkt"])].append(line)
    names = _names(session, {key[0] for key in groups})
    earlier = {(kz, konto) for kz, konto in session.execute(
        select(TreasuryPosting.kassenzeichen, TreasuryPosting.sachkonto).where(
            TreasuryPosting.source_kind == FEE_KIND,
            TreasuryPosting.buchungstext.like(f"%{month:02d}/{year:04d}%")))}
    postings: list[tuple[dict, list[dict]]] = []
    for (payer_id, number, sachkonto, kostenstelle, produkt), group in sorted(groups.items(),
                                                                             key=lambda kv: str(kv[0])):
        net = sum((ln["amount"] for ln in group), Decimal("0.00"))
        if net == 0:
            continue
        art = "sollabgang" if net < 0 else ("sollzugang" if (number, sachkonto) in earlier else "soll")
        surname, first_name = names.get(payer_id, (f"Partner {payer_id}", None))
        shelters = sorted({ln["shelter_name"] for ln in group if ln["shelter_name"]})
        fields = dict(kassenzeichen=number, faellig_am=due, betrag=abs(net), art=art, name=surname,
                      vorname=first_name,
                      buchungstext=f"Unterkunftsgebühr {month:02d}/{year:04d} {', '.join(shelters)}"[:140],
                      source_kind=FEE_KIND, source_id=payer_id, org_unit_id=group[0]["org_unit_id"],
                      sachkonto=sachkonto, kostenstelle=kostenstelle, produkt=produkt,
                      vorgang=f"{FEE_KIND}-{run.id}-{len(postings) + 1}")  # unique per run and posting
        postings.append((fields, group))
        earlier.add((number, sachkonto))
    ids = add_postings(session, actor, [fields for fields, _ in postings])
    for posting_id, (_, group) in zip(ids, postings):
        for ln in group:
            ln["posting_id"] = posting_id
    count = len(ids)
    return count, rent_payouts(session, actor, year, month, due)


def add_postings(session: Session, actor: Actor, items: list[dict]) -> list[int]:
    """Many postings at once, by the rules of ``treasury_postings.add_posting`` (docs/kasse.md: positive amount,
    known ``art``, a date, the city's cost defaults for empty fields, normalised Kassenzeichen), written with one
    INSERT … RETURNING instead of a flush per posting (a city's month has thousands). Returns the ids in order."""
    if not items:
        return []
    defaults = cost_defaults()
    rows = []
    for fields in items:
        if fields["art"] not in POSTING_KINDS:
            raise PostingError(f"art: „{fields['art']}“ ist keine Buchungsart.")
        betrag = quantize(fields["betrag"])
        if betrag <= 0:
            raise PostingError("betrag: muss größer als 0,00 € sein (die Richtung steht in „art“).")
        if not isinstance(fields["faellig_am"], date) or not fields.get("name") or not fields.get("vorgang"):
            raise PostingError("Kassenbuchung: es fehlt faellig_am, name oder vorgang.")
        rows.append(dict(
            kassenzeichen=kz_rules.normalise(fields["kassenzeichen"]), faellig_am=fields["faellig_am"],
            betrag=betrag, art=fields["art"], name=str(fields["name"])[:120], vorname=fields.get("vorname") or None,
            buchungstext=fields.get("buchungstext") or None, vorgang=fields["vorgang"], iban=fields.get("iban") or None,
            source_kind=fields["source_kind"], source_id=int(fields["source_id"]),
            org_unit_id=fields.get("org_unit_id"), batch_id=None, created_by=actor.name, created_at=utcnow(),
            **{name: fields.get(name) or defaults[name] for name in defaults}))
    if session.get_bind().dialect.name == "postgresql":
        # Ids drawn from the table's sequence first, then one COPY (no multi-row INSERT … RETURNING to parse).
        from sqlalchemy import text

        from .bulk import copy_rows
        ids = list(session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence('treasury_posting', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)}))
        for row, posting_id in zip(rows, ids):
            row["id"] = posting_id
        copy_rows(session, TreasuryPosting.__table__, rows)
        return ids
    result = session.execute(insert(TreasuryPosting).returning(TreasuryPosting.id, sort_by_parameter_order=True),
                             rows)
    return [row.id for row in result]


def rent_payouts(session: Session, actor: Actor, year: int, month: int, due: date) -> int:
    """Rule 4: one payout order per lease and month (a second run adds none)."""
    registry = built_registry()
    if "shelter_lease" not in registry.entities:
        return 0
    lease, shelter = registry.model("shelter_lease"), registry.model("shelter")
    first, last = rules.month_bounds(year, month)
    rows = session.execute(select(lease, shelter.name, shelter.org_unit_id).join(shelter, shelter.id == lease.shelter_id)
                           .where(lease.valid_from <= last, or_(lease.valid_to.is_(None), lease.valid_to >= first)))
    made = 0
    month_text = f"{year:04d}-{month:02d}"
    for item, shelter_name, unit_id in rows:
        vorgang = f"miete-{item.id}-{month_text}"
        if session.scalars(select(TreasuryPosting.id).where(TreasuryPosting.vorgang == vorgang)).first():
            continue
        start, stop = max(first, item.valid_from), min(last, item.valid_to or last)
        days = (stop - start).days + 1
        amount = quantize(item.rent * days / last.day)
        if amount <= 0:
            continue
        surname, first_name = _names(session, [item.landlord_id]).get(item.landlord_id, ("Vermieter", None))
        kz = payer_kassenzeichen(session, actor, item.landlord_id, unit_id)
        add_posting(session, actor, kassenzeichen=kz, faellig_am=due, betrag=amount, art="auszahlung",
                    name=surname, vorname=first_name, iban=item.iban,
                    buchungstext=f"Miete {month:02d}/{year:04d} {shelter_name}"[:140], source_kind=RENT_KIND,
                    source_id=item.id, org_unit_id=unit_id, vorgang=vorgang, sachkonto=item.sachkonto,
                    kostenstelle=item.kostenstelle, produkt=item.produkt)
        made += 1
    return made
