"""QS 1.1–1.5: the rules as tables, one case per line with its reason (no DB, no app).

Dates are Berlin working days unless a row says otherwise. Around Whitsun 2025: Mon 2 June + 10 working
days = Tue 17 June (Whit Monday 9 June does not count).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.calendar import WorkingCalendar, working_calendar
from app.domain.indicators import (
    ACCESS_STANDARDS, HAUSBESUCH, KLAGE_ANSCHREIBEN, KLAGE_EINGANG, KONTAKT, ZR_ANSCHREIBEN,
    ZR_ANWESENHEIT, ZR_MITTEILUNG_EINGANG, ZR_TERMIN, AccessConfirmation, Case, CaseRef, Event,
    IndicatorResult, StandardRef, aggregate, compute_report, in_time, percent,
)

D = date.fromisoformat
P_FROM, P_TO = date(2024, 1, 1), date(2025, 12, 31)
LATE = date(2026, 3, 31)  # a report date after everything
CALENDARS = {
    "BE": working_calendar("BE"),
    "NW": working_calendar("NW"),
    "BE+closure": WorkingCalendar("BE", [date(2025, 6, 5)]),
    "NW+closure": working_calendar("NW", [date(2025, 12, 24), date(2025, 12, 31)]),
}
CHAINS = {"1.1": (KLAGE_EINGANG, KLAGE_ANSCHREIBEN), "1.3": (ZR_MITTEILUNG_EINGANG, ZR_ANSCHREIBEN)}


def ev(point: str, day: str, in_pairs: bool | None = None) -> Event:
    return Event(point, D(day), in_pairs)


def run(*cases: Case, as_of: date = LATE, calendar: str = "BE", access=(), org_units=(),
        period=(P_FROM, P_TO)):
    return compute_report(cases, period[0], period[1], as_of, CALENDARS[calendar], access,
                          org_units=org_units)


def status(result: IndicatorResult, case_id=1) -> str:
    """Where a case is counted: 'met', 'not_met', 'pending' or 'absent' (not in the indicator)."""
    found = [name for name in ("met", "not_met", "pending")
             if any(ref.case_id == case_id for ref in getattr(result, name))]
    assert len(found) <= 1, found
    return found[0] if found else "absent"


def one(report, code: str) -> IndicatorResult:
    return report.org_units["Mitte"][code]


# --- "within N working days" -------------------------------------------------------------------

@pytest.mark.parametrize(("received", "acted", "n", "expected"), [
    ("2025-06-02", "2025-06-02", 3, True),   # the same day: 0 working days passed
    ("2025-06-02", "2025-05-30", 3, True),   # before receipt: negative, in time
    ("2025-06-02", "2025-06-05", 3, True),   # the 3rd working day
    ("2025-06-02", "2025-06-06", 3, False),  # the 4th working day
    ("2025-06-03", "2025-06-07", 3, True),   # Saturday after the 3rd: still 3 passed
    ("2025-06-03", "2025-06-09", 3, True),   # Whit Monday after that weekend: still 3
    ("2025-06-03", "2025-06-10", 3, False),  # Tuesday: 4
], ids=["same-day", "before", "3rd", "4th", "saturday-after-3rd", "whit-monday", "tuesday-4th"])
def test_in_time(received, acted, n, expected):
    assert in_time(CALENDARS["BE"], D(received), D(acted), n) is expected


# --- QS 1.1 and 1.3: standard letter within 3 working days --------------------------------------

@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize(("received", "letter", "as_of", "calendar", "expected"), [
    ("2025-06-02", "2025-06-02", LATE, "BE", "met"),          # letter on the day of receipt
    ("2025-06-02", "2025-06-05", LATE, "BE", "met"),          # Thursday: the 3rd working day
    ("2025-06-02", "2025-06-06", LATE, "BE", "not_met"),      # Friday: the 4th
    ("2025-03-01", "2025-03-05", LATE, "BE", "met"),          # received Saturday: Mon, Tue, Wed
    ("2025-03-01", "2025-03-06", LATE, "BE", "not_met"),      # ... Thursday is the 4th
    ("2024-03-06", "2024-03-12", LATE, "BE", "met"),          # Frauentag Fri 8 March 2024 skipped
    ("2024-03-06", "2024-03-12", LATE, "NW", "not_met"),      # ... no holiday in NRW
    ("2025-04-17", "2025-04-24", LATE, "BE", "met"),          # over Easter: Tue, Wed, Thu
    ("2025-04-17", "2025-04-25", LATE, "BE", "not_met"),      # ... Friday is the 4th
    ("2025-05-06", "2025-05-12", LATE, "BE", "met"),          # 8 May 2025 skipped in Berlin
    ("2025-05-06", "2025-05-12", LATE, "NW", "not_met"),      # ... not in NRW
    ("2025-12-22", "2025-12-29", LATE, "BE", "met"),          # 23, 24, 29 December
    ("2025-12-22", "2025-12-30", LATE, "BE", "not_met"),      # ... 30 December is the 4th
    ("2025-12-22", "2025-12-30", LATE, "NW+closure", "met"),  # closure on 24 Dec: 23, 29, 30
    ("2025-12-30", "2026-01-05", LATE, "BE", "met"),          # over New Year: 31 Dec, 2 and 5 Jan
    ("2025-12-30", "2026-01-06", LATE, "BE", "not_met"),      # ... 6 January is the 4th
    ("2025-06-03", "2025-06-07", LATE, "BE", "met"),          # sent on the Saturday after the 3rd
    ("2025-06-03", "2025-06-09", LATE, "BE", "met"),          # sent on Whit Monday: still 3 passed
    ("2025-06-03", "2025-06-10", LATE, "BE", "not_met"),      # Tuesday after Whitsun: 4
    ("2025-06-03", "2025-06-10", LATE, "BE+closure", "met"),  # closure Thu 5 June: 4, 6, 10
    ("2025-06-02", None, D("2025-06-04"), "BE", "pending"),   # deadline Thu 5 June after the report
    ("2025-06-02", None, D("2025-06-05"), "BE", "not_met"),   # report on the deadline: too late
    ("2025-06-04", None, D("2025-06-07"), "BE", "pending"),   # deadline Tue 10 June (Whitsun)
    ("2025-06-04", None, D("2025-06-09"), "BE", "pending"),   # ... still after Whit Monday
    ("2025-06-04", None, D("2025-06-10"), "BE", "not_met"),   # ... reached
    ("2025-03-01", None, D("2025-03-04"), "BE", "pending"),   # Saturday receipt, deadline Wed 5th
    ("2025-03-01", None, D("2025-03-05"), "BE", "not_met"),   # ... reached without a letter
    ("2025-06-02", "2025-06-04", D("2025-06-03"), "BE", "pending"),  # letter after the report: unseen
    ("2025-06-02", "2025-06-10", D("2025-06-06"), "BE", "not_met"),  # unseen and the deadline passed
    ("2025-06-02", "2025-05-30", LATE, "BE", "not_met"),      # a letter before the notice answers none
    ("2025-06-02", None, LATE, "BE", "not_met"),              # never sent
], ids=["same-day", "3rd-wd", "4th-wd", "sat-receipt-3rd", "sat-receipt-4th", "frauentag-be",
        "frauentag-nw", "easter-3rd", "easter-4th", "8-may-be", "8-may-nw", "christmas-3rd",
        "christmas-4th", "christmas-closure", "new-year-3rd", "new-year-4th", "sent-saturday",
        "sent-whit-monday", "sent-tuesday", "closure-day", "pending", "deadline-day", "pending-sat",
        "pending-whit-monday", "deadline-after-whitsun", "sat-receipt-pending", "sat-receipt-deadline",
        "letter-after-report", "letter-after-report-late", "letter-before-notice", "never-sent"])
def test_letter_within_three_working_days(chain, received, letter, as_of, calendar, expected):
    notice, sent = CHAINS[chain]
    events = [ev(notice, received)] + ([ev(sent, letter)] if letter else [])
    report = run(Case("Mitte", 1, events), as_of=as_of, calendar=calendar)
    assert status(one(report, chain)) == expected
    other = "1.3" if chain == "1.1" else "1.1"
    assert one(report, other).denominator == 0 and one(report, other).pending_count == 0


@pytest.mark.parametrize(("received", "as_of"), [
    ("2023-12-29", LATE),                # received before the period
    ("2026-01-02", LATE),                # received after the period
    ("2025-06-02", D("2025-06-01")),     # received after the report date: not seen yet
], ids=["before-period", "after-period", "after-report-date"])
def test_notices_outside_the_window_are_not_counted(received, as_of):
    report = run(Case("Mitte", 1, [ev(KLAGE_EINGANG, received), ev(KLAGE_ANSCHREIBEN, received)]),
                 as_of=as_of)
    assert one(report, "1.1") == IndicatorResult()


def test_lawsuit_and_bailiff_letters_do_not_answer_each_other():
    report = run(Case("Mitte", 1, [ev(KLAGE_EINGANG, "2025-06-02"), ev(ZR_ANSCHREIBEN, "2025-06-03")]),
                 Case("Mitte", 2, [ev(ZR_MITTEILUNG_EINGANG, "2025-06-02"), ev(KLAGE_ANSCHREIBEN, "2025-06-03")]))
    assert one(report, "1.1").not_met == (CaseRef("Mitte", 1, D("2025-06-02")),)
    assert one(report, "1.3").not_met == (CaseRef("Mitte", 2, D("2025-06-02")),)
    assert one(report, "1.1").met == one(report, "1.3").met == ()


# --- several notices in one case -----------------------------------------------------------------

@pytest.mark.parametrize(("events", "met", "not_met"), [
    ([ev(KLAGE_EINGANG, "2025-02-03"), ev(KLAGE_ANSCHREIBEN, "2025-02-04"),
      ev(KLAGE_EINGANG, "2025-09-01"), ev(KLAGE_ANSCHREIBEN, "2025-09-10")],
     ["2025-02-03"], ["2025-09-01"]),     # each notice with its own letter: Feb in time, Sept late
    ([ev(KLAGE_EINGANG, "2025-09-01"), ev(KLAGE_ANSCHREIBEN, "2025-02-04"),
      ev(KLAGE_ANSCHREIBEN, "2025-09-10"), ev(KLAGE_EINGANG, "2025-02-03")],
     ["2025-02-03"], ["2025-09-01"]),     # the same in any input order
    ([ev(KLAGE_EINGANG, "2025-03-03"), ev(KLAGE_EINGANG, "2025-03-05"), ev(KLAGE_ANSCHREIBEN, "2025-03-06")],
     ["2025-03-05"], ["2025-03-03"]),     # one letter after the second notice answers the second only
    ([ev(KLAGE_EINGANG, "2025-03-03"), ev(KLAGE_EINGANG, "2025-03-03"), ev(KLAGE_ANSCHREIBEN, "2025-03-04")],
     ["2025-03-03"], []),                 # the same notice entered twice counts once
    ([ev(KLAGE_EINGANG, "2023-12-27"), ev(KLAGE_EINGANG, "2024-01-03"), ev(KLAGE_ANSCHREIBEN, "2024-01-04")],
     ["2024-01-03"], []),                 # the earlier notice lies before the period: only the later counts
    ([ev(KLAGE_EINGANG, "2025-03-03"), ev(KLAGE_ANSCHREIBEN, "2025-03-04"), ev(KLAGE_ANSCHREIBEN, "2025-03-20")],
     ["2025-03-03"], []),                 # a reminder letter later changes nothing: the first one counts
], ids=["two-notices", "unsorted", "letter-after-second", "duplicate-notice", "earlier-before-period",
        "second-letter"])
def test_several_notices_per_case(events, met, not_met):
    result = one(run(Case("Mitte", 1, events)), "1.1")
    assert [ref.on for ref in result.met] == [D(d) for d in met]
    assert [ref.on for ref in result.not_met] == [D(d) for d in not_met]


def test_each_notice_has_its_own_home_visit_deadline():
    case = Case("Mitte", 1, [ev(KLAGE_EINGANG, "2025-02-03"), ev(KLAGE_ANSCHREIBEN, "2025-02-04"),
                             ev(HAUSBESUCH, "2025-02-10"),
                             ev(KLAGE_EINGANG, "2025-09-01"), ev(KLAGE_ANSCHREIBEN, "2025-09-02")])
    result = one(run(case), "1.2")
    assert result.met == (CaseRef("Mitte", 1, D("2025-02-03")),)
    assert result.not_met == (CaseRef("Mitte", 1, D("2025-09-01")),)


# --- QS 1.2: home visit within 10 working days when there was no reaction -------------------------

@pytest.mark.parametrize(("sent", "contacts", "visits", "as_of", "expected"), [
    ("2025-06-02", [], ["2025-06-17"], LATE, "met"),              # visit on the 10th working day
    ("2025-06-02", [], ["2025-06-18"], LATE, "not_met"),          # visit on the 11th
    ("2025-06-02", [], ["2025-06-02"], LATE, "met"),              # visit on the dispatch day
    ("2025-06-02", [], ["2025-06-05"], LATE, "met"),              # a visit alone is not a contact
    ("2025-06-02", [], ["2025-06-20", "2025-06-10"], LATE, "met"),  # the first visit counts, any order
    ("2025-06-02", [], ["2025-05-30"], LATE, "not_met"),          # a visit before the dispatch does not count
    ("2025-06-02", [], [], D("2025-06-16"), "pending"),           # deadline 17 June after the report
    ("2025-06-02", [], [], D("2025-06-17"), "not_met"),           # report on the deadline, no visit
    ("2025-06-02", [], ["2025-06-10"], D("2025-06-16"), "met"),   # visited: met before the deadline
    ("2025-06-02", [], ["2025-06-10"], D("2025-06-09"), "pending"),  # visit after the report: unseen
    ("2025-06-02", ["2025-06-05"], [], LATE, "absent"),           # the client reacted: not in 1.2
    ("2025-06-02", ["2025-06-05"], ["2025-06-10"], LATE, "absent"),  # contact before the first visit
    ("2025-06-02", ["2025-06-17"], [], LATE, "absent"),           # contact on the 10th working day
    ("2025-06-02", ["2025-06-12"], ["2025-06-10"], LATE, "met"),  # contact after the first visit stays
    ("2025-06-02", ["2025-06-10"], ["2025-06-10"], LATE, "met"),  # contact on the visit's day: its result
    ("2025-06-02", ["2025-05-30"], ["2025-06-20"], LATE, "not_met"),  # contact before dispatch: no reaction
    ("2025-06-02", ["2025-05-30"], [], D("2025-06-10"), "pending"),  # ... and no visit yet
    ("2025-06-02", ["2025-06-02"], [], LATE, "not_met"),          # contact on the dispatch day: no reaction
    ("2025-06-02", ["2025-06-18"], [], LATE, "not_met"),          # contact after the deadline: no reaction
    ("2025-06-02", ["2025-06-18"], ["2025-06-20"], LATE, "not_met"),  # ... and the visit late
    ("2025-06-02", ["2025-06-05"], [], D("2025-06-04"), "pending"),  # contact after the report: unseen
    ("2025-06-13", [], ["2025-06-28"], LATE, "met"),              # Sat after the 10th (Fri 27 June)
    ("2025-06-13", [], ["2025-06-30"], LATE, "not_met"),          # Monday: the 11th
    ("2025-06-13", ["2025-06-28"], [], LATE, "absent"),           # contact that Saturday: a reaction
], ids=["visit-10th", "visit-11th", "visit-dispatch-day", "visit-alone", "first-visit-counts",
        "visit-before-dispatch", "pending", "deadline-day", "met-early", "visit-after-report",
        "reaction", "reaction-before-visit", "reaction-10th", "contact-after-visit", "contact-visit-day",
        "contact-before-dispatch", "contact-before-dispatch-pending", "contact-dispatch-day",
        "contact-after-deadline", "contact-and-visit-late", "contact-after-report", "visit-saturday",
        "visit-monday-11th", "contact-saturday"])
def test_home_visit_without_reaction(sent, contacts, visits, as_of, expected):
    events = [ev(KLAGE_EINGANG, sent), ev(KLAGE_ANSCHREIBEN, sent)]
    events += [ev(KONTAKT, d) for d in contacts] + [ev(HAUSBESUCH, d) for d in visits]
    assert status(one(run(Case("Mitte", 1, events), as_of=as_of), "1.2")) == expected


@pytest.mark.parametrize(("events", "expected_11", "expected_12"), [
    ([ev(KLAGE_EINGANG, "2025-06-02")], "not_met", "absent"),      # no letter: not in 1.2 at all
    ([ev(KLAGE_EINGANG, "2025-06-02"), ev(KLAGE_ANSCHREIBEN, "2025-06-10"), ev(HAUSBESUCH, "2025-06-12")],
     "not_met", "met"),                                            # a late letter still starts 1.2
    ([ev(KLAGE_EINGANG, "2025-06-02"), ev(ZR_ANSCHREIBEN, "2025-06-02"), ev(HAUSBESUCH, "2025-06-03")],
     "not_met", "absent"),                                         # a bailiff letter is no dispatch for 1.2
], ids=["no-letter", "late-letter", "bailiff-letter"])
def test_home_visit_population(events, expected_11, expected_12):
    report = run(Case("Mitte", 1, events))
    assert (status(one(report, "1.1")), status(one(report, "1.2"))) == (expected_11, expected_12)


def test_home_visits_in_pairs_are_counted_for_the_met_cases():
    cases = [Case("Mitte", i, [ev(KLAGE_EINGANG, "2025-06-02"), ev(KLAGE_ANSCHREIBEN, "2025-06-02"),
                               ev(HAUSBESUCH, "2025-06-05", pairs)])
             for i, pairs in enumerate([True, False, None, True], start=1)]
    result = one(run(*cases), "1.2")
    assert (result.numerator, result.denominator, result.in_pairs) == (4, 4, 2)


# --- QS 1.4: attendance at forced evictions without earlier contact -------------------------------

@pytest.mark.parametrize(("contacts", "attended", "as_of", "expected"), [
    ([], ["2025-06-10"], LATE, "met"),                       # attended, no contact before
    ([], [], LATE, "not_met"),                               # not attended
    (["2025-05-01"], ["2025-06-10"], LATE, "absent"),        # contact before: not in 1.4
    (["2024-02-01"], [], LATE, "absent"),                    # any contact in the case counts
    (["2025-06-10"], ["2025-06-10"], LATE, "met"),           # contact at the eviction is not "before"
    (["2025-06-11"], [], LATE, "not_met"),                   # contact afterwards: still in 1.4
    ([], ["2025-06-11"], LATE, "not_met"),                   # attendance on another day does not count
    ([], [], D("2025-06-09"), "absent"),                     # eviction after the report date: not seen
    ([], ["2025-06-10"], D("2025-06-10"), "met"),            # report on the eviction day sees it
], ids=["attended", "not-attended", "contact-before", "old-contact", "contact-same-day",
        "contact-after", "attended-other-day", "after-report", "report-on-the-day"])
def test_attendance_at_forced_eviction(contacts, attended, as_of, expected):
    events = [ev(ZR_MITTEILUNG_EINGANG, "2025-05-20"), ev(ZR_TERMIN, "2025-06-10")]
    events += [ev(KONTAKT, d) for d in contacts] + [ev(ZR_ANWESENHEIT, d, True) for d in attended]
    result = one(run(Case("Mitte", 1, events), as_of=as_of), "1.4")
    assert status(result) == expected
    assert result.pending_count == 0
    assert result.in_pairs == (1 if expected == "met" else 0)


def test_forced_evictions_are_counted_by_their_own_date():
    case = Case("Mitte", 1, [ev(ZR_TERMIN, "2023-12-15"),            # before the period
                             ev(ZR_TERMIN, "2025-06-10"), ev(ZR_TERMIN, "2025-06-10"),  # entered twice
                             ev(KONTAKT, "2025-06-20"),
                             ev(ZR_TERMIN, "2025-07-15"),            # postponed date, after a contact
                             ev(ZR_ANWESENHEIT, "2025-06-10")])
    result = one(run(case), "1.4")
    assert result.met == (CaseRef("Mitte", 1, D("2025-06-10")),)
    assert (result.numerator, result.denominator) == (1, 1)


# --- QS 1.5: seven access standards --------------------------------------------------------------

ALL = list(ACCESS_STANDARDS)


def confirm(fulfilled, day="2025-11-01", unit="Mitte", standards=ALL):
    return [AccessConfirmation(unit, s, f, D(day)) for s, f in zip(standards, fulfilled)]


@pytest.mark.parametrize(("confirmations", "numerator", "percent_"), [
    (confirm([True] * 7), 7, Decimal("100.0")),                    # all seven
    (confirm([True] * 5 + [False] * 2), 5, Decimal("71.4")),       # 5/7 = 71.43
    (confirm([True] + [False] * 6), 1, Decimal("14.3")),           # 1/7 = 14.29
    (confirm([True] * 3), 3, Decimal("42.9")),                     # four never confirmed: not fulfilled
    ([], 0, Decimal("0.0")),                                       # nothing confirmed
    (confirm([False] * 7, "2025-01-10") + confirm([True] * 7, "2025-11-01"), 7, Decimal("100.0")),  # latest
    (confirm([True] * 7, "2025-01-10") + confirm([False] * 7, "2025-11-01"), 0, Decimal("0.0")),  # latest
    (confirm([True] * 7, "2025-01-10") + confirm([False] * 7, "2026-04-01"), 7, Decimal("100.0")),  # unseen
    (confirm([True] * 7) + confirm([False] * 7), 0, Decimal("0.0")),  # same-day disagreement: not fulfilled
    (confirm([True] * 7, unit="Pankow"), 0, Decimal("0.0")),       # another district's confirmations
], ids=["all", "five", "one", "unconfirmed", "none", "latest-yes", "latest-no", "after-report",
        "same-day-conflict", "other-district"])
def test_access_standards(confirmations, numerator, percent_):
    result = run(access=confirmations, org_units=["Mitte"]).org_units["Mitte"]["1.5"]
    assert (result.numerator, result.denominator, result.percent) == (numerator, 7, percent_)


def test_access_standards_drill_down_names_the_confirmation_that_counted():
    result = run(access=confirm([True, False], "2025-03-01", standards=ALL[:2]) + confirm([True], "2025-04-01"),
                 org_units=["Mitte"]).org_units["Mitte"]["1.5"]
    assert result.met == (StandardRef("Mitte", "shared_email", D("2025-04-01")),)
    assert result.not_met[0] == StandardRef("Mitte", "shared_phone", D("2025-03-01"))
    assert result.not_met[1:] == tuple(StandardRef("Mitte", s, None) for s in ALL[2:])


# --- percent, aggregation, report ---------------------------------------------------------------

@pytest.mark.parametrize(("numerator", "denominator", "expected"), [
    (0, 0, None),                  # no cases: "–", not 0 %
    (0, 5, Decimal("0.0")),
    (5, 5, Decimal("100.0")),
    (1, 3, Decimal("33.3")),
    (2, 3, Decimal("66.7")),
    (1, 6, Decimal("16.7")),
    (1, 16, Decimal("6.3")),       # 6.25: half up, where half-even would give 6.2
    (9, 16, Decimal("56.3")),      # 56.25 likewise
    (1, 80, Decimal("1.3")),       # 1.25
], ids=["zero-denominator", "zero", "all", "third", "two-thirds", "sixth", "half-up", "half-up-2", "half-up-3"])
def test_percent(numerator, denominator, expected):
    assert percent(numerator, denominator) == expected


def _lawsuit(unit, case_id, letter):
    return Case(unit, case_id, [ev(KLAGE_EINGANG, "2025-06-02"), ev(KLAGE_ANSCHREIBEN, letter)])


def test_total_sums_numerators_and_denominators_never_averages():
    # Mitte 1 of 1 (100 %), Pankow 1 of 4 (25 %): the total is 2 of 5 = 40 %, not 62.5 %.
    report = run(_lawsuit("Mitte", 1, "2025-06-03"), _lawsuit("Pankow", 2, "2025-06-03"),
                 *[_lawsuit("Pankow", i, "2025-06-20") for i in (3, 4, 5)])
    assert report.org_units["Mitte"]["1.1"].percent == Decimal("100.0")
    assert report.org_units["Pankow"]["1.1"].percent == Decimal("25.0")
    total = report.total["1.1"]
    assert (total.numerator, total.denominator, total.percent) == (2, 5, Decimal("40.0"))
    assert {ref.case_id for ref in total.met} == {1, 2}
    assert report.total["1.5"].denominator == 14  # seven standards in each of the two districts


def test_aggregate_joins_the_refs_of_each_indicator():
    a = {"1.1": IndicatorResult(met=("x",), not_met=("y",), pending=("p",), in_pairs=1)}
    b = {"1.1": IndicatorResult(met=("z",), in_pairs=2)}
    total = aggregate([a, b])
    assert total["1.1"] == IndicatorResult(met=("x", "z"), not_met=("y",), pending=("p",), in_pairs=3)
    assert total["1.2"] == IndicatorResult()


def test_report_json_is_exact():
    cases = [
        _lawsuit("Mitte", 1, "2025-06-03"),                                       # 1.1 met
        Case("Mitte", 2, [ev(KLAGE_EINGANG, "2025-06-30")]),                      # 1.1 pending on 1 July
        Case("Pankow", 3, [ev(ZR_MITTEILUNG_EINGANG, "2025-06-02"), ev(ZR_ANSCHREIBEN, "2025-06-10"),
                           ev(ZR_TERMIN, "2025-06-20"), ev(ZR_ANWESENHEIT, "2025-06-20")]),
    ]
    report = run(*cases, as_of=D("2025-07-01"), period=(D("2025-04-01"), D("2025-06-30")),
                 access=confirm([True] * 5 + [False] * 2, "2025-06-30", unit="Pankow"),
                 org_units=["Spandau", "Pankow"])
    empty = {"numerator": 0, "denominator": 0, "percent": None, "pending": 0}
    no_access = {"numerator": 0, "denominator": 7, "percent": 0.0, "pending": 0}
    assert report.to_json() == {
        "period": {"from": "2025-04-01", "to": "2025-06-30"},
        "as_of": "2025-07-01",
        "org_units": {
            "Spandau": {"1.1": empty, "1.2": empty, "1.3": empty, "1.4": empty, "1.5": no_access},
            "Pankow": {"1.1": empty, "1.2": empty,
                       "1.3": {"numerator": 0, "denominator": 1, "percent": 0.0, "pending": 0},
                       "1.4": {"numerator": 1, "denominator": 1, "percent": 100.0, "pending": 0},
                       "1.5": {"numerator": 5, "denominator": 7, "percent": 71.4, "pending": 0}},
            "Mitte": {"1.1": {"numerator": 1, "denominator": 1, "percent": 100.0, "pending": 1},
                      "1.2": {"numerator": 0, "denominator": 1, "percent": 0.0, "pending": 0},
                      "1.3": empty, "1.4": empty, "1.5": no_access},
        },
        "total": {"1.1": {"numerator": 1, "denominator": 1, "percent": 100.0, "pending": 1},
                  "1.2": {"numerator": 0, "denominator": 1, "percent": 0.0, "pending": 0},
                  "1.3": {"numerator": 0, "denominator": 1, "percent": 0.0, "pending": 0},
                  "1.4": {"numerator": 1, "denominator": 1, "percent": 100.0, "pending": 0},
                  "1.5": {"numerator": 5, "denominator": 21, "percent": 23.8, "pending": 0}},
    }
    assert list(report.to_json()["org_units"]) == ["Spandau", "Pankow", "Mitte"]  # listed first, then sorted


def test_report_rerun_later_gives_the_same_figures():
    as_of = D("2025-06-04")
    before = [
        Case("Mitte", 1, [ev(KLAGE_EINGANG, "2025-06-02")]),                                   # pending
        Case("Mitte", 2, [ev(KLAGE_EINGANG, "2025-05-26"), ev(KLAGE_ANSCHREIBEN, "2025-05-27")]),  # met
        Case("Mitte", 3, [ev(ZR_TERMIN, "2025-06-03")]),                                        # not met
    ]
    later = [  # everything recorded after the report date, with dates after it
        Case("Mitte", 1, [ev(KLAGE_EINGANG, "2025-06-02"), ev(KLAGE_ANSCHREIBEN, "2025-06-05")]),
        Case("Mitte", 2, [ev(KLAGE_EINGANG, "2025-05-26"), ev(KLAGE_ANSCHREIBEN, "2025-05-27"),
                          ev(KONTAKT, "2025-06-05"), ev(KLAGE_EINGANG, "2025-06-05")]),
        Case("Mitte", 3, [ev(ZR_TERMIN, "2025-06-03"), ev(ZR_ANWESENHEIT, "2025-06-05")]),
        Case("Mitte", 4, [ev(KLAGE_EINGANG, "2025-06-05")]),
    ]
    first = run(*before, as_of=as_of, access=confirm([True] * 7, "2025-06-01"))
    again = run(*later, as_of=as_of, access=confirm([True] * 7, "2025-06-01") + confirm([False] * 7, "2025-06-05"))
    assert first.to_json() == again.to_json()
    assert first == again  # the drill-down lists too
    mitte = first.to_json()["org_units"]["Mitte"]
    assert mitte["1.1"] == {"numerator": 1, "denominator": 1, "percent": 100.0, "pending": 1}
    assert mitte["1.2"] == {"numerator": 0, "denominator": 0, "percent": None, "pending": 1}
    assert mitte["1.4"] == {"numerator": 0, "denominator": 1, "percent": 0.0, "pending": 0}
    # The later report does see the new facts:
    assert run(*later, as_of=LATE).to_json()["org_units"]["Mitte"]["1.1"] == {
        "numerator": 2, "denominator": 4, "percent": 50.0, "pending": 0}


def test_report_before_the_period_starts_counts_nothing():
    report = run(_lawsuit("Mitte", 1, "2025-06-03"), as_of=D("2023-12-31"))
    assert report.total["1.1"] == IndicatorResult()


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Event("klageeingang", D("2025-06-02")), "Unknown measurement point"),
    (lambda: AccessConfirmation("Mitte", "flyer", True, D("2025-06-02")), "Unknown access standard"),
    (lambda: run(period=(D("2025-06-30"), D("2025-06-01"))), "period_to lies before period_from"),
], ids=["unknown-point", "unknown-standard", "reversed-period"])
def test_bad_input_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
