"""Loan reports (#13): open loans with arrears as of a day, repayments per month, the JSON of
``fachstelle loans report``, the XLSX for the controller, and the worklist's loan entries.

Everything is computed from three bulk queries (loans, events, bookings summed per loan up to the day) and the
pure rules of ``app/domain/loans.py``, so 20,000 loans take well under a second (BENCHMARKS.md, "#13/#14
follow-up (money2)"). Web users see only their org units (``scope_query``); the CLI reports on every unit.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..domain import loans as rules
from ..domain.dates import format_date
from ..domain.money import format_money
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from ..treasury_models import LoanBooking, LoanEvent, TreasuryPayment
from .loans import account_of
from .treasury_payments import KLAERFALL

ACTIVE = (rules.AUSGEZAHLT, rules.TILGUNG)
ZERO = rules.ZERO


@dataclass
class LoanLine:
    loan_id: int
    case_id: int
    kassenzeichen: str  # as shown
    borrower: str
    kind: str
    figures: rules.Figures
    org_unit_id: int | None


def _chunks(ids: list[int], size: int = 5000):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def loan_lines(session: Session, actor: Actor, as_of: date, only_active: bool = True,
               kinds: tuple[str, ...] = (rules.DARLEHEN,)) -> list[LoanLine]:
    """Every visible loan's figures as of the day, read with plain Core queries (no ORM objects, no ORM result
    processing): the loans, their events up to the day, and their bookings summed per loan and kind in SQL.

    A loan whose only events are its plan (nearly all of them) gets its figures from ``rules.plain_figures``
    with the due amount shared among loans of the same amount, rate and first due date; the others go through
    the full ``rules.figures`` on an ``Account``.
    """
    from sqlalchemy.orm import aliased

    from ..core_models import CatalogueValue
    from ..domain.kassenzeichen import formatter
    registry = built_registry()
    loan, partner = registry.model("loan"), registry.model("partner")
    kind, state = aliased(CatalogueValue), aliased(CatalogueValue)
    query = (select(loan.id, loan.case_id, loan.kassenzeichen, loan.amount, loan.borrower_id, loan.org_unit_id,
                    kind.code.label("kind"), state.code.label("state"), partner.surname, partner.first_name)
             .join(kind, kind.id == loan.kind_id).outerjoin(state, state.id == loan.state_id)
             .outerjoin(partner, partner.id == loan.borrower_id)
             .where(loan.kassenzeichen.is_not(None), kind.code.in_(kinds)))
    if only_active:
        query = query.where(state.code.in_(ACTIVE))
    conn = session.connection()
    rows = conn.execute(scope_query(query, loan, actor=actor)).all()
    ids = [row[0] for row in rows]
    wanted = set(ids)
    events = defaultdict(list)
    sums: dict[int, tuple[int, int]] = {}
    # Many loans: one pass over the table, filtered here (an IN list of 20,000 ids costs more than it saves).
    chunks = [None] if len(ids) > 5000 else list(_chunks(ids))
    event_columns = (LoanEvent.loan_id, LoanEvent.kind, LoanEvent.day, LoanEvent.date_from, LoanEvent.date_to,
                     LoanEvent.review_on, LoanEvent.ended_on, LoanEvent.amount, LoanEvent.pending)
    # Bookings are summed per loan and kind in the database, in whole cents (SQLite's NUMERIC is a float:
    # rounding each amount to cents before the sum keeps the total exact).
    cents = func.round(LoanBooking.amount * 100)
    paid_cents = func.sum(case((LoanBooking.kind == rules.ZAHLUNG, cents), else_=0))
    waived_cents = func.sum(case((LoanBooking.kind == rules.ZAHLUNG, 0), else_=cents))
    for chunk in chunks:
        query = select(*event_columns).where(LoanEvent.day <= as_of).order_by(LoanEvent.day, LoanEvent.id)
        totals = (select(LoanBooking.loan_id, paid_cents, waived_cents).where(LoanBooking.day <= as_of)
                  .group_by(LoanBooking.loan_id))
        if chunk is not None:
            query = query.where(LoanEvent.loan_id.in_(chunk))
            totals = totals.where(LoanBooking.loan_id.in_(chunk))
        for event in conn.execute(query):
            if event[0] in wanted:
                events[event[0]].append(event)
        for loan_id, paid, waived in conn.execute(totals):
            if loan_id in wanted:
                sums[loan_id] = (int(paid), int(waived))  # payments and waived amounts in cents
    show = formatter(registry.spec.settings.treasury.kassenzeichen.mask)
    due_cache: dict = {}
    zero_pair = (0, 0)
    lines = []
    for row in rows:
        loan_id, case_id, number, amount, _, org_unit_id, kind_code, state_code, surname, first_name = row
        loan_events = events.get(loan_id, ())
        paid_cents, waived_cents = sums.get(loan_id, zero_pair)
        if kind_code == rules.DARLEHEN and all(e[1] == "plan" for e in loan_events):
            plans = [e for e in loan_events if not e[8]]
            terms = rules.Terms(plans[-1][7], plans[-1][3]) if plans else None
            figures = rules.plain_figures(amount if amount is not None else ZERO, state_code or rules.BEANTRAGT,
                                          terms, _from_cents(paid_cents), _from_cents(waived_cents), as_of, due_cache)
        else:
            bookings = []
            if paid_cents or loan_id in sums:
                bookings.append(rules.Booking(as_of, rules.ZAHLUNG, _from_cents(paid_cents)))
            if waived_cents:
                bookings.append(rules.Booking(as_of, rules.ERLASS, _from_cents(waived_cents)))
            account = account_of(kind_code, state_code, amount, loan_events, bookings)
            figures = rules.figures(account, as_of)
        name = f"{surname}, {first_name}" if first_name else (surname or "")
        lines.append(LoanLine(loan_id, case_id, show(number), name, kind_code, figures, org_unit_id))
    lines.sort(key=lambda line: line.kassenzeichen)
    return lines


_CENTS: dict[int, Decimal] = {}


def _from_cents(cents: int) -> Decimal:
    """Decimal euros from whole cents ("12.34"); the few distinct sums are made once."""
    value = _CENTS.get(cents)
    if value is None:
        value = Decimal(cents).scaleb(-2)
        if len(_CENTS) < 100_000:
            _CENTS[cents] = value
    return value


def open_cases_until(session: Session, as_of: date) -> list[str]:
    return list(session.scalars(select(TreasuryPayment.buchungs_id).where(
        TreasuryPayment.state == KLAERFALL, TreasuryPayment.buchungstag <= as_of).order_by(TreasuryPayment.buchungstag,
                                                                                          TreasuryPayment.id)))


_CENT = Decimal("0.01")


def _amount(value: Decimal) -> str:
    return str(value.quantize(_CENT))  # "1234.56": a decimal point, two places


def report_json(session: Session, actor: Actor, as_of: date) -> dict:
    """The JSON of ``fachstelle loans report`` (issue #13 §3): amounts as strings with a decimal point;
    ``faellig`` and ``rueckstand`` left out for written-off and waived loans."""
    darlehen = {}
    for line in loan_lines(session, actor, as_of):
        f = line.figures
        item = {"betrag": _amount(f.amount), "gezahlt": _amount(f.paid), "offen": _amount(f.open)}
        if f.due is not None:
            item["faellig"] = _amount(f.due)
            item["rueckstand"] = _amount(f.arrears)
        item["status"] = f.status
        darlehen[line.kassenzeichen] = item
    return {"darlehen": darlehen, "klaerfaelle": open_cases_until(session, as_of)}


def repayments_per_month(session: Session, actor: Actor, year: int) -> list[tuple[int, Decimal, int]]:
    """(month, sum of payments, number of bookings) of one year, for the visible loans."""
    loan = built_registry().model("loan")
    visible = scope_query(select(loan.id), loan, actor=actor).scalar_subquery()
    sums = {m: [Decimal("0.00"), 0] for m in range(1, 13)}
    for day, amount in session.execute(select(LoanBooking.day, LoanBooking.amount).where(
            LoanBooking.kind == rules.ZAHLUNG, LoanBooking.day >= date(year, 1, 1), LoanBooking.day <= date(year, 12, 31),
            LoanBooking.loan_id.in_(visible))):
        sums[day.month][0] += amount
        sums[day.month][1] += 1
    return [(m, v[0], v[1]) for m, v in sums.items()]


def write_xlsx(lines: list[LoanLine], as_of: date, target, only_arrears: bool = False) -> None:
    """Open loans with their figures as of the day (the controller's list), through the app's one XLSX writer
    (XlsxWriter, constant memory): title, "Stand" line, header on row 4, amounts as numbers."""
    from .xlsx_export import XlsxColumn, XlsxSheet, write_sheets
    columns = [XlsxColumn("Kassenzeichen", "text", 18), XlsxColumn("Darlehensnehmer/in", "text", 32),
               XlsxColumn("Betrag", "money"), XlsxColumn("gezahlt", "money"), XlsxColumn("offen", "money"),
               XlsxColumn("fällig", "money"), XlsxColumn("Rückstand", "money"), XlsxColumn("Status", "text", 16)]
    statuses = rules.STATUSES
    rows = ((line.kassenzeichen, line.borrower, line.figures.amount, line.figures.paid, line.figures.open,
             line.figures.due, line.figures.arrears, statuses.get(line.figures.status, line.figures.status))
            for line in lines)
    write_sheets(target, [XlsxSheet("Offene Darlehen", columns, rows,
                                    "Offene Darlehen mit Rückständen" if only_arrears else "Offene Darlehen",
                                    f"Stand: {format_date(as_of)}; nur Buchungen bis zu diesem Tag")])


def worklist_items(session: Session, actor: Actor, today: date, ahead_days: int = 14) -> list[dict]:
    """Loans on the worklist: instalments in arrears, deferrals ending, write-offs to look at again,
    releases waiting for a second person, payments to clear."""
    from datetime import timedelta
    items = []
    for line in loan_lines(session, actor, today):
        if line.figures.arrears and line.figures.arrears > 0 and line.figures.status == rules.LAUFEND:
            items.append({"kind": "Rückstand", "loan_id": line.loan_id, "due": today,
                          "text": f"Darlehen {line.kassenzeichen} ({line.borrower}): Rückstand "
                                  f"{format_money(line.figures.arrears)}"})
    loan = built_registry().model("loan")
    visible = scope_query(select(loan.id), loan, actor=actor).scalar_subquery()
    horizon = today + timedelta(days=ahead_days)
    for event in session.scalars(select(LoanEvent).where(LoanEvent.loan_id.in_(visible), LoanEvent.ended_on.is_(None))
                                 .order_by(LoanEvent.id)):
        if event.kind == "stundung" and not event.pending and today <= event.date_to <= horizon:
            items.append({"kind": "Stundung endet", "loan_id": event.loan_id, "due": event.date_to,
                          "text": f"Stundung endet am {format_date(event.date_to)}"})
        elif event.kind == "niederschlagung" and event.review_on and not event.pending and event.review_on <= horizon:
            items.append({"kind": "Wiedervorlage Niederschlagung", "loan_id": event.loan_id, "due": event.review_on,
                          "text": f"befristete Niederschlagung erneut prüfen ({format_date(event.review_on)})"})
        elif event.pending:
            items.append({"kind": "Freigabe (Vier Augen)", "loan_id": event.loan_id, "due": event.day,
                          "text": f"{event.kind.capitalize()} über {format_money(event.amount or 0)} wartet auf eine zweite Person"})
    return items
