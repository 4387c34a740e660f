"""Retention rules (#15) as tables: when a record is due, what a legal hold does, who stays."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.retention import (DUE, HOLD, KEEP_OPEN, NOT_DUE, Override, Period, Rule, add_period, decide, due_on,
                                  latest_due_start, partner_fate)

FIVE = Period(5)
CASE_RULE = Rule("case", "closed_on", FIVE, hold="legal_hold",
                 overrides=(Override((("legal_basis", "sgb12_67"),), Period(10)),))


@pytest.mark.parametrize(("start", "period", "expected"), [
    (date(2020, 3, 15), FIVE, date(2025, 3, 16)),          # the period has fully run the day after
    (date(2020, 2, 29), Period(1), date(2021, 3, 1)),      # 29.02. + 1 year ends 28.02., due on 01.03.
    (date(2020, 12, 31), Period(0, 2), date(2021, 3, 1)),  # 31.12. + 2 months ends 28.02.
    (date(2016, 1, 31), Period(10), date(2026, 2, 1)),     # loans: 10 years after settlement
], ids=["five-years", "leap-day", "month-end", "ten-years"])
def test_due_on(start, period, expected):
    assert due_on(start, period) == expected


@pytest.mark.parametrize(("start", "hold", "values", "today", "expected"), [
    (None, False, {}, date(2030, 1, 1), KEEP_OPEN),                      # case still open: no closing date
    (date(2020, 6, 30), False, {}, date(2025, 6, 30), NOT_DUE),           # last day of the period: kept
    (date(2020, 6, 30), False, {}, date(2025, 7, 1), DUE),                # the day after: due
    (date(2010, 1, 1), True, {}, date(2026, 1, 1), HOLD),                 # legal hold beats any date
    (None, True, {}, date(2026, 1, 1), HOLD),                             # legal hold on an open case too
    (date(2019, 1, 1), False, {"legal_basis": "sgb12_67"}, date(2026, 1, 1), NOT_DUE),  # case type: 10 years
    (date(2015, 1, 1), False, {"legal_basis": "sgb12_67"}, date(2026, 1, 1), DUE),      # 10 years have run
    (date(2019, 1, 1), False, {"legal_basis": "other"}, date(2026, 1, 1), DUE),         # other types: 5 years
], ids=["open", "last-day", "day-after", "hold", "hold-open", "type-not-due", "type-due", "type-other"])
def test_decide(start, hold, values, today, expected):
    assert decide(CASE_RULE, start=start, on_hold=hold, values=values, today=today) == expected


@pytest.mark.parametrize("today", [date(2025, 3, 1), date(2025, 2, 28), date(2024, 2, 29), date(2026, 12, 31)])
@pytest.mark.parametrize("period", [FIVE, Period(1), Period(0, 1), Period(10, 11)], ids=str)
def test_latest_due_start_is_exactly_the_database_filter(today, period):
    # ``start <= latest_due_start`` must be the same as ``due_on(start) <= today`` for every start around it.
    cutoff = latest_due_start(today, period)
    for offset in range(-5, 6):
        start = cutoff + timedelta(days=offset)
        assert (start <= cutoff) == (due_on(start, period) <= today), start


@pytest.mark.parametrize(("other", "action", "expected"), [
    (0, "erase", "erase"),          # nobody else names the person: erased with the case
    (1, "erase", "keep"),           # another live case (or relationship, loan) names them: kept
    (3, "anonymise", "keep"),
    (0, "anonymise", "anonymise"),
], ids=["alone", "shared", "shared-anon", "alone-anon"])
def test_partner_fate(other, action, expected):
    assert partner_fate(other_live_records=other, action=action) == expected


def test_add_period_keeps_the_day():
    assert add_period(date(2021, 5, 17), Period(2, 3)) == date(2023, 8, 17)


# --- the YAML of a retention rule (spec.E160/E161), as check-config reports it ---------------------------
from tests.unit.spec_support import issue, issues_for, write_config  # noqa: E402

HEAD = """\
entities:
  - name: loan
    label: Darlehen
    fields:
      - {name: settled_on, type: date, label: getilgt am}
      - {name: hold, type: boolean, label: Sperre}
      - {name: note, type: string, label: Notiz}
