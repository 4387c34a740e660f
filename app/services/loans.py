"""Loan accounts (#13): the actions on a loan, its account as of a day, every change in the history.

The master data is the YAML entity ``loan`` (a page of the case file); bookings and state changes are the
append-only tables ``loan_booking`` and ``loan_event`` (``app/treasury_models.py``); the rules are pure in
``app/domain/loans.py``. Each action:

1. checks the workflow state, the actor's amount limit (settings.yaml ``loans.limits``) and its input, and
   raises ``LoanError`` with a German message otherwise (nothing written);
2. writes the event, the bookings and the treasury postings (``add_posting``: payout order, one Soll per
   instalment, Sollabgang/Sollzugang when a Stundung moves the plan, Sollabgang of the rest on Erlass);
3. writes a history entry (``change_log``, entity "loan") with who and when.
The caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .. import clock
from ..actor import Actor
from ..core_models import ChangeLog
from ..domain import loans as rules
from ..domain.dates import format_date
from ..domain.loans import LoanError
from ..domain.money import format_money, quantize
from ..metamodel.build_models import built_registry
from ..treasury_models import LoanBooking, LoanEvent, TreasuryPosting
from .bulk import copy_rows
from .history import change_row
from .kassenzeichen import next_kassenzeichen, register, shown
from .save_hooks import on_updating
from .seed import catalogue_value
from .treasury_payments import on_payments
from .treasury_postings import add_posting

ENTITY = "loan"
PURPOSE_FIELDS = {"amount_rent": "miete", "amount_operating": "betriebskosten", "amount_energy": "energie",
                  "amount_costs": "kosten"}
EVENT_LABELS = {"bewilligung": "Bewilligung", "ablehnung": "Ablehnung", "auszahlung": "Auszahlungsanordnung",
                "plan": "Ratenplan", "stundung": "Stundung", "stundung_widerruf": "Widerruf der Stundung",
                "niederschlagung": "Niederschlagung", "niederschlagung_ende": "Niederschlagung aufgehoben",
                "erlass": "Erlass", "freigabe": "Freigabe (Vier-Augen-Prinzip)"}


def model():
    return built_registry().model(ENTITY)


def code(value) -> str | None:
    return getattr(value, "code", None)


def total_amount(loan) -> Decimal:
    return quantize(sum((getattr(loan, name) or Decimal(0) for name in PURPOSE_FIELDS), Decimal(0)))


def _settings():
    return built_registry().spec.settings


def _history(session: Session, actor: Actor, loan, action: str, field: str, old=None, new=None) -> None:
    session.execute(insert(ChangeLog.__table__), [change_row(ENTITY, loan.id, action, actor.name, clock.utcnow(),
                                                             field, old, new)])


def _set_state(session: Session, actor: Actor, loan, state: str) -> None:
    old = code(loan.state)
    value = catalogue_value(session, "loan_state", state)
    loan.state_id = value.id
    loan.state = value
    _history(session, actor, loan, "update", "Stand", rules.WORKFLOW.get(old, old), rules.WORKFLOW[state])


def _event(session: Session, actor: Actor, loan, kind: str, **values) -> LoanEvent:
    event = LoanEvent(loan_id=loan.id, kind=kind, day=values.pop("day", None) or actor.today,
                      created_by=actor.name, **values)
    session.add(event)
    session.flush()
    text = EVENT_LABELS.get(kind, kind)
    detail = []
    if event.date_from and event.date_to:
        detail.append(f"{format_date(event.date_from)} bis {format_date(event.date_to)}")
    if event.review_on:
        detail.append(f"Wiedervorlage {format_date(event.review_on)}")
    if event.amount is not None:
        detail.append(format_money(event.amount))
    if event.pending:
        detail.append("wartet auf Freigabe")
    _history(session, actor, loan, "update", text, None, ", ".join(detail) or text)
    return event


def events(session: Session, loan_id: int) -> list[LoanEvent]:
    return list(session.scalars(select(LoanEvent).where(LoanEvent.loan_id == loan_id)
                                .order_by(LoanEvent.day, LoanEvent.id)))


def bookings(session: Session, loan_id: int) -> list[LoanBooking]:
    return list(session.scalars(select(LoanBooking).where(LoanBooking.loan_id == loan_id)
                                .order_by(LoanBooking.day, LoanBooking.id)))


# -- the account as the domain sees it ---------------------------------------------------------------------

def domain_account(loan, loan_events, loan_bookings) -> rules.Account:
    """The pure account of a loan row with its events and bookings (no queries)."""
    return account_of(code(loan.kind), code(loan.state), loan.amount, loan_events, loan_bookings)


def account_of(kind: str | None, state: str | None, amount, loan_events, loan_bookings) -> rules.Account:
    """The pure account from plain values (the report reads them with one Core query per table)."""
    terms = None
    plan_events = [e for e in loan_events if e.kind == "plan" and not e.pending]
    if plan_events and (kind or rules.DARLEHEN) == rules.DARLEHEN:
        last = plan_events[-1]
        terms = rules.Terms(last.amount, last.date_from)
    deferrals = tuple(rules.Deferral(e.date_from, e.date_to, e.ended_on) for e in loan_events
                      if e.kind == "stundung" and not e.pending)
    write_offs = tuple(rules.WriteOff(e.day, e.review_on, e.ended_on) for e in loan_events
                       if e.kind == "niederschlagung" and not e.pending)
    waived = next((e.day for e in loan_events if e.kind == "erlass" and not e.pending), None)
    return rules.Account(kind=kind or rules.DARLEHEN, amount=amount or Decimal("0.00"),
                         workflow=state or rules.BEANTRAGT, terms=terms, deferrals=deferrals,
                         write_offs=write_offs, waived_on=waived,
                         bookings=tuple(rules.Booking(b.day, b.kind, b.amount) for b in loan_bookings))


def account(session: Session, loan) -> rules.Account:
    return domain_account(loan, events(session, loan.id), bookings(session, loan.id))


def figures(session: Session, loan, as_of: date | None = None) -> rules.Figures:
    return rules.figures(account(session, loan), as_of or clock.today())


def pending_kinds(loan_events) -> frozenset[str]:
    """The kinds of events that wait for a second person's release (four eyes)."""
    return frozenset(e.kind for e in loan_events if e.pending)


