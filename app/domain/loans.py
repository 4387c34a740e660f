"""Loans and grants for rent and energy arrears (§ 22 Abs. 8 SGB II, § 36 SGB XII): pure rules, no database.

1. ``instalment_plan``: n = ceil(amount / rate) instalments of ``rate``, the last one the remainder;
   instalment k falls due on the first due date plus k months, the day of month kept and clipped to the
   month's end (31.01. → 28./29.02. → 31.03.).
2. ``defer``: a Stundung from..to moves, from the first instalment due inside [from, to] on, every
   instalment by the smallest whole number of months that puts that first one after ``to``.
3. ``figures``: as of a date (only bookings dated on or before it count) paid, open, due, arrears and the
   status; an overpayment leaves a negative open amount, shown as a refund due.

Stundung (erhebliche Härte, fixed period, revocable), Niederschlagung (internal only, the claim survives;
befristet with a date to look again, or unbefristet) and Erlass (the rest as a Sollabgang) follow HGrG § 31,
§ 59 LHO and § 44 SGB II (research money-and-shelters §3).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, Decimal

from .money import format_money, quantize, to_decimal

ZERO = Decimal("0.00")

# Kinds (art) of a loan account.
DARLEHEN, BEIHILFE = "darlehen", "beihilfe"
KINDS = {DARLEHEN: "Darlehen", BEIHILFE: "Beihilfe (Zuschuss)"}
LEGAL_BASES = {"sgb2_22_8": "§ 22 Abs. 8 SGB II", "sgb12_36": "§ 36 SGB XII"}
PURPOSES = {"miete": "Mietrückstand", "betriebskosten": "Betriebskosten", "energie": "Energieschulden",
            "kosten": "Kosten (Gericht, Anwalt, Räumung)"}
REPAYMENT_MODES = {"raten": "Ratenzahlung", "aufrechnung": "Aufrechnung (§ 42a Abs. 2 SGB II)"}

# Workflow states (stored on the account) in their order.
BEANTRAGT, BEWILLIGT, AUSGEZAHLT, TILGUNG, ABGELEHNT = "beantragt", "bewilligt", "ausgezahlt", "tilgung", "abgelehnt"
WORKFLOW = {BEANTRAGT: "beantragt", BEWILLIGT: "bewilligt", AUSGEZAHLT: "ausgezahlt", TILGUNG: "in Tilgung",
            ABGELEHNT: "abgelehnt"}
# As-of statuses (computed): the order of the checks in ``status``.
ERLASSEN, NIEDERGESCHLAGEN, GESTUNDET, GETILGT, LAUFEND = "erlassen", "niedergeschlagen", "gestundet", "getilgt", "laufend"
STATUSES = {ERLASSEN: "erlassen", NIEDERGESCHLAGEN: "niedergeschlagen", GESTUNDET: "gestundet", GETILGT: "getilgt",
            LAUFEND: "laufend", BEANTRAGT: "beantragt", BEWILLIGT: "bewilligt", ABGELEHNT: "abgelehnt"}

# Which action is allowed in which workflow state.
TRANSITIONS = {
    "bewilligen": {BEANTRAGT},
    "ablehnen": {BEANTRAGT},
    "auszahlen": {BEWILLIGT},
    "raten_festlegen": {AUSGEZAHLT, TILGUNG},
    "stunden": {TILGUNG},
    "niederschlagen": {AUSGEZAHLT, TILGUNG},
    "erlassen": {AUSGEZAHLT, TILGUNG},
}

# Booking kinds of an account (append-only; a correction is a reversal plus a new booking).
ZAHLUNG, ERLASS = "zahlung", "erlass"


class LoanError(ValueError):
    """A rule of the loan account is broken; the message is German and names the field."""


def add_months(start: date, months: int, day: int | None = None) -> date:
    """``start`` plus ``months`` calendar months, on ``day`` (default: start's day) clipped to the month's end."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day or start.day, last))


@dataclass(frozen=True)
class Instalment:
    number: int       # 1-based
    offset: int       # months after the first due date (grows with every Stundung)
    amount: Decimal
    due: date


@dataclass(frozen=True)
class Plan:
    first_due: date   # the anchor: its day of month is kept for every instalment
    instalments: tuple[Instalment, ...]

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.instalments), ZERO)

    def due_by(self, day: date) -> Decimal:
        return sum((i.amount for i in self.instalments if i.due <= day), ZERO)

    def next_due(self, day: date) -> Instalment | None:
        return next((i for i in self.instalments if i.due > day), None)

    @property
    def last_due(self) -> date | None:
        return self.instalments[-1].due if self.instalments else None