"""


@pytest.mark.parametrize(("rule", "id", "path", "message"), [
    ("{after: settled_on, years: 10, hold: hold}", None, None, None),  # loans: 10 years after settlement
    ("{after: setled_on, years: 10}", "E160", "entities[0].retention.after",
     "Aufbewahrung: unbekanntes Feld 'setled_on' in 'loan'"),
    ("{after: note, years: 10}", "E161", "entities[0].retention.after",
     "Aufbewahrung: Feld 'note' muss vom Typ date sein, ist string"),
    ("{after: settled_on, years: 10, hold: note}", "E161", "entities[0].retention.hold",
     "Aufbewahrung: Feld 'note' muss vom Typ boolean sein, ist string"),
], ids=["ok", "unknown", "not-a-date", "hold-not-yes-no"])
def test_retention_rule_in_yaml(tmp_path, rule, id, path, message):
    root = write_config(tmp_path, HEAD + f"    retention: {rule}\n")
    found = [i for i in issues_for(root) if i.id.startswith("spec.E16")]
    if id is None:
        assert found == []
    else:
        assert [(i.id, i.path, i.message, i.line) for i in found] == [(f"spec.{id}", path, message, 8)]


# --- erasure requests (Art. 17) ---------------------------------------------------------------------------
from app.domain.retention import answer_due, erasure_problem  # noqa: E402

IN = date(2026, 3, 2)


@pytest.mark.parametrize(("decision", "check", "decided", "executed", "ok"), [
    ("pending", None, None, None, True),                          # received, being checked
    ("granted", None, date(2026, 3, 10), None, False),            # a decision needs the legal check
    ("refused", "  ", date(2026, 3, 10), None, False),            # blank is no check
    ("refused", "§ 84 Abs. 3 SGB X: Aufbewahrungspflicht", None, None, False),  # and its date
    ("refused", "Aufbewahrungspflicht", date(2026, 3, 10), None, True),
    ("granted", "keine Aufbewahrungspflicht", date(2026, 3, 10), date(2026, 3, 12), True),
    ("refused", "Aufbewahrungspflicht", date(2026, 3, 10), date(2026, 3, 12), False),  # refused: nothing erased
    ("pending", None, None, date(2026, 3, 12), False),            # not carried out before a decision
    ("partly", "Art. 18 statt Löschung", date(2026, 3, 1), None, False),  # decided before it came in
], ids=["pending", "no-check", "blank-check", "no-date", "refused", "granted-done", "refused-done",
        "pending-done", "before-receipt"])
def test_erasure_request(decision, check, decided, executed, ok):
    problem = erasure_problem(decision=decision, legal_check=check, decided_on=decided, executed_on=executed,
                              received_on=IN)
    assert (problem is None) == ok, problem


def test_answer_due_one_month_after_receipt():
    assert answer_due(date(2026, 1, 31)) == date(2026, 2, 28)
    assert answer_due(None) is None


# --- loans: 10 years after settlement (kind "settlement"), the date derived from the ledger ---------------------
from decimal import Decimal  # noqa: E402

from app.domain import loans as L  # noqa: E402

LOAN_RULE = Rule("loan", "settled_on", Period(10), kind="settlement", hold="legal_hold")
D = Decimal


def _account(kind=L.DARLEHEN, workflow=L.TILGUNG, amount="300.00", bookings=(), waived_on=None, write_offs=()):
    return L.Account(kind=kind, amount=D(amount), workflow=workflow, waived_on=waived_on, write_offs=write_offs,
                     bookings=tuple(L.Booking(day, k, D(a)) for day, k, a in bookings))


PAID = ((date(2020, 1, 1), L.ZAHLUNG, "100"), (date(2020, 2, 1), L.ZAHLUNG, "200"))


@pytest.mark.parametrize(("account", "extra", "settled"), [
    (_account(bookings=PAID), {}, date(2020, 2, 1)),                              # settled on the last payment
    (_account(bookings=PAID[:1]), {}, None),                                      # 200 still open
    (_account(bookings=PAID + ((date(2020, 3, 1), L.ZAHLUNG, "-200"),)), {}, None),  # a reversal reopens it
    (_account(bookings=PAID + ((date(2020, 3, 1), L.ZAHLUNG, "-200"), (date(2021, 5, 5), L.ZAHLUNG, "200"))),
     {}, date(2021, 5, 5)),                                                       # paid again: the later day
    (_account(bookings=((date(2020, 1, 1), L.ZAHLUNG, "100"), (date(2022, 4, 1), L.ERLASS, "200")),
              waived_on=date(2022, 4, 1)), {}, date(2022, 4, 1)),                 # waived (erlassen)
    (_account(bookings=PAID[:1], write_offs=(L.WriteOff(date(2021, 1, 1)),)), {}, None),  # niedergeschlagen: claim survives
    (_account(bookings=((date(2031, 1, 1), L.ZAHLUNG, "300"),)), {}, None),        # a payment after today: not yet
    (_account(kind=L.BEIHILFE, workflow=L.AUSGEZAHLT), {"paid_out_on": date(2019, 5, 2)}, date(2019, 5, 2)),  # grant
    (_account(workflow=L.ABGELEHNT), {"rejected_on": date(2019, 3, 3)}, date(2019, 3, 3)),  # rejected
    (_account(workflow=L.BEWILLIGT), {}, None),                                    # approved, not paid out
], ids=["paid", "open", "reversed", "paid-again", "waived", "written-off", "future", "grant", "rejected", "approved"])
def test_settlement_date(account, extra, settled):
    assert L.settlement_date(account, date(2030, 1, 1), **extra) == settled


@pytest.mark.parametrize(("settled", "hold", "today", "expected"), [
    (date(2020, 2, 1), False, date(2030, 2, 1), NOT_DUE),  # 10 years end today
    (date(2020, 2, 1), False, date(2030, 2, 2), DUE),      # … due the day after
    (None, False, date(2040, 1, 1), KEEP_OPEN),             # not settled: kept, whatever the date
    (date(2022, 4, 1), False, date(2032, 4, 2), DUE),      # waived: the waiver day starts the clock
    (date(2010, 1, 1), True, date(2040, 1, 1), HOLD),      # legal hold
], ids=["last-day", "due", "not-settled", "waived", "hold"])
def test_loan_rule(settled, hold, today, expected):
    assert LOAN_RULE.kind == "settlement"
    assert decide(LOAN_RULE, start=settled, on_hold=hold, values={}, today=today) == expected
