"""The Gebührenbescheid (#12 §4): one click on move-in, transfer, tariff change or move-out.

1. The notice is for the household: every occupancy of the case that has a counted day from the event day on
   (move-in, transfer, tariff change) or in the month of the move-out.
2. The calculation is the domain's fee lines (``app.domain.fees``) from the event day to the end of the event
   month (open stays) or to the move-out; the full monthly amount is stated for the months after.
3. Due dates follow the Satzung Heiligenhaus § 4: the part month 3 working days after the event, then each
   month's fee on the 5th working day of the month.
4. Kassenzeichen: the payer's (``fee_treasury.payer_kassenzeichen``), drawn once. Bank details come from
   ``fees.yaml`` (``bank``), the Rechtsbehelfsbelehrung from the office's letterhead.
5. The letter is archived with a documentation entry of the service whose template it is
   (``gebuehrenbescheid``), like every letter.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from types import SimpleNamespace
from decimal import Decimal

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..domain import fees as rules
from ..domain.money import format_money
from ..errors import DomainError
from ..letters.archive import generate_letter
from ..letters.context import recipient_block
from ..letters.entries import entry_for_letter
from ..letters.placeholders import Missing
from ..letters.sources import case_letter_context, visible_case
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from .documentation import working_calendar
from .fee_treasury import payer_kassenzeichen
from .fees import catalogue, stays_touching, tariff_file

TEMPLATE = "gebuehrenbescheid"
REASONS = {"einzug": "Einzug", "umzug": "Umzug", "tarif": "Tarifänderung", "auszug": "Auszug"}


def _model(name: str):
    return built_registry().model(name)


def bank_details() -> str:
    try:
        data = yaml.safe_load(tariff_file().read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ""
    return str(data.get("bank") or "")


def _d(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def _months(first: date, last: date):
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def notice_values(session: Session, actor: Actor, occupancy_id: int, reason: str, on: date | None = None) -> dict:
    """The ``fee`` placeholder group of the notice (see the module text); DomainError if nothing is billed."""
    if reason not in REASONS:
        raise DomainError(f"Anlass „{reason}“ unbekannt (erlaubt: {', '.join(REASONS)}).")
    occupancy = _model("occupancy")
    occ = session.scalar(scope_query(select(occupancy).where(occupancy.id == occupancy_id), occupancy, actor=actor))
    if occ is None:
        raise DomainError("Diese Belegung gibt es nicht oder sie gehört nicht zu Ihren Dienststellen.")
    if reason == "auszug" and occ.move_out is None:
        raise DomainError("Die Belegung hat noch keinen Auszug; bitte erst den Auszug eintragen.")
    event = on or (occ.move_out if reason == "auszug" else occ.move_in)
    start = rules.month_bounds(event.year, event.month)[0] if reason == "auszug" else event
    household = list(session.scalars(select(occupancy).where(
        occupancy.case_id == occ.case_id, or_(occupancy.move_out.is_(None), occupancy.move_out >= start))))
    persons = {o.person_id for o in household}
    end = max((o.move_out or date.min for o in household), default=date.min)
    open_ended = any(o.move_out is None for o in household)
    last = rules.month_bounds(start.year, start.month)[1] if open_ended else end
    if reason != "auszug" and not open_ended and end < start:
        raise DomainError("Für diesen Zeitraum ist niemand des Haushalts untergebracht.")
    cat = catalogue(session)
    stays = [s for s in stays_touching(session, start, max(last, start), person_ids=persons)
             if s.occupancy.case_id == occ.case_id]
    lines = []
    for year, month in _months(start, max(last, start)):
        for line in rules.month_lines(stays, cat, year, month):
            if line.last_day >= start:
                lines.append(line)
    if not lines:
        raise DomainError("Für diese Belegung fällt nach den Gebührentarifen keine Gebühr an "
                          "(Rechtsgrundlage oder Anbieter der Unterkunft).")
    partner = _model("partner")
    names = {p.id: " ".join(x for x in (p.first_name, p.surname) if x)
             for p in session.scalars(select(partner).where(partner.id.in_(persons)))}
    place, room, shelter = _model("place"), _model("room"), _model("shelter")
    here = session.execute(select(place.label, room.label, shelter.name, shelter.street, shelter.house_number,
                                  shelter.postcode, shelter.city).join(room, room.id == place.room_id)
                           .join(shelter, shelter.id == room.shelter_id).where(place.id == occ.place_id)).one()
    address = ", ".join(x for x in (" ".join(y for y in (here.street, here.house_number) if y),
                                     " ".join(y for y in (here.postcode, here.city) if y)) if x)
    tariffs = {t.code: t for t in cat.tariffs}
    used = [tariffs[c] for c in dict.fromkeys(ln.tariff for ln in lines)]
    tariff_text = "; ".join(", ".join(f"{c.label} {format_money(c.amount)} {rules.BASES[c.basis]} "
                                       f"{rules.UNITS[c.unit].replace('je ', 'und ') if c.basis in ('person', 'place') else rules.UNITS[c.unit]}"
                                       for c in t.components) for t in used)
    monthly_one = sum((c.amount for c in used[-1].components if c.unit == "month" and c.basis in ("person", "place")),
                      Decimal("0.00"))
    monthly = monthly_one * len({ln.person for ln in lines if ln.tariff == used[-1].code})
    by_month: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    text_lines = []
    for ln in sorted(lines, key=lambda x: (x.first_day, str(x.person), x.component)):
        by_month[f"{ln.first_day:%m/%Y}"] += ln.amount
        text_lines.append(f"{ln.first_day:%m/%Y} {names.get(ln.person, '')}, {ln.label}: {ln.first_day:%d.%m.}–"
                          f"{_d(ln.last_day)} ({ln.days} Tage), {ln.calculation} = {format_money(ln.amount)}")
    total = sum(by_month.values(), Decimal("0.00"))
    cal = working_calendar(built_registry().spec)
    due = [f"{format_money(amount)} für {m} am {_d(cal.add_working_days(max(event, actor.today), 3))}"
           for m, amount in by_month.items()]
    if open_ended and monthly:
        due.append(f"danach {format_money(monthly)} monatlich, jeweils am 5. Werktag des Monats")
    payer_id = occ.payer_id or occ.person_id
    payer = session.get(partner, payer_id)
    rule = (f"{rules.PART_MONTH_RULES[used[-1].part_month]} im angefangenen Monat; "
            f"{rules.COUNTED_DAYS[used[-1].counted_days]}; ein Umzugstag zählt einmal, für den neuen Platz")
    return {
        "reason": REASONS[reason], "person": ", ".join(names[p] for p in sorted(persons) if p in names),
        "shelter": f"{here.name}{', ' + address if address else ''}", "place": f"{here[1]}, Platz {here[0]}",
        "period": f"{_d(start)} bis {_d(end) if not open_ended else 'auf Weiteres'}",
        "tariff": tariff_text, "satzung": used[-1].satzung or used[-1].label, "rule": rule, "lines": text_lines,
        "total": format_money(total), "monthly": format_money(monthly) if monthly else "–",
        "due_dates": due,
        "kassenzeichen": _shown(payer_kassenzeichen(session, actor, payer_id, occ.org_unit_id)),
        "payer": " ".join(x for x in (getattr(payer, "first_name", None), getattr(payer, "surname", None)) if x),
        "bank": bank_details(),
    }


def _shown(value: str) -> str:
    from .kassenzeichen import shown
    return shown(value)


def _shelter_address(session: Session, occupancy_id: int) -> SimpleNamespace:
    occupancy, shelter = _model("occupancy"), _model("shelter")
    row = session.execute(select(shelter.street, shelter.house_number, shelter.postcode, shelter.city)
                          .join(occupancy, occupancy.shelter_id == shelter.id)
                          .where(occupancy.id == occupancy_id)).one()
    return SimpleNamespace(street=row.street, house_number=row.house_number, postcode=row.postcode, city=row.city,
                           country=None, care_of=None, kind="main")


def make_fee_notice(session: Session, actor: Actor, user, occupancy_id: int, reason: str, on: date | None = None):
    """Render and archive the Gebührenbescheid with its documentation entry; the caller commits."""
    values = notice_values(session, actor, occupancy_id, reason, on)
    occupancy = _model("occupancy")
    case = visible_case(session, session.get(occupancy, occupancy_id).case_id, actor)
    today = actor.today
    context = case_letter_context(session, case, user=user, today=today, extra={"fee": values}, actor=actor)
    if isinstance(context["recipient"].get("street"), Missing):
        # Without an address of their own, people live where they are accommodated: the shelter is the address.
        context["recipient"] = recipient_block(case.client, _shelter_address(session, occupancy_id))
    entry = entry_for_letter(session, case, TEMPLATE, user, today)
    return generate_letter(session, TEMPLATE, context, case=case, doc_entry_id=entry.id if entry else None,
                           user=user, today=today)



def tariff_change_notices(session: Session, actor: Actor, user, day: date, *, dry_run: bool = False) -> dict:
    """"Bescheide zur Tarifänderung erzeugen": every household with a person whose tariff changes on ``day``
    (``rules.tariff_changes``: there the night before and still there, another tariff from ``day`` on) gets
    its Gebührenbescheid (reason "tarif", calculated from ``day``), once: a household already served for this
    day is skipped, so the action can be repeated. Only households the actor may see. The caller commits.

    Returns ``{"stichtag", "betroffen" (households), "neu" (letters made), "bereits" (skipped), "briefe"}``."""
    from ..fee_models import FeeNoticeSent
    occupancy = _model("occupancy")
    cat = catalogue(session)
    try:
        changes = rules.tariff_changes(stays_touching(session, day - timedelta(days=1), day), cat, day)
    except rules.FeeError as exc:
        raise DomainError(str(exc)) from None
    visible = set(session.scalars(scope_query(
        select(occupancy.id).where(occupancy.id.in_([s.occupancy.id for s, _ in changes] or [0])),
        occupancy, actor=actor)))
    first: dict[int, tuple[int, str]] = {}
    for stay, tariff in sorted(changes, key=lambda c: c[0].occupancy.id):
        if stay.occupancy.id in visible:
            first.setdefault(stay.occupancy.case_id, (stay.occupancy.id, tariff.code))
    done = set(session.scalars(select(FeeNoticeSent.case_id).where(
        FeeNoticeSent.reason == "tarif", FeeNoticeSent.effective_on == day,
        FeeNoticeSent.case_id.in_(list(first) or [0]))))
    letters = []
    for case_id, (occupancy_id, tariff_code) in sorted(first.items()):
        if case_id in done or dry_run:
            continue
        letter = make_fee_notice(session, actor, user, occupancy_id, "tarif", on=day)
        session.add(FeeNoticeSent(case_id=case_id, occupancy_id=occupancy_id, reason="tarif", effective_on=day,
                                  tariff=tariff_code, letter_id=letter.id,
                                  created_by=getattr(user, "username", None) or actor.name))
        session.flush()
        letters.append(letter)
    return {"stichtag": day.isoformat(), "betroffen": len(first), "neu": len(letters),
            "bereits": len(done), "briefe": letters}