def instalment_plan(amount, rate, first_due: date) -> Plan:
    """n = ceil(amount / rate) instalments of ``rate``, the last the remainder; k-th on first_due + k months."""
    amount, rate = quantize(to_decimal(amount)), quantize(to_decimal(rate))
    if amount <= 0:
        raise LoanError("Betrag: muss größer als 0,00 € sein.")
    if rate <= 0:
        raise LoanError("Rate: muss größer als 0,00 € sein (eine Rate von 0 tilgt nie).")
    count = int((amount / rate).to_integral_value(rounding=ROUND_CEILING))
    items = []
    for k in range(count):
        value = rate if k < count - 1 else amount - rate * (count - 1)
        items.append(Instalment(k + 1, k, value, add_months(first_due, k, first_due.day)))
    return Plan(first_due, tuple(items))


@dataclass(frozen=True)
class Deferral:
    """A Stundung from..to (inclusive); ``revoked_on`` ends it early (jederzeit widerruflich)."""
    start: date
    end: date
    revoked_on: date | None = None

    def __post_init__(self):
        if self.end < self.start:
            raise LoanError(f"Stundung: das Ende ({self.end:%d.%m.%Y}) liegt vor dem Beginn ({self.start:%d.%m.%Y}).")

    def running_on(self, day: date) -> bool:
        if self.revoked_on is not None and self.revoked_on <= day:
            return False
        return self.start <= day <= self.end


def defer(plan: Plan, deferral: Deferral) -> Plan:
    """Move the plan for one Stundung (see the module text); a plan with nothing due in [from, to] stays."""
    first = next((i for i in plan.instalments if deferral.start <= i.due <= deferral.end), None)
    if first is None:
        return plan
    shift = 1
    while add_months(plan.first_due, first.offset + shift, plan.first_due.day) <= deferral.end:
        shift += 1
    moved = []
    for item in plan.instalments:
        if item.number >= first.number:
            offset = item.offset + shift
            item = replace(item, offset=offset, due=add_months(plan.first_due, offset, plan.first_due.day))
        moved.append(item)
    return Plan(plan.first_due, tuple(moved))


def deferred_plan(plan: Plan, deferrals, as_of: date | None = None) -> Plan:
    """The plan after every deferral granted (in order of their start); a revoked one moves nothing.

    A revoked Stundung keeps the instalments it already moved if ``as_of`` is before the revocation (the
    figures of a past day are those the clerk saw that day).
    """
    for item in sorted(deferrals, key=lambda d: d.start):
        if item.revoked_on is not None and (as_of is None or item.revoked_on <= as_of):
            continue
        plan = defer(plan, item)
    return plan


@dataclass(frozen=True)
class Booking:
    day: date
    kind: str          # ZAHLUNG (negative: a reversal) or ERLASS (the waived rest, a Sollabgang)
    amount: Decimal


@dataclass(frozen=True)
class WriteOff:
    """A Niederschlagung: internal only, the claim survives; befristet with ``review_on``, else unbefristet."""
    day: date
    review_on: date | None = None
    ended_on: date | None = None  # lifted (e.g. a payment came in, or the review ended it)

    @property
    def limited(self) -> bool:
        return self.review_on is not None

    def active_on(self, day: date) -> bool:
        return self.day <= day and (self.ended_on is None or self.ended_on > day)


@dataclass(frozen=True)
class Terms:
    """What a plan is made from: the rate and the first due date (``instalment_plan`` makes the plan)."""
    rate: Decimal
    first_due: date