def check_action(session: Session, loan, action: str, today: date) -> None:
    """Refuse an action the loan's state does not allow (a stale page, a second click, a crafted POST); what the
    account page offers is ``rules.allowed_actions`` of the same account."""
    loan_events = events(session, loan.id)
    current = domain_account(loan, loan_events, bookings(session, loan.id))
    rules.check_action(current, today, action, pending_kinds(loan_events))


# -- actions -------------------------------------------------------------------------------------------------

def _check_limit(actor: Actor, action: str, amount: Decimal) -> None:
    if actor.sees_all and not actor.profiles:
        return  # a system job (CLI, import): no profile limits
    limits = {name: {k: str(v) for k, v in values.items()} for name, values in _settings().loans.limits.items()}
    rules.check_limit(limits, actor.profiles, action, amount)


def _person(session: Session, partner_id: int | None):
    return session.get(built_registry().model("partner"), partner_id) if partner_id else None


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def household_ids(session: Session, case, today: date) -> set[int]:
    """The client and the household members of the case still living there (the possible borrowers)."""
    ids = {case.client_id} if case.client_id else set()
    registry = built_registry()
    if registry.spec.entity("household_member"):
        member = registry.model("household_member")
        for row in session.scalars(select(member).where(member.case_id == case.id)):
            if row.moved_out_on is None or row.moved_out_on > today:
                ids.add(row.member_id)
    return ids


def check_master_data(session: Session, loan, today: date) -> list[str]:
    """German messages for what keeps a loan from being approved (empty: fine)."""
    problems = []
    amount = total_amount(loan)
    if amount <= 0:
        problems.append("Betrag: bitte mindestens einen Betrag nach Zweck eintragen (Miete, Betriebskosten, "
                        "Energie, Kosten).")
    case = session.get(built_registry().model("case"), loan.case_id)
    members = household_ids(session, case, today) if case else set()
    for field, label in (("borrower_id", "Darlehensnehmer/in"), ("co_borrower_id", "weitere/r Darlehensnehmer/in")):
        person_id = getattr(loan, field)
        if person_id is None:
            continue
        if person_id not in members:
            problems.append(f"{label}: gehört nicht zum Haushalt der Fallakte (Klient/in oder Haushaltsmitglied).")
        person = _person(session, person_id)
        age = _age(getattr(person, "birth_date", None), today)
        try:
            rules.check_borrower(age)
        except LoanError as exc:
            problems.append(f"{label}: {exc}".replace("Darlehensnehmer: ", ""))
    if loan.payee_id is None:
        problems.append("Zahlungsempfänger: bitte Vermieter/in oder Energieversorger angeben.")
    if not loan.payee_iban:
        problems.append("IBAN des Zahlungsempfängers fehlt.")
    return problems


