"""Fee rules (#12 §4) as tables: counted days, part months, transfers, tariff changes, leap years, rounding."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from app.domain.fees import (
    Catalogue, Component, FeeError, Stay, Tariff, catalogue_from_data, counted_days, month_lines, parse_month,
    split_amount, tariff_changes, total,
)

ROOT = Path(__file__).resolve().parents[2]
D = Decimal


def heiligenhaus() -> Catalogue:
    return catalogue_from_data(yaml.safe_load((ROOT / "config/cities/musterhausen/fees.yaml").read_text()),
                               "musterhausen/fees.yaml")


def daily() -> Catalogue:
    return catalogue_from_data(yaml.safe_load((ROOT / "config/fees.yaml").read_text()), "fees.yaml")


def stay(move_in, move_out=None, person="p1", place="A1", shelter="Haus A", legal="obg", provider="gemeinde",
         **kw) -> Stay:
    return Stay(occupancy=(person, place, move_in), person=person, place=place, shelter=shelter, move_in=move_in,
                move_out=move_out, legal_basis=legal, provider_type=provider, **kw)


def sums(lines) -> dict:
    out: dict = {}
    for ln in lines:
        out[(ln.place, ln.component)] = out.get((ln.place, ln.component), D(0)) + ln.amount
    return out


# --- Heiligenhaus: 108,00 + 76,00 per person and month, 1/30 per day, move-in and move-out day count ---------
@pytest.mark.parametrize(("move_in", "move_out", "month", "grund", "neben"), [
    (date(2025, 5, 1), None, (2025, 6), "108.00", "76.00"),                       # there all June: monthly amount
    (date(2025, 6, 1), date(2025, 6, 30), (2025, 6), "108.00", "76.00"),          # 1st to 30th, both days count
    (date(2025, 7, 1), None, (2025, 7), "108.00", "76.00"),                       # 31-day month: still the monthly amount
    (date(2025, 6, 19), None, (2025, 6), "43.20", "30.40"),                       # 12 days × 1/30: 73,60 € together
    (date(2025, 6, 10), date(2025, 6, 10), (2025, 6), "3.60", "2.53"),            # in and out the same day: 1 day
    (date(2025, 5, 20), date(2025, 6, 3), (2025, 6), "10.80", "7.60"),            # out on the 3rd: 3 days (1st–3rd)
    (date(2025, 7, 2), None, (2025, 7), "108.00", "76.00"),                       # 30 of 31 days: 30/30
    (date(2025, 2, 2), None, (2025, 2), "97.20", "68.40"),                        # 27 days of February: 27/30
    (date(2024, 2, 2), None, (2024, 2), "100.80", "70.93"),                       # leap year: 28 days, 70,933 → 70,93
    (date(2024, 1, 15), None, (2024, 2), "108.00", "76.00"),                      # all 29 days of a leap February
    (date(2025, 1, 15), None, (2025, 2), "108.00", "76.00"),                      # all 28 days of February
    (date(2025, 6, 29), None, (2025, 6), "7.20", "5.07"),                         # 2 days: 5,0666 → 5,07 (half up)
    (date(2025, 6, 1), date(2025, 6, 5), (2025, 7), None, None),                  # moved out before: no line
], ids=["full", "1st-30th", "july-full", "12-days", "same-day", "out-3rd", "30-of-31", "feb-27",
        "leap-28", "leap-full", "feb-full", "2-days-rounding", "gone"])
def test_heiligenhaus_part_months(move_in, move_out, month, grund, neben):
    lines = month_lines([stay(move_in, move_out)], heiligenhaus(), *month)
    got = sums(lines)
    if grund is None:
        assert lines == []
        return
    assert got == {("A1", "grundgebuehr"): D(grund), ("A1", "nebenkosten"): D(neben)}


def test_twelve_days_is_the_research_example():
    lines = month_lines([stay(date(2025, 6, 19))], heiligenhaus(), 2025, 6)
    assert total(lines) == D("73.60")          # 12 × 184/30
    assert {ln.days for ln in lines} == {12}


@pytest.mark.parametrize(("legal", "provider", "billed"), [
    ("obg", "gemeinde", True),
    ("obg", "gewerblich", True),
    ("obg", "freier_traeger", False),     # a freier Träger's house is not under this Satzung
    ("sgb12_67", "gemeinde", False),      # not ordnungsrechtlich
    ("kaeltehilfe", "gewerblich", False),
], ids=["obg-gemeinde", "obg-gewerblich", "obg-traeger", "sgb12", "kaeltehilfe"])
def test_heiligenhaus_applies_by_legal_basis_and_provider(legal, provider, billed):
    lines = month_lines([stay(date(2025, 6, 1), legal=legal, provider=provider)], heiligenhaus(), 2025, 6)
    assert bool(lines) is billed


def test_children_pay_like_adults():
    family = [stay(date(2025, 6, 1), person=p, place=f"A{i}") for i, p in enumerate(["mother", "kid1", "kid2"])]
    lines = month_lines(family, heiligenhaus(), 2025, 6)
    assert len(lines) == 6 and total(lines) == D("552.00")


# --- transfers: the moving day counts once, for the place moved into ----------------------------------------
@pytest.mark.parametrize(("day", "month", "a", "b"), [
    (date(2025, 6, 16), (2025, 6), "54.00", "54.00"),     # 15 + 15 days of 30: monthly amount split
    (date(2025, 7, 16), (2025, 7), "52.26", "55.74"),     # 15 + 16 of 31 days: 108 × 15/31, rest 55,74
    (date(2025, 2, 15), (2025, 2), "54.00", "54.00"),     # 14 + 14 of 28 days
    (date(2024, 2, 15), (2024, 2), "52.14", "55.86"),     # leap year: 14 + 15 of 29
    (date(2025, 6, 2), (2025, 6), "3.60", "104.40"),      # one day in A, then B
], ids=["june", "july", "february", "leap-february", "day-one"])
def test_transfer_mid_month_splits_and_keeps_the_monthly_amount(day, month, a, b):
    stays = [stay(date(2024, 1, 1), day, place="A1"), stay(day, None, place="B7", shelter="Haus B")]
    got = sums(month_lines(stays, heiligenhaus(), *month))
    assert got[("A1", "grundgebuehr")] == D(a)
    assert got[("B7", "grundgebuehr")] == D(b)
    assert got[("A1", "grundgebuehr")] + got[("B7", "grundgebuehr")] == D("108.00")


def test_transfer_day_counts_for_the_new_place_in_a_part_month():
    # in on the 10th, moved on the 20th, out on the 25th: A 10th–19th (10 days), B 20th–25th (6 days)
    stays = [stay(date(2025, 6, 10), date(2025, 6, 20)), stay(date(2025, 6, 20), date(2025, 6, 25), place="B7")]
    lines = month_lines(stays, heiligenhaus(), 2025, 6)
    days = {(ln.place, ln.component): ln.days for ln in lines}
    assert days[("A1", "grundgebuehr")] == 10 and days[("B7", "grundgebuehr")] == 6
    assert sums(lines)[("A1", "grundgebuehr")] == D("36.00") and sums(lines)[("B7", "grundgebuehr")] == D("21.60")


def test_move_out_and_back_in_later_is_not_a_transfer():
    stays = [stay(date(2025, 6, 1), date(2025, 6, 10)), stay(date(2025, 6, 12), date(2025, 6, 14), place="B7")]
    days = {ln.place: ln.days for ln in month_lines(stays, heiligenhaus(), 2025, 6)}
    assert days == {"A1": 10, "B7": 3}


def test_other_persons_move_day_does_not_shorten_mine():
    stays = [stay(date(2025, 6, 1), date(2025, 6, 10), person="p1"), stay(date(2025, 6, 10), person="p2")]
    days = {ln.person: ln.days for ln in month_lines(stays, heiligenhaus(), 2025, 6)}
    assert days == {"p1": 10, "p2": 21}


# --- tariff change mid-month ------------------------------------------------------------------------------
def _changed(part_month="thirtieth") -> Catalogue:
    old = Tariff("alt", "alt", (Component("g", "Grundgebühr", D("108.00")),), date(2020, 1, 1), date(2025, 6, 15),
                 part_month=part_month)
    new = Tariff("neu", "neu", (Component("g", "Grundgebühr", D("120.00")),), date(2025, 6, 16),
                 part_month=part_month)
    return Catalogue([old, new])


@pytest.mark.parametrize(("move_in", "expected"), [
    (date(2025, 1, 1), {"alt": ("54.00", 15), "neu": ("60.00", 15)}),   # all month: each its share by days
    (date(2025, 6, 10), {"alt": ("21.60", 6), "neu": ("60.00", 15)}),   # part month: 1/30 per day of each tariff
    (date(2025, 6, 20), {"neu": ("44.00", 11)}),                        # after the change only the new one
], ids=["full-month", "part-month", "after"])
def test_tariff_change_mid_month_splits(move_in, expected):
    lines = month_lines([stay(move_in)], _changed(), 2025, 6)
    assert {ln.tariff: (str(ln.amount), ln.days) for ln in lines} == expected


@pytest.mark.parametrize(("move_in", "move_out", "legal", "affected"), [
    (date(2025, 1, 1), None, "obg", "neu"),                     # there before and after: notice with the new one
    (date(2025, 6, 15), None, "obg", "neu"),                    # moved in the day before the change
    (date(2025, 6, 16), None, "obg", None),                     # moves in on the day: the move-in notice covers it
    (date(2025, 1, 1), date(2025, 6, 16), "obg", None),         # moves out on the day: the move-out notice
    (date(2025, 1, 1), date(2025, 6, 17), "obg", "neu"),        # still there the night of the change
    (date(2025, 1, 1), date(2025, 6, 1), "obg", None),          # gone before
], ids=["through", "day-before", "move-in-day", "move-out-day", "leaves-next-day", "gone"])
def test_tariff_change_affects_who_is_there_before_and_after(move_in, move_out, legal, affected):
    found = tariff_changes([stay(move_in, move_out, legal=legal)], _changed(), date(2025, 6, 16))
    assert [t.code for _, t in found] == ([affected] if affected else [])


def test_no_tariff_change_on_an_ordinary_day_or_outside_the_scope():
    assert tariff_changes([stay(date(2025, 1, 1))], _changed(), date(2025, 6, 10)) == []
    # Heiligenhaus applies to obg only: a § 67 stay gets no notice when the tariff starts
    cat = heiligenhaus()
    start = cat.tariffs[0].valid_from
    assert tariff_changes([stay(date(2000, 1, 1), legal="sgb12_67")], cat, start) == []
    assert [t.code for _, t in tariff_changes([stay(date(2000, 1, 1))], cat, start)] == [cat.tariffs[0].code]


# --- the daily-rate example and other rules ---------------------------------------------------------------
@pytest.mark.parametrize(("move_in", "move_out", "grund", "strom"), [
    (date(2025, 6, 1), date(2025, 6, 11), "55.00", "20.00"),   # 10 nights × 5,50; Strom all 10 days × 1/30
    (date(2025, 6, 1), None, "165.00", "20.00"),               # 30 nights
    (date(2025, 6, 28), date(2025, 6, 29), "5.50", "0.67"),    # one night: 20 × 1/30 = 0,666 → 0,67
], ids=["10-nights", "june", "one-night"])
def test_daily_rate_example_counts_nights(move_in, move_out, grund, strom):
    got = sums(month_lines([stay(move_in, move_out, legal="sgb12_67")], daily(), 2025, 6))
    assert got[("A1", "grundgebuehr")] == D(grund)
    assert got[("A1", "strom")] == (D(strom) if move_out is None else D(strom) * 0 + _strom(move_in, move_out))


def _strom(move_in, move_out):
    from app.domain.money import quantize
    return quantize(D("20.00") * (move_out - move_in).days / 30)


@pytest.mark.parametrize(("basis", "kw", "amount"), [
    ("person", {}, "90.00"),
    ("place", {}, "90.00"),
    ("m2", {"area_m2": D("20.33")}, "1829.70"),       # 9 € × 20,33 m² × 10 days
    ("unit", {"units": D("2")}, "180.00"),
], ids=["person", "place", "m2", "unit"])
def test_bases(basis, kw, amount):
    cat = Catalogue([Tariff("t", "t", (Component("g", "g", D("9.00"), basis=basis, unit="day"),), date(2020, 1, 1),
                            counted_days="nights")])
    lines = month_lines([stay(date(2025, 6, 1), date(2025, 6, 11), **kw)], cat, 2025, 6)
    assert [str(ln.amount) for ln in lines] == [amount]


@pytest.mark.parametrize(("rule", "move_in", "amount"), [
    ("thirtieth", date(2025, 7, 17), "54.00"),        # 15 days × 1/30
    ("calendar_days", date(2025, 7, 17), "52.26"),    # 108 × 15/31
    ("calendar_days", date(2024, 2, 16), "52.14"),    # 108 × 14/29 in a leap year
    ("calendar_days", date(2025, 2, 15), "54.00"),    # 108 × 14/28
], ids=["thirtieth", "calendar-31", "calendar-leap", "calendar-feb"])
def test_part_month_rules(rule, move_in, amount):
    cat = Catalogue([Tariff("t", "t", (Component("g", "g", D("108.00")),), date(2020, 1, 1), part_month=rule)])
    lines = month_lines([stay(move_in)], cat, move_in.year, move_in.month)
    assert [str(ln.amount) for ln in lines] == [amount]


@pytest.mark.parametrize(("counting", "transfer", "move_in", "move_out", "window"), [
    ("move_in_and_out", False, date(2025, 6, 3), date(2025, 6, 9), (date(2025, 6, 3), date(2025, 6, 9))),
    ("nights", False, date(2025, 6, 3), date(2025, 6, 9), (date(2025, 6, 3), date(2025, 6, 8))),
    ("move_in_and_out", True, date(2025, 6, 3), date(2025, 6, 9), (date(2025, 6, 3), date(2025, 6, 8))),
    ("nights", False, date(2025, 6, 3), date(2025, 6, 3), None),          # no night at all
    ("move_in_and_out", False, date(2025, 5, 3), None, (date(2025, 6, 1), date(2025, 6, 30))),
    ("move_in_and_out", False, date(2025, 6, 3), date(2025, 7, 2), (date(2025, 6, 3), date(2025, 6, 30))),
], ids=["both-days", "nights", "transfer-out", "no-night", "open", "beyond-month"])
def test_counted_days(counting, transfer, move_in, move_out, window):
    assert counted_days(stay(move_in, move_out), counting, transfer, date(2025, 6, 1), date(2025, 6, 30)) == window


def test_rounding_is_once_per_line_half_up():
    # 3 × 0,335 = 1,005 → 1,01 (rounding the day rate first would give 3 × 0,34 = 1,02)
    cat = Catalogue([Tariff("t", "t", (Component("g", "g", D("0.335"), unit="day"),), date(2020, 1, 1))])
    lines = month_lines([stay(date(2025, 6, 1), date(2025, 6, 3))], cat, 2025, 6)
    assert [ln.amount for ln in lines] == [D("1.01")]


def test_calculation_text_for_the_letter():
    lines = month_lines([stay(date(2025, 6, 19))], heiligenhaus(), 2025, 6)
    assert lines[0].calculation == "108,00 € × 12/30 Tage"
    full = month_lines([stay(date(2025, 5, 1))], heiligenhaus(), 2025, 6)
    assert full[0].calculation == "voller Monat 108,00 €"


def test_two_equally_specific_tariffs_are_an_error():
    comp = (Component("g", "g", D("1")),)
    cat = Catalogue([Tariff("a", "a", comp, date(2020, 1, 1)), Tariff("b", "b", comp, date(2025, 1, 1))])
    with pytest.raises(FeeError, match="„b“ und „a“|„a“ und „b“"):
        month_lines([stay(date(2025, 6, 1))], cat, 2025, 6)


def test_the_more_specific_tariff_wins():
    general = Tariff("alle", "alle", (Component("g", "g", D("10")),), date(2020, 1, 1))
    house = Tariff("haus", "haus", (Component("g", "g", D("20")),), date(2020, 1, 1), shelters=frozenset({"Haus A"}))
    lines = month_lines([stay(date(2025, 6, 1))], Catalogue([general, house]), 2025, 6)
    assert [ln.tariff for ln in lines] == ["haus"]


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Liste „tariffs“ fehlt"),
    ({"tariffs": [{"code": "x", "label": "x", "valid_from": "2025-01-01"}]}, r"tariffs\[0\].components: fehlt"),
    ({"tariffs": [{"code": "x", "label": "x", "valid_from": "2025-01-01",
                   "components": [{"code": "g", "label": "g", "amount": 1.5}]}]}, "Anführungszeichen"),
    ({"tariffs": [{"code": "x", "label": "x", "valid_from": "2025-01-01",
                   "components": [{"code": "g", "label": "g", "amount": "1", "unit": "week"}]}]},
     r"components\[0\].unit: „week“ unbekannt"),
    ({"tariffs": [{"code": "x", "label": "x", "valid_from": "2025-01-01", "part_month": "31",
                   "components": [{"code": "g", "label": "g", "amount": "1"}]}]}, "part_month: „31“ unbekannt"),
    ({"tariffs": [{"code": "x", "label": "x", "valid_from": "2025-13-01",
                   "components": [{"code": "g", "label": "g", "amount": "1"}]}]}, "valid_from: „2025-13-01“ ist kein"),
    ({"tariffs": [{"code": "x", "label": "x", "valid_from": "2025-01-01", "colour": "red",
                   "components": [{"code": "g", "label": "g", "amount": "1"}]}]}, "unbekannter Schlüssel „colour“"),
    ({"tariffs": [{"code": "x", "label": "x", "valid_from": "2025-01-01",
                   "components": [{"code": "g", "label": "g", "amount": "-1"}]}]}, "nicht negativ"),
], ids=["no-list", "no-components", "float", "unit", "part-month", "date", "unknown-key", "negative"])
def test_bad_tariff_yaml_names_the_path(data, message):
    with pytest.raises(FeeError, match=message):
        catalogue_from_data(data, "fees.yaml")


@pytest.mark.parametrize(("text", "ok"), [("2025-06", (2025, 6)), ("2025-13", None), ("06/2025", None), ("", None)])
def test_parse_month(text, ok):
    if ok:
        assert parse_month(text) == ok
    else:
        with pytest.raises(FeeError, match="JJJJ-MM"):
            parse_month(text)


# --- split payer: parts per payer, the cent left over on the largest share ---------------------------------
@pytest.mark.parametrize(("amount", "shares", "expected"), [
    ("184.00", [("jc", "50"), ("p", "50")], {"jc": "92.00", "p": "92.00"}),
    ("100.00", [("a", "33.33"), ("b", "33.33"), ("c", "33.34")], {"a": "33.33", "b": "33.33", "c": "33.34"}),
    ("100.00", [("a", "33.34"), ("b", "33.33"), ("c", "33.33")], {"a": "33.34", "b": "33.33", "c": "33.33"}),
    ("0.01", [("a", "50"), ("b", "50")], {"a": "0.00", "b": "0.01"}),   # half-up gives 0.01 each: a (first largest) -1 ct
    ("43.20", [("jc", "70"), ("p", "30")], {"jc": "30.24", "p": "12.96"}),
    ("10.00", [("a", "33.33"), ("b", "66.67")], {"a": "3.33", "b": "6.67"}),
    ("0.05", [("a", "33.33"), ("b", "33.33"), ("c", "33.34")], {"a": "0.02", "b": "0.02", "c": "0.01"}),  # 0.0167… → 0.02 each: c (largest) -1 ct
    ("-92.00", [("jc", "75"), ("p", "25")], {"jc": "-69.00", "p": "-23.00"}),   # a reversal splits alike
    ("73.60", [("p", "100")], {"p": "73.60"}),
], ids=["half", "thirds", "thirds-first-largest", "one-cent", "70-30", "third-two-thirds", "tiny", "storno",
        "whole"])
def test_split_amount(amount, shares, expected):
    parts = split_amount(D(amount), [(k, D(p)) for k, p in shares])
    assert {k: str(v) for k, v in parts} == expected
    assert sum(v for _, v in parts) == D(amount)  # always exactly the line


@pytest.mark.parametrize("shares", [[("a", "50"), ("b", "40")], [("a", "60"), ("b", "50")], []])
def test_split_shares_must_make_100_percent(shares):
    with pytest.raises(FeeError):
        split_amount(D("10.00"), [(k, D(p)) for k, p in shares])