@dataclass(frozen=True)
class Account:
    kind: str                     # DARLEHEN or BEIHILFE
    amount: Decimal
    workflow: str = TILGUNG       # stored workflow state
    plan: Plan | None = None      # instalments (None: none fixed yet, or see ``terms``)
    deferrals: tuple[Deferral, ...] = ()
    write_offs: tuple[WriteOff, ...] = ()
    bookings: tuple[Booking, ...] = field(default_factory=tuple)
    waived_on: date | None = None
    terms: Terms | None = None    # instead of ``plan``: the report over 20,000 loans builds no plan it need not

    def full_plan(self) -> Plan | None:
        if self.plan is not None:
            return self.plan
        if self.terms is None:
            return None
        return instalment_plan(self.amount, self.terms.rate, self.terms.first_due)


@dataclass(frozen=True)
class Figures:
    amount: Decimal
    paid: Decimal
    waived: Decimal
    open: Decimal
    due: Decimal | None       # None for written-off and waived loans (and grants)
    arrears: Decimal | None
    status: str
    next_due: Instalment | None = None

    @property
    def refund(self) -> Decimal:
        """An overpayment: what the office owes back (0 otherwise)."""
        return -self.open if self.open < 0 else ZERO


def figures(account: Account, as_of: date) -> Figures:
    """Paid, open, due, arrears and status of ``account`` as of ``as_of`` (bookings after it do not count)."""
    counted = [b for b in account.bookings if b.day <= as_of]
    paid = sum((b.amount for b in counted if b.kind == ZAHLUNG), ZERO)
    waived = sum((b.amount for b in counted if b.kind == ERLASS), ZERO)
    amount = account.amount if account.kind == DARLEHEN else ZERO
    open_ = quantize(amount - paid - waived)
    status = _status(account, as_of, open_)
    if account.kind != DARLEHEN or status in (ERLASSEN, NIEDERGESCHLAGEN):
        return Figures(account.amount, paid, waived, open_, None, None, status)
    if account.plan is None and account.terms is not None and not account.deferrals:
        due, following = _due_undeferred(account.amount, account.terms, as_of)
    else:
        plan = account.full_plan()
        plan = deferred_plan(plan, account.deferrals, as_of) if plan else None
        due, following = (plan.due_by(as_of), plan.next_due(as_of)) if plan else (ZERO, None)
    arrears = max(ZERO, quantize(due - paid))
    return Figures(account.amount, paid, waived, open_, due, arrears, status, following)


def plain_figures(amount: Decimal, workflow: str, terms: Terms | None, paid: Decimal, waived: Decimal,
                  as_of: date, due_cache: dict | None = None) -> Figures:
    """``figures`` of a loan (DARLEHEN) with no deferral, write-off or waiver, from its sums of bookings: what the
    report over 20,000 loans needs for nearly every line without building an ``Account``. ``due_cache`` (one
    dict per report) keeps the due amount per (amount, terms): loans of the same amount, rate and first due date
    share it. ``figures`` stays the rule; a table test keeps both equal."""
    amount = amount if amount is not None else ZERO
    open_ = quantize(amount - paid - waived)
    if workflow in (BEANTRAGT, BEWILLIGT, ABGELEHNT):
        status = workflow
    elif open_ <= 0:
        status = GETILGT
    else:
        status = LAUFEND
    if terms is None:
        due, following = ZERO, None
    else:
        key = (amount, terms.rate, terms.first_due)
        cached = due_cache.get(key) if due_cache is not None else None
        if cached is None:
            cached = _due_undeferred(amount, terms, as_of)
            if due_cache is not None:
                due_cache[key] = cached
        due, following = cached
    arrears = due - paid
    arrears = quantize(arrears) if arrears > 0 else ZERO
    return Figures(amount, paid, waived, open_, due, arrears, status, following)


def _due_undeferred(amount: Decimal, terms: Terms, as_of: date) -> tuple[Decimal, Instalment | None]:
    """What ``instalment_plan(...).due_by`` and ``next_due`` give, without making the plan: the instalments
    due by ``as_of`` are counted from the months between (the k-th on first_due + k months, clipped)."""
    amount, rate = quantize(amount), quantize(terms.rate)
    if rate <= 0 or amount <= 0:
        return ZERO, None
    count = int((amount / rate).to_integral_value(rounding=ROUND_CEILING))
    first = terms.first_due
    months = (as_of.year - first.year) * 12 + as_of.month - first.month
    if months < 0:
        done = 0
    else:
        done = months + 1 if add_months(first, months, first.day) <= as_of else months
    done = min(done, count)
    due = min(amount, rate * done)
    if done >= count:
        return due, None
    value = rate if done < count - 1 else amount - rate * (count - 1)
    return due, Instalment(done + 1, done, value, add_months(first, done, first.day))