def _names(session: Session, loan) -> tuple[str, str | None]:
    person = _person(session, loan.borrower_id)
    if person is None:
        return "unbekannt", None
    return (person.surname or str(person)), getattr(person, "first_name", None)


def _cost(loan) -> dict:
    """Sachkonto, Kostenstelle, Produkt: the loan's own, else settings.yaml ``loans``, else ``treasury``."""
    settings = _settings()
    return {name: getattr(loan, name) or getattr(settings.loans, name) or getattr(settings.treasury, name) or None
            for name in ("sachkonto", "kostenstelle", "produkt")}


LOCKED_AFTER_DECISION = ("amount_rent", "amount_operating", "amount_energy", "amount_costs", "borrower_id",
                         "co_borrower_id", "payee_id", "payee_iban", "kind_id", "legal_basis_id", "rate", "first_due",
                         "case_id")


@on_updating(ENTITY)
def refuse_changes_after_decision(loan) -> None:
    """After the approval the amounts, parties, IBAN and plan terms are what the treasury has: a correction is
    a booking (Erlass/Sollabgang, Stundung), never an edit of the loan. Other fields (info, cost accounting for
    the future) stay editable."""
    from sqlalchemy import inspect as sa_inspect

    from ..errors import DomainError
    state = sa_inspect(loan)
    history = state.attrs.state_id.history
    stored_state = history.deleted[0] if history.deleted else (history.unchanged[0] if history.unchanged else loan.state_id)
    value = state.session.get(type(loan.state), stored_state) if stored_state and loan.state is not None else None
    if value is None or value.code in (rules.BEANTRAGT,):
        return
    changed = [name for name in LOCKED_AFTER_DECISION if name in state.attrs.keys() and state.attrs[name].history.has_changes()
               and _really_changed(state.attrs[name].history)]
    if changed:
        raise DomainError("Nach der Bewilligung sind Beträge, Darlehensnehmer, Zahlungsempfänger, IBAN und Raten nicht "
                          "mehr änderbar (die Kasse kennt sie); Korrekturen über Stundung, Erlass oder Niederschlagung "
                          "im Darlehenskonto.")


def _really_changed(history) -> bool:
    old = history.deleted[0] if history.deleted else (history.unchanged[0] if history.unchanged else None)
    new = history.added[0] if history.added else old
    return old != new


def prepare_application(session: Session, loan) -> bool:
    """A loan not yet decided: its total from the amounts by purpose and the state "beantragt" (the form does
    not send read-only fields). True if something changed (the caller commits)."""
    changed = False
    if loan.state is None:
        value = catalogue_value(session, "loan_state", rules.BEANTRAGT)
        loan.state_id, loan.state = value.id, value
        changed = True
    total = total_amount(loan)
    if loan.amount != total:
        loan.amount = total
        changed = True
    return changed


