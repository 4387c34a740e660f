"""Loan reports (#13): open loans with arrears as of a day, repayments per month, the JSON of
``fachstelle loans report``, the XLSX for the controller, and the worklist's loan entries.

Everything is computed from three bulk queries (loans, events, bookings up to the day) and the pure rules of
``app/domain/loans.py``, so 20,000 loans take well under two seconds (BENCHMARKS.md). Web users see only their
org units (``scope_query``); the CLI reports on every unit.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
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
    """Every visible loan's figures as of the day, read with plain column queries (no ORM objects)."""
    from sqlalchemy.orm import aliased

    from ..core_models import CatalogueValue
    from ..domain.kassenzeichen import display
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
    rows = list(session.execute(scope_query(query, loan, actor=actor)))
    ids = [row.id for row in rows]
    wanted = set(ids)
    events, bookings = defaultdict(list), defaultdict(list)
    # Many loans: one pass over the table, filtered here (an IN list of 20,000 ids costs more than it saves).
    chunks = [None] if len(ids) > 5000 else list(_chunks(ids))
    event_columns = (LoanEvent.loan_id, LoanEvent.kind, LoanEvent.day, LoanEvent.date_from, LoanEvent.date_to,
                     LoanEvent.review_on, LoanEvent.ended_on, LoanEvent.amount, LoanEvent.pending)
    # Bookings are summed per loan and kind in the database, in whole cents (SQLite's NUMERIC is a float:
    # rounding each amount to cents before the sum keeps the total exact).
    cents = func.sum(func.round(LoanBooking.amount * 100))
    for chunk in chunks:
        query = select(*event_columns).where(LoanEvent.day <= as_of).order_by(LoanEvent.day, LoanEvent.id)
        sums = (select(LoanBooking.loan_id, LoanBooking.kind, cents).where(LoanBooking.day <= as_of)
                .group_by(LoanBooking.loan_id, LoanBooking.kind))
        if chunk is not None:
            query = query.where(LoanEvent.loan_id.in_(chunk))
            sums = sums.where(LoanBooking.loan_id.in_(chunk))
        for event in session.execute(query):
            if event.loan_id in wanted:
                events[event.loan_id].append(event)
        for loan_id, kind_code, total in session.execute(sums):
            if loan_id in wanted:
                bookings[loan_id].append(rules.Booking(as_of, kind_code, Decimal(int(total)) / 100))
    mask = registry.spec.settings.treasury.kassenzeichen.mask
    lines = []
    for row in rows:
        account = account_of(row.kind, row.state, row.amount, events[row.id], bookings[row.id])
        name = f"{row.surname}, {row.first_name}" if row.first_name else (row.surname or "")
        lines.append(LoanLine(row.id, row.case_id, display(row.kassenzeichen, mask), name, row.kind,
                              rules.figures(account, as_of), row.org_unit_id))
    lines.sort(key=lambda line: line.kassenzeichen)
    return lines


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
    """Open loans with their figures as of the day (the controller's list)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Offene Darlehen"
    ws["A1"] = "Offene Darlehen mit Rückständen" if only_arrears else "Offene Darlehen"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"Stand: {format_date(as_of)}; nur Buchungen bis zu diesem Tag"
    ws.append(())
    ws.append(("Kassenzeichen", "Darlehensnehmer/in", "Betrag", "gezahlt", "offen", "fällig", "Rückstand", "Status"))
    for cell in ws[4]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    for line in lines:
        f = line.figures
        ws.append((line.kassenzeichen, line.borrower, f.amount, f.paid, f.open, f.due, f.arrears,
                   rules.STATUSES.get(f.status, f.status)))
        for cell in ws[ws.max_row][2:7]:
            cell.number_format = '#,##0.00 "€"'
    for col, width in zip("ABCDEFGH", (18, 32, 14, 14, 14, 14, 14, 16)):
        ws.column_dimensions[col].width = width
    wb.save(target)


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