def _status(account: Account, as_of: date, open_: Decimal) -> str:
    if account.workflow in (BEANTRAGT, BEWILLIGT, ABGELEHNT):
        return account.workflow
    if account.kind == BEIHILFE:
        return GETILGT  # a grant is not repaid: settled once paid out
    if account.waived_on is not None and account.waived_on <= as_of:
        return ERLASSEN
    if any(w.active_on(as_of) for w in account.write_offs):
        return NIEDERGESCHLAGEN
    if any(d.running_on(as_of) for d in account.deferrals):
        return GESTUNDET
    if open_ <= 0:
        return GETILGT
    return LAUFEND


def check_transition(workflow: str, action: str) -> None:
    allowed = TRANSITIONS.get(action)
    if allowed is None:
        raise LoanError(f"Unbekannte Aktion '{action}'.")
    if workflow not in allowed:
        raise LoanError(f"'{action}' ist im Stand '{WORKFLOW.get(workflow, workflow)}' nicht möglich.")


# The buttons of the account page (web ``act``): which of them a loan offers is ``allowed_actions``.
ACTION_LABELS = {"bewilligen": "Bewilligen und Auszahlung anordnen", "ablehnen": "Ablehnen", "raten": "Raten festlegen",
                 "stunden": "Stunden", "stundung_widerrufen": "Stundung widerrufen", "niederschlagen": "Niederschlagen",
                 "niederschlagung_aufheben": "Niederschlagung aufheben", "erlassen": "Erlassen",
                 "freigeben": "Freigeben", "zahlung": "Zahlung buchen"}
_RUNNING = (AUSGEZAHLT, TILGUNG)


def action_refusal(account: Account, today: date, action: str, pending: frozenset[str] = frozenset()) -> str | None:
    """Why ``action`` is not possible on the account today (German), or None if it is.

    ``pending`` are the kinds of events waiting for a second person ("niederschlagung", "erlass"). The rules:
    a decision only on an application; a plan once, after the payout; Stundung only in Tilgung with a plan and
    neither written off nor waived; a Niederschlagung only while none is active or waiting and something is open
    (it can be lifted while active); Erlass once, while something is open (also after a Niederschlagung);
    payments until the loan is waived; a release only when something waits for one."""
    if action not in ACTION_LABELS:
        return f"Unbekannte Aktion '{action}'."
    workflow = account.workflow
    stage = WORKFLOW.get(workflow, workflow)
    waived = account.waived_on is not None and account.waived_on <= today
    written_off = any(w.active_on(today) for w in account.write_offs)
    has_plan = account.plan is not None or account.terms is not None
    if action in ("bewilligen", "ablehnen"):
        return None if workflow == BEANTRAGT else f"der Antrag ist schon entschieden (Stand: {stage})"
    if action == "freigeben":
        return None if pending else "es wartet nichts auf eine Freigabe"
    if action == "niederschlagung_aufheben":
        return None if written_off else "das Darlehen ist nicht niedergeschlagen"
    if workflow not in _RUNNING:
        return f"das Darlehen ist nicht ausgezahlt (Stand: {stage})"
    if waived:
        return "das Darlehen ist erlassen"
    if action == "zahlung":
        return None
    if action == "raten":
        if account.kind != DARLEHEN:
            return "eine Beihilfe wird nicht zurückgezahlt"
        if has_plan or workflow != AUSGEZAHLT:
            return "der Ratenplan steht schon; Änderungen über Stundung"
        return "das Darlehen ist niedergeschlagen" if written_off else None
    if action == "stundung_widerrufen":
        return None if any(d.revoked_on is None for d in account.deferrals) else "es gibt keine Stundung zu widerrufen"
    if action == "stunden":
        if workflow != TILGUNG or not has_plan:
            return "es gibt noch keinen Ratenplan"
        if written_off:
            return "das Darlehen ist niedergeschlagen"
    if action == "niederschlagen":
        if written_off:
            return "das Darlehen ist schon niedergeschlagen"
        if "niederschlagung" in pending:
            return "eine Niederschlagung wartet schon auf Freigabe"
    if action == "erlassen" and "erlass" in pending:
        return "ein Erlass wartet schon auf Freigabe"
    if action in ("stunden", "niederschlagen", "erlassen") and figures(account, today).open <= 0:
        return "es ist nichts mehr offen"
    return None