def approve(session: Session, actor: Actor, loan, kassenzeichen: str | None = None) -> LoanEvent:
    """Bewilligen and order the payout in one step: Kassenzeichen (drawn from the city's range, or
    ``kassenzeichen`` as the treasury gave it, check digit checked), state, payout order to the treasury."""
    rules.check_transition(code(loan.state) or rules.BEANTRAGT, "bewilligen")
    today = actor.today
    problems = check_master_data(session, loan, today)
    if problems:
        raise LoanError(" ".join(problems))
    loan.amount = total_amount(loan)
    _check_limit(actor, "bewilligen", loan.amount)
    for field, value in _cost(loan).items():
        if not getattr(loan, field):
            setattr(loan, field, value or None)
    if kassenzeichen and kassenzeichen.strip():
        from .kassenzeichen import KassenzeichenError
        try:
            loan.kassenzeichen = register(session, actor, kassenzeichen, ENTITY, loan.id, loan.org_unit_id, check=True)
        except KassenzeichenError as exc:
            raise LoanError(str(exc)) from None
        _history(session, actor, loan, "update", "Kassenzeichen", None, shown(loan.kassenzeichen))
    elif not loan.kassenzeichen:
        loan.kassenzeichen = next_kassenzeichen(session, actor, ENTITY, loan.id, loan.org_unit_id)
        _history(session, actor, loan, "update", "Kassenzeichen", None, shown(loan.kassenzeichen))
    else:
        register(session, actor, loan.kassenzeichen, ENTITY, loan.id, loan.org_unit_id)
    loan.decided_on = today
    _set_state(session, actor, loan, rules.BEWILLIGT)
    event = _event(session, actor, loan, "bewilligung", amount=loan.amount)
    payee = _person(session, loan.payee_id)
    add_posting(session, actor, kassenzeichen=loan.kassenzeichen, faellig_am=today, betrag=loan.amount,
                art="auszahlung", name=(getattr(payee, "surname", None) or str(payee))[:120],
                vorname=getattr(payee, "first_name", None), iban=loan.payee_iban,
                buchungstext=f"{rules.KINDS.get(code(loan.kind), 'Darlehen')} {shown(loan.kassenzeichen)}"[:140],
                source_kind=ENTITY, source_id=loan.id, org_unit_id=loan.org_unit_id, **_cost(loan))
    _set_state(session, actor, loan, rules.AUSGEZAHLT)
    _event(session, actor, loan, "auszahlung", amount=loan.amount)
    restamp(session, loan, actor.today)  # a grant is settled once paid out
    return event


def reject(session: Session, actor: Actor, loan, note: str | None = None) -> LoanEvent:
    rules.check_transition(code(loan.state) or rules.BEANTRAGT, "ablehnen")
    _set_state(session, actor, loan, rules.ABGELEHNT)
    event = _event(session, actor, loan, "ablehnung", note=note)
    restamp(session, loan, actor.today)
    return event


def set_plan(session: Session, actor: Actor, loan, rate: Decimal, first_due: date) -> rules.Plan:
    """Fix the instalments: n = ceil(amount / rate), one Soll per instalment to the treasury."""
    if code(loan.kind) != rules.DARLEHEN:
        raise LoanError("Eine Beihilfe wird nicht zurückgezahlt: kein Ratenplan.")
    rules.check_transition(code(loan.state) or rules.BEANTRAGT, "raten_festlegen")
    if first_due is None:
        raise LoanError("Erste Fälligkeit: bitte ein Datum angeben.")
    if any(e.kind == "plan" for e in events(session, loan.id)):
        raise LoanError("Der Ratenplan steht schon; Änderungen über Stundung.")
    plan = rules.instalment_plan(loan.amount, rate, first_due)
    loan.rate, loan.first_due = quantize(rate), first_due
    _event(session, actor, loan, "plan", amount=quantize(rate), date_from=first_due,
           note=f"{len(plan.instalments)} Raten, letzte am {format_date(plan.last_due)}")
    name, first_name = _names(session, loan)
    for item in plan.instalments:
        add_posting(session, actor, kassenzeichen=loan.kassenzeichen, faellig_am=item.due, betrag=item.amount,
                    art="soll", name=name, vorname=first_name,
                    buchungstext=f"Darlehen Rate {item.number}/{len(plan.instalments)}",
                    source_kind=ENTITY, source_id=loan.id, org_unit_id=loan.org_unit_id, **_cost(loan))
    _set_state(session, actor, loan, rules.TILGUNG)
    return plan


def _post_plan_change(session: Session, actor: Actor, loan, before: rules.Plan, after: rules.Plan, why: str) -> None:
    """A moved instalment: Sollabgang on the old due date, a new Soll on the new one (append-only)."""
    name, first_name = _names(session, loan)
    for old, new in zip(before.instalments, after.instalments):
        if old.due == new.due:
            continue
        for art, day in (("sollabgang", old.due), ("soll", new.due)):
            add_posting(session, actor, kassenzeichen=loan.kassenzeichen, faellig_am=day, betrag=old.amount,
                        art=art, name=name, vorname=first_name,
                        buchungstext=f"{why}: Rate {old.number} vom {format_date(old.due)} auf {format_date(new.due)}"[:140],
                        source_kind=ENTITY, source_id=loan.id, org_unit_id=loan.org_unit_id, **_cost(loan))


