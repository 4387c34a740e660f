"""app/domain/loans.py: instalment plans, Stundung, as-of figures (issue #13 §1), as rule tables."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.loans import (BEIHILFE, DARLEHEN, ERLASS, TILGUNG, ZAHLUNG, Account, Booking, Deferral, LoanError,
                              WriteOff, add_months, check_borrower, check_limit, defer, figures, instalment_plan,
                              needs_second_person)

D = Decimal


def d(text):
    day, month, year = text.split(".")
    return date(int(year), int(month), int(day))


@pytest.mark.parametrize(("start", "months", "expected"), [
    ("31.01.2027", 1, "28.02.2027"),   # February of a common year clips 31 to 28
    ("31.01.2028", 1, "29.02.2028"),   # leap year: 29
    ("31.01.2027", 2, "31.03.2027"),   # the day is kept, not carried over from the clipped month
    ("31.03.2027", 1, "30.04.2027"),   # 30-day month
    ("30.11.2027", 3, "29.02.2028"),   # across the year end into a leap February
    ("15.12.2027", 1, "15.01.2028"),   # year change, ordinary day
    ("29.02.2028", 12, "28.02.2029"),  # a leap day a year later
], ids=["feb-common", "feb-leap", "day-kept", "april", "year-leap", "year-change", "leap-day"])
def test_add_months_clips_to_month_end(start, months, expected):
    assert add_months(d(start), months) == d(expected)


@pytest.mark.parametrize(("amount", "rate", "first", "count", "last_amount", "last_due"), [
    ("1234.56", "100", "01.01.2027", 13, "34.56", "01.01.2028"),   # the story: 12 × 100 + remainder 34,56
    ("1200.00", "100", "01.01.2027", 12, "100.00", "01.12.2027"),  # divides evenly: no remainder instalment
    ("50.00", "100", "15.03.2027", 1, "50.00", "15.03.2027"),      # rate above the amount: one instalment
    ("300.00", "99.99", "31.01.2027", 4, "0.03", "30.04.2027"),    # a cent remainder; 31 clipped to 30.04.
    ("100.01", "50", "31.12.2027", 3, "0.01", "29.02.2028"),       # remainder falls on a leap February
], ids=["story", "even", "one", "cent-remainder", "leap-remainder"])
def test_instalment_plan(amount, rate, first, count, last_amount, last_due):
    plan = instalment_plan(D(amount), D(rate), d(first))
    assert len(plan.instalments) == count
    assert plan.total == D(amount)
    assert plan.instalments[-1].amount == D(last_amount)
    assert plan.instalments[-1].due == d(last_due)
    assert all(i.amount == D(rate).quantize(D("0.01")) for i in plan.instalments[:-1])


def test_plan_feb_clipping_keeps_the_31st():
    plan = instalment_plan(D("400"), D("100"), d("31.01.2027"))
    assert [i.due for i in plan.instalments] == [d("31.01.2027"), d("28.02.2027"), d("31.03.2027"), d("30.04.2027")]


@pytest.mark.parametrize(("amount", "rate", "message"), [
    ("1000", "0", "Rate: muss größer als 0,00 € sein"),      # a rate of 0 would never repay
    ("1000", "-5", "Rate: muss größer als 0,00 € sein"),     # nor a negative one
    ("0", "100", "Betrag: muss größer als 0,00 € sein"),     # nothing to repay
], ids=["rate-0", "rate-negative", "amount-0"])
def test_plan_refuses_bad_input(amount, rate, message):
    with pytest.raises(LoanError, match=message):
        instalment_plan(D(amount), D(rate), d("01.01.2027"))


@pytest.mark.parametrize(("first", "count", "start", "end", "expected_dues"), [
    # three months' Stundung over the 2nd..4th instalments: from the 2nd on everything moves by 3 months
    ("01.01.2027", 5, "01.02.2027", "30.04.2027",
     ["01.01.2027", "01.05.2027", "01.06.2027", "01.07.2027", "01.08.2027"]),
    # the smallest shift that puts the first affected one after `to`: 15.02. → 15.04. (to = 31.03.)
    ("15.01.2027", 3, "10.02.2027", "31.03.2027", ["15.01.2027", "15.04.2027", "15.05.2027"]),
    # nothing due inside [from, to]: the plan stays
    ("01.01.2027", 3, "02.01.2027", "31.01.2027", ["01.01.2027", "01.02.2027", "01.03.2027"]),
    # a deferral covering the last instalment only
    ("01.01.2027", 3, "01.03.2027", "15.03.2027", ["01.01.2027", "01.02.2027", "01.04.2027"]),
    # month-end anchor: 31.01. plan, deferral over February → the 28.02. instalment moves to 31.03.
    ("31.01.2027", 3, "01.02.2027", "28.02.2027", ["31.01.2027", "31.03.2027", "30.04.2027"]),
    # `to` on the due day itself: strictly after `to`, so one more month
    ("01.01.2027", 2, "01.01.2027", "01.02.2027", ["01.03.2027", "01.04.2027"]),
    # leap year: 29.02.2028 moved by one month → 29.03.2028, the anchor day 29 kept
    ("29.01.2028", 2, "01.02.2028", "29.02.2028", ["29.01.2028", "29.03.2028"]),
], ids=["story-3-months", "smallest-shift", "nothing-inside", "last-only", "month-end", "to-on-due-day", "leap"])
def test_deferral_moves_the_plan(first, count, start, end, expected_dues):
    plan = instalment_plan(D(100) * count, D(100), d(first))
    moved = defer(plan, Deferral(d(start), d(end)))
    assert [i.due.strftime("%d.%m.%Y") for i in moved.instalments] == expected_dues
    assert moved.total == plan.total


def test_deferral_ending_before_it_starts_is_refused():
    with pytest.raises(LoanError, match="Stundung: das Ende .* liegt vor dem Beginn"):
        Deferral(d("01.05.2027"), d("01.04.2027"))


def _loan(**kwargs):
    plan = instalment_plan(D("1234.56"), D("100"), d("01.01.2027"))
    values = dict(kind=DARLEHEN, amount=D("1234.56"), workflow=TILGUNG, plan=plan)
    values.update(kwargs)
    return Account(**values)


def pay(day, amount, kind=ZAHLUNG):
    return Booking(d(day), kind, D(amount))


# (reason, account arguments, as of, paid, open, due, arrears, status)
FIGURES = [
    ("nothing due yet", {}, "31.12.2026", "0.00", "1234.56", "0.00", "0.00", "laufend"),
    ("first instalment paid on time", {"bookings": (pay("02.01.2027", "100"),)},
     "15.01.2027", "100.00", "1134.56", "100.00", "0.00", "laufend"),
    ("a payment after the as-of date does not count", {"bookings": (pay("02.02.2027", "100"),)},
     "15.01.2027", "0.00", "1234.56", "100.00", "100.00", "laufend"),
    ("two due, one paid: arrears 100", {"bookings": (pay("02.01.2027", "100"),)},
     "01.02.2027", "100.00", "1134.56", "200.00", "100.00", "laufend"),
    ("a reversal (negative payment) takes the payment back", {"bookings": (pay("02.01.2027", "100"),
                                                                          pay("05.01.2027", "-100"))},
     "15.01.2027", "0.00", "1234.56", "100.00", "100.00", "laufend"),
    ("paid in full: getilgt", {"bookings": (pay("02.01.2027", "1234.56"),)},
     "15.01.2027", "1234.56", "0.00", "100.00", "0.00", "getilgt"),
    ("overpaid: negative open, a refund due", {"bookings": (pay("02.01.2027", "1300"),)},
     "15.01.2027", "1300.00", "-65.44", "100.00", "0.00", "getilgt"),
    ("deferral running that day", {"deferrals": (Deferral(d("01.02.2027"), d("30.04.2027")),),
                                   "bookings": (pay("02.01.2027", "100"),)},
     "15.03.2027", "100.00", "1134.56", "100.00", "0.00", "gestundet"),
    ("after the deferral the moved plan is due", {"deferrals": (Deferral(d("01.02.2027"), d("30.04.2027")),),
                                                 "bookings": (pay("02.01.2027", "100"),)},
     "01.05.2027", "100.00", "1134.56", "200.00", "100.00", "laufend"),
    ("a revoked deferral moves nothing after its revocation",
     {"deferrals": (Deferral(d("01.02.2027"), d("30.04.2027"), revoked_on=d("01.03.2027")),)},
     "01.03.2027", "0.00", "1234.56", "300.00", "300.00", "laufend"),
    ("written off: no due, no arrears", {"write_offs": (WriteOff(d("01.03.2027"), review_on=d("01.03.2028")),)},
     "01.04.2027", "0.00", "1234.56", None, None, "niedergeschlagen"),
    ("a lifted write-off counts again", {"write_offs": (WriteOff(d("01.03.2027"), ended_on=d("01.04.2027")),)},
     "01.04.2027", "0.00", "1234.56", "400.00", "400.00", "laufend"),
    ("waived: the rest is a Sollabgang", {"waived_on": d("01.03.2027"),
                                         "bookings": (pay("02.01.2027", "100"), pay("01.03.2027", "1134.56", ERLASS))},
     "01.04.2027", "100.00", "0.00", None, None, "erlassen"),
]


@pytest.mark.parametrize(("reason", "kwargs", "as_of", "paid", "open_", "due", "arrears", "status"), FIGURES,
                         ids=[row[0] for row in FIGURES])
def test_figures_as_of(reason, kwargs, as_of, paid, open_, due, arrears, status):
    result = figures(_loan(**kwargs), d(as_of))
    assert (result.paid, result.open, result.status) == (D(paid), D(open_), status)
    assert result.due == (None if due is None else D(due))
    assert result.arrears == (None if arrears is None else D(arrears))


def test_overpayment_is_a_refund():
    result = figures(_loan(bookings=(pay("02.01.2027", "1300"),)), d("15.01.2027"))
    assert result.refund == D("65.44")


def test_grant_is_not_repaid():
    result = figures(Account(kind=BEIHILFE, amount=D("500")), d("01.01.2027"))
    assert (result.open, result.due, result.status) == (D("0.00"), None, "getilgt")


@pytest.mark.parametrize(("limits", "profiles", "amount", "ok"), [
    ({}, ("Sachbearbeitung",), "99999", True),                                  # no limits configured
    ({"Teamleitung": {"erlassen": "3000"}}, ("Teamleitung",), "3000", True),    # up to the limit inclusive
    ({"Teamleitung": {"erlassen": "3000"}}, ("Teamleitung",), "3000.01", False),  # one cent above
    ({"Teamleitung": {"erlassen": "3000"}}, ("Sachbearbeitung",), "1", False),  # profile without the right
    ({"A": {"erlassen": "100"}, "B": {"erlassen": "5000"}}, ("A", "B"), "4000", True),  # the highest limit counts
], ids=["none", "at-limit", "above", "no-right", "highest"])
def test_amount_limits(limits, profiles, amount, ok):
    if ok:
        check_limit(limits, profiles, "erlassen", D(amount))
    else:
        with pytest.raises(LoanError, match="Betragsgrenze"):
            check_limit(limits, profiles, "erlassen", D(amount))


@pytest.mark.parametrize(("above", "amount", "expected"), [
    (None, "100000", False), ("1000", "1000", False), ("1000", "1000.01", True),
], ids=["off", "at", "above"])
def test_four_eyes(above, amount, expected):
    assert needs_second_person(above, D(amount)) is expected


def test_minor_is_no_borrower():
    check_borrower(18)
    with pytest.raises(LoanError, match="Minderjährige"):
        check_borrower(17)


@pytest.mark.parametrize("as_of", ["31.12.2026", "01.01.2027", "27.02.2027", "28.02.2027", "31.03.2027",
                                   "30.04.2027", "15.01.2028", "31.12.2030"])
@pytest.mark.parametrize(("amount", "rate", "first"), [("1234.56", "100", "31.01.2027"), ("300", "99.99", "01.01.2027"),
                                                       ("50", "100", "28.02.2027")])
def test_counted_due_equals_the_plan(as_of, amount, rate, first):
    # The report's fast path (no plan made) must give what the plan gives, month ends and remainders included.
    from app.domain.loans import Terms
    plan = instalment_plan(D(amount), D(rate), d(first))
    counted = figures(Account(kind=DARLEHEN, amount=D(amount), terms=Terms(D(rate), d(first))), d(as_of))
    planned = figures(Account(kind=DARLEHEN, amount=D(amount), plan=plan), d(as_of))
    assert (counted.due, counted.arrears, counted.next_due) == (planned.due, planned.arrears, planned.next_due)


@pytest.mark.parametrize(("regelbedarf", "percent", "rate"), [
    ("563.00", "5", "28.15"),    # § 42a Abs. 2 SGB II: 5 % of Regelbedarfsstufe 1 (2026)
    ("502.00", "5", "25.10"),    # 2023
    ("449.00", "10", "44.90"),   # the old 10 % (before 1.7.2023), configurable
    ("563.30", "5", "28.17"),    # 28.165 rounds half up
], ids=["2026", "2023", "old-10", "half-up"])
def test_offset_rate(regelbedarf, percent, rate):
    from app.domain.loans import offset_rate
    assert offset_rate(D(regelbedarf), D(percent)) == D(rate)


# -- the report's plain path (#13 follow-up): equal to ``figures`` for loans without deferral/write-off/waiver --

@pytest.mark.parametrize("as_of", ["31.12.2026", "01.01.2027", "28.02.2027", "15.01.2028", "31.12.2030"])
@pytest.mark.parametrize(("workflow", "amount", "rate", "first", "paid", "waived"), [
    ("tilgung", "1234.56", "100", "31.01.2027", "0.00", "0.00"),
    ("tilgung", "1234.56", "100", "31.01.2027", "250.00", "0.00"),
    ("tilgung", "300.00", "99.99", "01.01.2027", "300.00", "0.00"),     # settled
    ("tilgung", "300.00", "99.99", "01.01.2027", "350.00", "0.00"),     # overpaid: refund
    ("tilgung", "300.00", "99.99", "01.01.2027", "-20.00", "0.00"),     # a reversal
    ("ausgezahlt", "500.00", None, None, "0.00", "0.00"),              # no plan yet
    ("beantragt", "500.00", None, None, "0.00", "0.00"),
    ("tilgung", "500.00", "100", "01.01.2027", "100.00", "400.00"),    # waived amount booked (no event)
])
def test_plain_figures_equal_figures(as_of, workflow, amount, rate, first, paid, waived):
    from app.domain.loans import Terms, plain_figures
    terms = Terms(D(rate), d(first)) if rate else None
    bookings = (Booking(d("01.01.2000"), ZAHLUNG, D(paid)), Booking(d("01.01.2000"), ERLASS, D(waived)))
    full = figures(Account(kind=DARLEHEN, amount=D(amount), workflow=workflow, terms=terms, bookings=bookings), d(as_of))
    cache = {}
    for _ in range(2):  # the second call answers from the cache
        plain = plain_figures(D(amount), workflow, terms, D(paid), D(waived), d(as_of), cache)
        assert plain == full


# -- which actions a loan offers (#13 follow-up: no second "Niederschlagen" after a write-off) --

def _acc(workflow=TILGUNG, **kwargs):
    from app.domain.loans import Terms
    values = dict(kind=DARLEHEN, amount=D("1234.56"), workflow=workflow, terms=Terms(D("100"), d("01.01.2027")))
    values.update(kwargs)
    return Account(**values)


TODAY = "01.03.2027"
# (reason, account, pending, offered actions)
ACTIONS = [
    ("application", _acc("beantragt", terms=None), (), ["bewilligen", "ablehnen"]),
    ("rejected", _acc("abgelehnt", terms=None), (), []),
    ("paid out, no plan yet", _acc("ausgezahlt", terms=None), (),
     ["raten", "niederschlagen", "erlassen", "zahlung"]),
    ("repaying", _acc(), (), ["stunden", "niederschlagen", "erlassen", "zahlung"]),
    ("deferred", _acc(deferrals=(Deferral(d("01.02.2027"), d("30.04.2027")),)), (),
     ["stunden", "stundung_widerrufen", "niederschlagen", "erlassen", "zahlung"]),
    ("written off: no second write-off, no deferral",
     _acc(write_offs=(WriteOff(d("15.02.2027"), d("01.09.2027")),)), (),
     ["niederschlagung_aufheben", "erlassen", "zahlung"]),
    ("paid out and written off: no plan either", _acc("ausgezahlt", terms=None,
                                                       write_offs=(WriteOff(d("15.02.2027")),)), (),
     ["niederschlagung_aufheben", "erlassen", "zahlung"]),
    ("write-off lifted", _acc(write_offs=(WriteOff(d("15.02.2027"), None, d("20.02.2027")),)), (),
     ["stunden", "niederschlagen", "erlassen", "zahlung"]),
    ("write-off waiting for a second person", _acc(), ("niederschlagung",),
     ["stunden", "erlassen", "freigeben", "zahlung"]),
    ("waiver waiting", _acc(), ("erlass",), ["stunden", "niederschlagen", "freigeben", "zahlung"]),
    ("waived: nothing but nothing", _acc(waived_on=d("10.02.2027"),
                                         bookings=(pay("10.02.2027", "1234.56", ERLASS),)), (), []),
    ("settled", _acc(bookings=(pay("10.02.2027", "1234.56"),)), (), ["zahlung"]),
    ("grant paid out: nothing to repay", _acc("ausgezahlt", kind=BEIHILFE, terms=None), (), ["zahlung"]),
]


@pytest.mark.parametrize(("reason", "account", "pending", "offered"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_allowed_actions(reason, account, pending, offered):
    from app.domain.loans import ACTION_LABELS, allowed_actions, check_action
    allowed = allowed_actions(account, d(TODAY), frozenset(pending))
    assert sorted(allowed) == sorted(offered)
    for action in ACTION_LABELS:
        if action not in offered:
            with pytest.raises(LoanError, match=r"ist nicht möglich: "):
                check_action(account, d(TODAY), action, frozenset(pending))


def test_refusal_names_the_reason():
    from app.domain.loans import check_action
    written_off = _acc(write_offs=(WriteOff(d("15.02.2027")),))
    with pytest.raises(LoanError, match="„Niederschlagen“ ist nicht möglich: das Darlehen ist schon niedergeschlagen."):
        check_action(written_off, d(TODAY), "niederschlagen")