def allowed_actions(account: Account, today: date, pending: frozenset[str] = frozenset()) -> list[str]:
    """The actions the account offers today, in the order of the page."""
    return [a for a in ACTION_LABELS if action_refusal(account, today, a, pending) is None]


def check_action(account: Account, today: date, action: str, pending: frozenset[str] = frozenset()) -> None:
    reason = action_refusal(account, today, action, pending)
    if reason is not None:
        raise LoanError(f"„{ACTION_LABELS.get(action, action)}“ ist nicht möglich: {reason}.")


def check_limit(limits: dict, profiles, action: str, amount: Decimal) -> None:
    """Amount limits per profile: the highest limit among the actor's profiles for ``action`` must cover it.

    ``limits`` maps profile → {action: "10000.00"}; a profile without an entry has no limit for it only if
    ``limits`` is empty (no limits configured); otherwise the action is refused.
    """
    if not limits:
        return
    best = None
    for profile in profiles:
        value = (limits.get(profile) or {}).get(action)
        if value is None:
            continue
        value = to_decimal(str(value))
        best = value if best is None else max(best, value)
    if best is None or amount > best:
        limit = "keine Befugnis" if best is None else f"Grenze {format_money(best)}"
        raise LoanError(f"Betrag {format_money(amount)} liegt über Ihrer Betragsgrenze für '{action}' ({limit}).")


def needs_second_person(four_eyes_above, amount: Decimal) -> bool:
    """Vier-Augen-Prinzip: write-offs and waivers above the configured amount need a second person."""
    if four_eyes_above in (None, ""):
        return False
    return quantize(amount) > quantize(to_decimal(str(four_eyes_above)))


def check_borrower(age_years: int | None) -> None:
    """§ 22 Abs. 8 SGB II: the loan goes to the party to the tenancy, never to a minor."""
    if age_years is not None and age_years < 18:
        raise LoanError("Darlehensnehmer: Minderjährige können nicht Darlehensnehmer sein.")


def offset_rate(regelbedarf, percent=Decimal("5")) -> Decimal:
    """The monthly Aufrechnung of § 42a Abs. 2 SGB II: ``percent`` (5 % since 1.7.2023, also with several loans)
    of the Regelbedarf, rounded half up to the cent."""
    return quantize(to_decimal(regelbedarf) * to_decimal(percent) / 100)


def settlement_date(account: Account, today: date, *, paid_out_on: date | None = None,
                    rejected_on: date | None = None) -> date | None:
    """The day the account was closed for good (getilgt, erlassen, abgelehnt): the clock of "10 years after
    settlement" (retention, #15) starts there. None while anything is open.

    1. a rejected application: the rejection day (nothing was paid out);
    2. applied or approved but not yet paid out: None;
    3. a grant (Beihilfe) is not repaid: the payout day;
    4. a waiver (Erlass) in force: the waiver day;
    5. a write-off (Niederschlagung) in force today is no settlement (the claim survives): None;
    6. a loan: the day of the booking that brought the open amount to 0 or below for the last time, if it is
       still 0 or below today (a reversal after it reopens the account); bookings after ``today`` do not count.
    """
    if account.workflow == ABGELEHNT:
        return rejected_on
    if account.workflow in (BEANTRAGT, BEWILLIGT):
        return None
    if account.kind == BEIHILFE:
        return paid_out_on
    if account.waived_on is not None and account.waived_on <= today:
        return account.waived_on
    if any(w.active_on(today) for w in account.write_offs):
        return None
    open_, settled = quantize(account.amount), None
    for booking in sorted((b for b in account.bookings if b.day <= today), key=lambda b: b.day):
        before = open_
        open_ = quantize(open_ - booking.amount)
        if open_ <= 0 < before:
            settled = booking.day
        elif open_ > 0:
            settled = None
    return settled if open_ <= 0 else None