def defer(session: Session, actor: Actor, loan, start: date, end: date, note: str | None = None) -> LoanEvent:
    """Stundung from..to (revocable): the plan moves; the treasury gets the moved instalments."""
    rules.check_transition(code(loan.state) or rules.BEANTRAGT, "stunden")
    if start is None or end is None:
        raise LoanError("Stundung: bitte Beginn und Ende angeben.")
    deferral = rules.Deferral(start, end)  # refuses an end before the start
    current = account(session, loan)
    open_amount = rules.figures(current, actor.today).open
    _check_limit(actor, "stunden", open_amount)
    if current.full_plan() is None:
        raise LoanError("Stundung: es gibt noch keinen Ratenplan.")
    before = rules.deferred_plan(current.full_plan(), current.deferrals)
    after = rules.defer(before, deferral)
    event = _event(session, actor, loan, "stundung", date_from=start, date_to=end, note=note, amount=open_amount)
    _post_plan_change(session, actor, loan, before, after, "Stundung")
    return event


def revoke_deferral(session: Session, actor: Actor, loan, event_id: int) -> None:
    event = session.get(LoanEvent, event_id)
    if event is None or event.loan_id != loan.id or event.kind != "stundung" or event.ended_on is not None:
        raise LoanError("Diese Stundung gibt es nicht (mehr).")
    current = account(session, loan)
    before = rules.deferred_plan(current.full_plan(), current.deferrals)
    event.ended_on = actor.today
    session.flush()
    changed = account(session, loan)
    after = rules.deferred_plan(changed.full_plan(), changed.deferrals)
    _event(session, actor, loan, "stundung_widerruf", note=f"Stundung vom {format_date(event.date_from)}")
    _post_plan_change(session, actor, loan, before, after, "Widerruf der Stundung")


def _needs_second(open_amount: Decimal) -> bool:
    return rules.needs_second_person(_settings().loans.four_eyes_above, open_amount)


def write_off(session: Session, actor: Actor, loan, review_on: date | None, note: str | None = None) -> LoanEvent:
    """Niederschlagung: befristet (``review_on``: back on the worklist that day) or unbefristet. The claim
    survives (internal only); above the four-eyes amount it waits for a second person."""
    rules.check_transition(code(loan.state) or rules.BEANTRAGT, "niederschlagen")
    if review_on is not None and review_on <= actor.today:
        raise LoanError("Wiedervorlage: muss nach dem heutigen Tag liegen.")
    check_action(session, loan, "niederschlagen", actor.today)  # not twice, not while one waits
    open_amount = rules.figures(account(session, loan), actor.today).open
    if open_amount <= 0:
        raise LoanError("Niederschlagung: es ist nichts mehr offen.")
    _check_limit(actor, "niederschlagen", open_amount)
    return _event(session, actor, loan, "niederschlagung", review_on=review_on, note=note, amount=open_amount,
                  pending=_needs_second(open_amount))


def lift_write_off(session: Session, actor: Actor, loan, event_id: int) -> None:
    event = session.get(LoanEvent, event_id)
    if event is None or event.loan_id != loan.id or event.kind != "niederschlagung" or event.ended_on is not None:
        raise LoanError("Diese Niederschlagung gibt es nicht (mehr).")
    event.ended_on = actor.today
    _event(session, actor, loan, "niederschlagung_ende")


def waive(session: Session, actor: Actor, loan, note: str | None = None) -> LoanEvent:
    """Erlass of the rest: a booking ``erlass`` and a Sollabgang to the treasury (after the second person's
    approval when above the four-eyes amount)."""
    rules.check_transition(code(loan.state) or rules.BEANTRAGT, "erlassen")
    if any(e.kind == "erlass" for e in events(session, loan.id)):
        raise LoanError("Das Darlehen ist schon erlassen (oder der Erlass wartet auf Freigabe).")
    open_amount = rules.figures(account(session, loan), actor.today).open
    if open_amount <= 0:
        raise LoanError("Erlass: es ist nichts mehr offen.")
    _check_limit(actor, "erlassen", open_amount)
    pending = _needs_second(open_amount)
    event = _event(session, actor, loan, "erlass", amount=open_amount, note=note, pending=pending)
    if not pending:
        _book_waiver(session, actor, loan, event)
    return event


def _book_waiver(session: Session, actor: Actor, loan, event: LoanEvent) -> None:
    session.add(LoanBooking(loan_id=loan.id, day=event.day, kind=rules.ERLASS, amount=event.amount,
                            text="Erlass des Restbetrags", created_by=actor.name))
    name, first_name = _names(session, loan)
    add_posting(session, actor, kassenzeichen=loan.kassenzeichen, faellig_am=event.day, betrag=event.amount,
                art="sollabgang", name=name, vorname=first_name, buchungstext="Erlass des Restbetrags",
                source_kind=ENTITY, source_id=loan.id, org_unit_id=loan.org_unit_id, **_cost(loan))
    restamp(session, loan, max(event.day, actor.today))


def approve_pending(session: Session, actor: Actor, loan, event_id: int) -> LoanEvent:
    """The second person releases a write-off or waiver: never the one who asked for it."""
    event = session.get(LoanEvent, event_id)
    if event is None or event.loan_id != loan.id or not event.pending:
        raise LoanError("Nichts freizugeben.")
    if event.created_by == actor.name:
        raise LoanError("Vier-Augen-Prinzip: die Freigabe muss eine zweite Person erteilen.")
    action = "erlassen" if event.kind == "erlass" else "niederschlagen"
    _check_limit(actor, action, event.amount or Decimal(0))
    event.pending, event.approved_by = False, actor.name
    event.day = actor.today
    _event(session, actor, loan, "freigabe", note=EVENT_LABELS.get(event.kind), amount=event.amount)
    if event.kind == "erlass":
        _book_waiver(session, actor, loan, event)
    return event


def book_payment(session: Session, actor: Actor, loan, day: date, amount: Decimal, payment_id: int | None = None,
                 text: str | None = None) -> LoanBooking:
    """A payment on the account (negative: its reversal); a payment on a write-off (unbefristet) reopens it."""
    booking = LoanBooking(loan_id=loan.id, day=day, kind=rules.ZAHLUNG, amount=quantize(amount),
                          payment_id=payment_id, text=text, created_by=actor.name)
    session.add(booking)
    if booking.amount > 0:
        for event in events(session, loan.id):
            if event.kind == "niederschlagung" and event.review_on is None and event.ended_on is None \
                    and not event.pending and event.day <= day:
                event.ended_on = day  # unbefristet niedergeschlagen: a payment reopens the claim
                _event(session, actor, loan, "niederschlagung_ende", note="Zahlungseingang", day=day)
    _history(session, actor, loan, "update", "Zahlung", None, f"{format_money(amount)} am {format_date(day)}")
    restamp(session, loan, max(day, actor.today))
    return booking


@dataclass(frozen=True)
class PlanRow:
    number: int
    due: date
    amount: Decimal
    moved: bool


def plan_rows(session: Session, loan, current: rules.Account | None = None) -> list[PlanRow]:
    """The instalment plan as shown, deferred instalments marked; ``current``: the account if already read."""
    current = current or account(session, loan)
    plan = current.full_plan()
    if plan is None:
        return []
    moved = rules.deferred_plan(plan, current.deferrals)
    return [PlanRow(i.number, i.due, i.amount, i.due != o.due) for i, o in zip(moved.instalments, plan.instalments)]


def postings(session: Session, loan) -> list[TreasuryPosting]:
    return list(session.scalars(select(TreasuryPosting).where(TreasuryPosting.source_kind == ENTITY,
                                                              TreasuryPosting.source_id == loan.id)
                                .order_by(TreasuryPosting.id)))


@on_payments(ENTITY)
def book_imported_payments(session: Session, actor: Actor, items: list[tuple[dict, int]]) -> None:
    """The treasury's payments on loan Kassenzeichen, for a whole file: bulk bookings and history rows.

    A payment on an unbefristet written-off loan lifts the write-off (the claim survives and is paid again).
    """
    now = clock.utcnow()
    rows, history = [], []
    for values, loan_id in items:
        rows.append({"loan_id": loan_id, "day": values["buchungstag"], "kind": rules.ZAHLUNG,
                     "amount": quantize(values["betrag"]), "payment_id": values["id"],
                     "text": (values.get("verwendungszweck") or "")[:200] or None, "created_by": actor.name,
                     "created_at": now})
        history.append(change_row(ENTITY, loan_id, "update", actor.name, now, "Zahlung", None,
                                  f"{format_money(values['betrag'])} am {format_date(values['buchungstag'])} "
                                  f"(Kasse {values['buchungs_id']})"))
    for start in range(0, len(rows), 5000):
        for table, chunk in ((LoanBooking.__table__, rows[start:start + 5000]),
                             (ChangeLog.__table__, history[start:start + 5000])):
            if chunk:
                copy_rows(session, table, chunk)
    paid = {}
    for row in rows:
        if row["amount"] > 0:
            paid[row["loan_id"]] = min(paid.get(row["loan_id"], row["day"]), row["day"])
    if paid:
        ids = list(paid)
        for start in range(0, len(ids), 1000):
            for event in session.scalars(select(LoanEvent).where(
                    LoanEvent.loan_id.in_(ids[start:start + 1000]), LoanEvent.kind == "niederschlagung",
                    LoanEvent.review_on.is_(None), LoanEvent.ended_on.is_(None), LoanEvent.pending.is_(False))):
                if event.day <= paid[event.loan_id]:
                    event.ended_on = paid[event.loan_id]
                    session.add(LoanEvent(loan_id=event.loan_id, kind="niederschlagung_ende", day=event.ended_on,
                                          note="Zahlungseingang", created_by=actor.name))


# -- letters ---------------------------------------------------------------------------------------------

LETTERS = {"bewilligung": "darlehen_bewilligung", "stundung": "darlehen_stundung",
           "niederschlagung": "darlehen_niederschlagung", "erlass": "darlehen_erlass"}


def letter_values(session: Session, loan, event: LoanEvent | None = None) -> dict:
    """The ``loan`` placeholders of a letter (app/letters/placeholders.py) for this loan and event."""
    from ..metamodel.kinds.text import format_iban
    today = clock.today()
    current = account(session, loan)
    f = rules.figures(current, event.day if event else today)
    full = current.full_plan()
    plan = rules.deferred_plan(full, current.deferrals) if full else None
    payee = _person(session, loan.payee_id)
    purposes = ", ".join(f"{rules.PURPOSES[p]} {format_money(getattr(loan, name))}"
                         for name, p in PURPOSE_FIELDS.items() if getattr(loan, name))
    values = {"kassenzeichen": shown(loan.kassenzeichen), "kind": rules.KINDS.get(code(loan.kind), ""),
              "legal_basis": rules.LEGAL_BASES.get(code(loan.legal_basis), ""), "amount": loan.amount,
              "purposes": purposes, "payee": str(payee) if payee else "",
              "payee_iban": format_iban(loan.payee_iban) if loan.payee_iban else "", "open_amount": f.open}
    if plan:
        values.update(rate=full.instalments[0].amount, first_due=full.first_due,
                      instalments=str(len(plan.instalments)), last_due=plan.last_due)
    if event is not None and event.kind == "stundung":
        values.update(deferred_from=event.date_from, deferred_to=event.date_to)
        following = plan.next_due(event.date_to) if plan else None
        values["next_due"] = following.due if following else None
    if event is not None and event.kind == "niederschlagung":
        values.update(review_on=event.review_on, write_off_kind="befristet" if event.review_on else "unbefristet")
    if event is not None and event.kind == "erlass":
        values["waived_amount"] = event.amount
    return values


def write_letter(session: Session, actor: Actor, loan, event: LoanEvent, user=None):
    """The letter of an event (approval, deferral, write-off, waiver), archived with a documentation entry
    of its service (services.yaml: ``darlehen_*``) on the loan's case. Returns the Letter."""
    from ..letters.archive import generate_letter
    from ..letters.entries import entry_for_letter
    from ..letters.sources import case_letter_context
    template = LETTERS.get(event.kind)
    if template is None:
        raise LoanError(f"Zu „{EVENT_LABELS.get(event.kind, event.kind)}“ gibt es keinen Brief.")
    case = session.get(built_registry().model("case"), loan.case_id)
    context = case_letter_context(session, case, user=user, actor=actor, today=actor.today,
                                  extra={"loan": letter_values(session, loan, event)})
    entry = entry_for_letter(session, case, template, user, actor.today)
    letter = generate_letter(session, template, context, case=case, doc_entry_id=entry.id if entry else None,
                             user=user or actor.name, pdf=False, today=actor.today, actor=actor)
    _history(session, actor, loan, "update", "Brief", None, letter.file_name)
    return letter


# -- settlement date (the clock of "10 years after settlement", retention #15) ---------------------------------

SETTLEMENT_FIELD = "settled_on"
_SETTLING_STATES = (rules.AUSGEZAHLT, rules.TILGUNG, rules.ABGELEHNT)


def restamp(session: Session, loan, today: date) -> None:
    """Keep one loan's settlement date current after a booking or event (the retention run re-derives all)."""
    session.flush()
    evs = events(session, loan.id)
    value = rules.settlement_date(
        account(session, loan), today, paid_out_on=next((e.day for e in evs if e.kind == "auszahlung"), None),
        rejected_on=next((e.day for e in reversed(evs) if e.kind == "ablehnung"), None))
    if getattr(loan, SETTLEMENT_FIELD, None) != value:
        setattr(loan, SETTLEMENT_FIELD, value)


def refresh_settlement(session: Session, today: date, field: str = SETTLEMENT_FIELD) -> int:
    """Stamp every loan's settlement date (``rules.settlement_date``) derived from its bookings and events into
    ``field``; loans still applied for or approved have none. A few queries for all loans (the retention run
    calls it before deciding); only changed rows are written. Returns how many changed."""
    from sqlalchemy import update
    from sqlalchemy.orm import aliased

    from ..core_models import CatalogueValue
    from ..metamodel.build_models import column_name
    registry = built_registry()
    loan = registry.model(ENTITY)
    name = column_name(registry.entity(ENTITY).field(field))
    column = getattr(loan, name)
    kind, state = aliased(CatalogueValue), aliased(CatalogueValue)
    rows = session.execute(
        select(loan.id, kind.code, state.code, loan.amount, column)
        .join(kind, loan.kind_id == kind.id, isouter=True).join(state, loan.state_id == state.id, isouter=True)).all()
    live = [r for r in rows if r[2] in _SETTLING_STATES]
    events_by: dict[int, list] = {}
    bookings_by: dict[int, list] = {}
    ids = [r[0] for r in live]
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        for e in session.execute(select(LoanEvent.loan_id, LoanEvent.kind, LoanEvent.day, LoanEvent.date_from,
                                        LoanEvent.date_to, LoanEvent.review_on, LoanEvent.ended_on, LoanEvent.amount,
                                        LoanEvent.pending).where(LoanEvent.loan_id.in_(chunk))
                                 .order_by(LoanEvent.day, LoanEvent.id)):
            events_by.setdefault(e.loan_id, []).append(e)
        for b in session.execute(select(LoanBooking.loan_id, LoanBooking.day, LoanBooking.kind, LoanBooking.amount)
                                 .where(LoanBooking.loan_id.in_(chunk))):
            bookings_by.setdefault(b.loan_id, []).append(b)
    wanted: dict[int, date | None] = {r[0]: None for r in rows if r[2] not in _SETTLING_STATES}
    for loan_id, kind_code, state_code, amount, _old in live:
        evs = events_by.get(loan_id, [])
        acc = account_of(kind_code, state_code, amount, evs, bookings_by.get(loan_id, []))
        wanted[loan_id] = rules.settlement_date(
            acc, today, paid_out_on=next((e.day for e in evs if e.kind == "auszahlung"), None),
            rejected_on=next((e.day for e in reversed(evs) if e.kind == "ablehnung"), None))
    current = {r[0]: r[4] for r in rows}
    changed: dict[date | None, list[int]] = {}
    for loan_id, value in wanted.items():
        if current.get(loan_id) != value:
            changed.setdefault(value, []).append(loan_id)
    for value, loan_ids in changed.items():
        for start in range(0, len(loan_ids), 1000):
            session.execute(update(loan.__table__).where(loan.__table__.c.id.in_(loan_ids[start:start + 1000]))
                            .values({name: value}))
    return sum(len(v) for v in changed.values())
