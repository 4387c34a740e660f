"""Shelter fees (Leistungsabo): tariffs from the city's Satzung and the month's fee lines.

Plain dataclasses, no session and no "today": the service hands in the stays of a month and the tariff
catalogue, and gets one ``FeeLine`` per person, place, component and month segment back.

Rules (Heiligenhaus, Satzung über die Erhebung von Benutzungsgebühren für Obdachlosenunterkünfte, §§ 2–4;
research ``money-and-shelters.md`` §4):

1. A tariff has components (Grundgebühr, Nebenkosten, Heizung, …), each with an amount, a basis (per person,
   per place, per m², per unit) and a unit (per day or per month).
2. Which days count (``counted_days``): ``move_in_and_out`` – the move-in and the move-out day both count
   (Heiligenhaus: "Der Tag des Einzugs und der Tag des Auszugs werden voll berechnet"); ``nights`` – the
   nights from move-in up to the night before move-out (the occupancy rule "accommodated on day D").
3. A day of moving from one place to another counts once, for the place moved into: a stay that ends on the
   day the same person's next stay starts does not count that day.
4. Monthly amounts in a part month (``part_month``): ``thirtieth`` – 1/30 of the monthly amount per day;
   ``calendar_days`` – the monthly amount × days / days of the month (Wesel).
5. A person counted on every day of the month pays the monthly amount: its lines then share the monthly amount
   by calendar days, and the last line of a component takes the cent that rounding left over.
6. A tariff change or a transfer mid-month splits the period; every line is rounded half up once.
7. A tariff applies to an occupancy by legal basis, provider type and shelter (an empty list: all), on the
   days of its validity; of several, the most specific one wins (shelter before provider type before legal
   basis); two equally specific tariffs on one day are an error in the catalogue.
"""
from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from .money import quantize, to_decimal

BASES = {"person": "je Person", "place": "je Platz", "m2": "je m²", "unit": "je Einheit"}
UNITS = {"day": "je Tag", "month": "je Monat"}
PART_MONTH_RULES = {"thirtieth": "1/30 je Tag", "calendar_days": "nach Kalendertagen"}
COUNTED_DAYS = {
    "move_in_and_out": "Einzugs- und Auszugstag zählen",
    "nights": "Nächte (Auszugstag zählt nicht)",
}
THIRTY = Decimal(30)


class FeeError(ValueError):
    """A tariff or stay that cannot be billed; the message is German and names the field."""


@dataclass(frozen=True)
class Component:
    code: str
    label: str
    amount: Decimal
    basis: str = "person"
    unit: str = "month"
    sachkonto: str = ""


@dataclass(frozen=True)
class Tariff:
    code: str
    label: str
    components: tuple[Component, ...]
    valid_from: date
    valid_to: date | None = None
    part_month: str = "thirtieth"
    counted_days: str = "move_in_and_out"
    legal_bases: frozenset[str] = frozenset()
    provider_types: frozenset[str] = frozenset()
    shelters: frozenset[str] = frozenset()
    satzung: str = ""
    produkt: str = ""
    kostenstelle: str = ""

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def applies_to(self, stay: Stay) -> bool:
        return ((not self.legal_bases or stay.legal_basis in self.legal_bases)
                and (not self.provider_types or stay.provider_type in self.provider_types)
                and (not self.shelters or stay.shelter in self.shelters))

    def specificity(self) -> tuple[int, int, int]:
        return (bool(self.shelters), bool(self.provider_types), bool(self.legal_bases))


@dataclass(frozen=True)
class Stay:
    """One occupancy as the fee rules see it; ``move_out`` None: still there."""
    occupancy: object
    person: object
    place: object
    shelter: str
    move_in: date
    move_out: date | None = None
    legal_basis: str = ""
    provider_type: str = ""
    area_m2: Decimal = Decimal(0)
    units: Decimal = Decimal(1)


@dataclass(frozen=True)
class FeeLine:
    """One person, place, component and (part of a) month: ``days`` counted days, ``amount`` rounded once."""
    occupancy: object
    person: object
    place: object
    shelter: str
    tariff: str
    component: str
    label: str
    first_day: date
    last_day: date
    days: int
    amount: Decimal
    calculation: str
    sachkonto: str = ""
    produkt: str = ""
    kostenstelle: str = ""

    @property
    def month(self) -> str:
        return f"{self.first_day:%Y-%m}"


@dataclass
class Catalogue:
    """The city's tariffs; ``tariff_for`` picks the one that applies to a stay on a day."""
    tariffs: list[Tariff] = field(default_factory=list)

    def tariff_for(self, stay: Stay, day: date) -> Tariff | None:
        found = [t for t in self.tariffs if t.valid_on(day) and t.applies_to(stay)]
        if not found:
            return None
        found.sort(key=Tariff.specificity, reverse=True)
        if len(found) > 1 and found[0].specificity() == found[1].specificity():
            raise FeeError(
                f"Tarife „{found[0].code}“ und „{found[1].code}“ gelten beide am {day:%d.%m.%Y} für "
                f"dieselbe Belegung; bitte Gültigkeit oder Geltungsbereich abgrenzen.")
        return found[0]


def tariff_changes(stays: Iterable[Stay], catalogue: Catalogue, day: date) -> list[tuple[Stay, Tariff]]:
    """Stays whose tariff changes on ``day``: the person was there the night before and is still there on
    ``day`` (moved in before ``day``, not moved out by then), and the tariff that applies on ``day`` is
    another than the day before's (a new tariff version, or a tariff that starts or stops applying — then
    the new one is given; a stay that stops being billed gets no notice). Returns ``(stay, new tariff)``."""
    before = day - timedelta(days=1)
    out = []
    for stay in stays:
        if not (stay.move_in <= before and (stay.move_out is None or stay.move_out > day)):
            continue
        new, old = catalogue.tariff_for(stay, day), catalogue.tariff_for(stay, before)
        if new is not None and (old is None or old.code != new.code):
            out.append((stay, new))
    return out


def split_amount(amount: Decimal, shares: list[tuple[object, Decimal]]) -> list[tuple[object, Decimal]]:
    """A line's amount (already rounded to the cent) split among payers by their per-cent shares
    (``[(payer, percent)]``, together exactly 100): each part rounded half up to the cent, the cent left over
    (or taken too many) goes to the largest share (the first of equal ones), so the parts add up exactly."""
    if not shares:
        raise FeeError("Kostenaufteilung ohne Anteile.")
    total_percent = sum((Decimal(p) for _, p in shares), Decimal(0))
    if total_percent != 100:
        raise FeeError(f"Die Kostenanteile ergeben {total_percent.normalize():f} %, nicht 100 %.")
    parts = [(payer, quantize(amount * Decimal(p) / 100)) for payer, p in shares]
    rest = amount - sum((part for _, part in parts), Decimal("0.00"))
    if rest:
        biggest = max(range(len(shares)), key=lambda i: (Decimal(shares[i][1]), -i))
        payer, part = parts[biggest]
        parts[biggest] = (payer, part + rest)
    return parts


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, _calendar.monthrange(year, month)[1])


def parse_month(text: str) -> tuple[int, int]:
    """"2025-06" → (2025, 6); a German message otherwise."""
    try:
        year_text, month_text = str(text).strip().split("-")
        year, month = int(year_text), int(month_text)
        if len(year_text) != 4 or not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise FeeError(f"Monat „{text}“ ist ungültig (JJJJ-MM, z. B. 2025-06).") from None
    return year, month


def counted_days(stay: Stay, counting: str, transfer_out: bool, first: date, last: date) -> tuple[date, date] | None:
    """The stay's counted days within [first, last], as (from, to) inclusive; None if there are none.

    ``transfer_out``: the same person's next stay starts on this stay's move-out day (rule 3).
    """
    if counting not in COUNTED_DAYS:
        raise FeeError(f"Zähltage „{counting}“ unbekannt (erlaubt: {', '.join(COUNTED_DAYS)}).")
    end = stay.move_out
    if end is not None and (counting == "nights" or transfer_out):
        end = end - timedelta(days=1)
    start = max(stay.move_in, first)
    stop = last if end is None else min(end, last)
    if stop < start:
        return None
    return start, stop


def _factor(component: Component, stay: Stay) -> Decimal:
    if component.basis in ("person", "place"):
        return Decimal(1)
    if component.basis == "m2":
        return to_decimal(stay.area_m2)
    if component.basis == "unit":
        return to_decimal(stay.units)
    raise FeeError(f"Bemessung „{component.basis}“ unbekannt (erlaubt: {', '.join(BASES)}).")


def _segments(stay: Stay, catalogue: Catalogue, start: date, stop: date) -> list[tuple[Tariff, date, date]]:
    """Split [start, stop] where the applicable tariff changes (rule 6); days without a tariff are skipped.

    The tariff can only change where a validity starts or ends, so only those days are looked at.
    """
    cuts = {start}
    for t in catalogue.tariffs:
        if start < t.valid_from <= stop:
            cuts.add(t.valid_from)
        if t.valid_to is not None and start <= t.valid_to < stop:
            cuts.add(t.valid_to + timedelta(days=1))
    days = sorted(cuts)
    out: list[tuple[Tariff, date, date]] = []
    for i, day in enumerate(days):
        end = days[i + 1] - timedelta(days=1) if i + 1 < len(days) else stop
        tariff = catalogue.tariff_for(stay, day)
        if tariff is None:
            continue
        if out and out[-1][0] is tariff and out[-1][2] + timedelta(days=1) == day:
            out[-1] = (tariff, out[-1][1], end)
        else:
            out.append((tariff, day, end))
    return out


def _money_text(value: Decimal) -> str:
    text = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"{text} €"


def _qty_text(value: Decimal) -> str:
    value = to_decimal(value).normalize()
    return f"{value:f}".replace(".", ",")


def month_lines(stays: Iterable[Stay], catalogue: Catalogue, year: int, month: int) -> list[FeeLine]:
    """The fee lines of one month for the given stays (all stays of each person that touch the month).

    The stays of a person must not overlap (the occupancy rules forbid it); a stay's move-out day that is
    the move-in day of the same person's next stay counts for the next one.
    """
    first, last = month_bounds(year, month)
    days_in_month = last.day
    by_person: dict[object, list[Stay]] = defaultdict(list)
    for stay in stays:
        by_person[stay.person].append(stay)

    lines: list[FeeLine] = []
    for person, own in by_person.items():
        own.sort(key=lambda s: (s.move_in, s.move_out or date.max))
        starts = {s.move_in for s in own}
        pieces: list[tuple[Stay, Tariff, date, date]] = []
        covered: set[date] = set()
        for stay in own:
            transfer_out = stay.move_out is not None and stay.move_out in starts and stay.move_out != stay.move_in
            window = counted_days(stay, "move_in_and_out", transfer_out, first, last)
            if window is None:
                continue
            for tariff, seg_from, seg_to in _segments(stay, catalogue, *window):
                if tariff.counted_days == "nights" and stay.move_out is not None and seg_to >= stay.move_out:
                    seg_to = stay.move_out - timedelta(days=1)
                if seg_to < seg_from:
                    continue
                pieces.append((stay, tariff, seg_from, seg_to))
                day = seg_from
                while day <= seg_to:
                    covered.add(day)
                    day += timedelta(days=1)
        full_month = len(covered) == days_in_month
        per_component: dict[tuple[str, str], list[FeeLine]] = defaultdict(list)
        own_lines: list[FeeLine] = []
        for stay, tariff, seg_from, seg_to in pieces:
            days = (seg_to - seg_from).days + 1
            for comp in tariff.components:
                amount, calc = _amount(comp, stay, tariff, days, days_in_month, full_month)
                line = FeeLine(
                    occupancy=stay.occupancy, person=person, place=stay.place, shelter=stay.shelter,
                    tariff=tariff.code, component=comp.code, label=comp.label, first_day=seg_from,
                    last_day=seg_to, days=days, amount=amount, calculation=calc, sachkonto=comp.sachkonto,
                    produkt=tariff.produkt, kostenstelle=tariff.kostenstelle)
                own_lines.append(line)
                per_component[(comp.code, comp.unit)].append(line)
        if full_month:
            _settle_full_month(own_lines, per_component, pieces)
        lines.extend(own_lines)
    return lines


def _amount(comp: Component, stay: Stay, tariff: Tariff, days: int, days_in_month: int,
            full_month: bool) -> tuple[Decimal, str]:
    factor = _factor(comp, stay)
    rate = to_decimal(comp.amount)
    qty = "" if comp.basis in ("person", "place") else f" × {_qty_text(factor)} {'m²' if comp.basis == 'm2' else 'Einheiten'}"
    if comp.unit == "day":
        return quantize(rate * factor * days), f"{days} Tage × {_money_text(rate)}{qty}"
    if comp.unit != "month":
        raise FeeError(f"Einheit „{comp.unit}“ unbekannt (erlaubt: {', '.join(UNITS)}).")
    if full_month and days == days_in_month:
        return quantize(rate * factor), f"voller Monat {_money_text(rate)}{qty}"
    if full_month:
        return (quantize(rate * factor * days / days_in_month),
                f"{_money_text(rate)}{qty} × {days}/{days_in_month} Tage (voller Monat, geteilt)")
    if tariff.part_month == "thirtieth":
        return quantize(rate * factor * min(days, 30) / THIRTY), f"{_money_text(rate)}{qty} × {days}/30 Tage"
    if tariff.part_month == "calendar_days":
        return (quantize(rate * factor * days / days_in_month),
                f"{_money_text(rate)}{qty} × {days}/{days_in_month} Tage")
    raise FeeError(f"Teilmonatsregel „{tariff.part_month}“ unbekannt (erlaubt: {', '.join(PART_MONTH_RULES)}).")


def _settle_full_month(lines: list[FeeLine], per_component: Mapping, pieces) -> None:
    """Rule 5: the split lines of a person present all month add up to the monthly amount exactly.

    Only where every line of the component has the same monthly amount per person or place; after a tariff
    change, or for m² and unit shares, each line keeps its own share.
    """
    components = {(t.code, c.code): c for _, t, _, _ in pieces for c in t.components}
    for (code, unit), group in per_component.items():
        if unit != "month" or len(group) < 2:
            continue
        comps = [components[(ln.tariff, ln.component)] for ln in group]
        if len({c.amount for c in comps}) != 1 or any(c.basis not in ("person", "place") for c in comps):
            continue
        rest = quantize(comps[0].amount) - sum((ln.amount for ln in group[:-1]), Decimal(0))
        index = next(i for i, ln in enumerate(lines) if ln is group[-1])
        lines[index] = replace(group[-1], amount=rest)


def total(lines: Iterable[FeeLine]) -> Decimal:
    return sum((ln.amount for ln in lines), Decimal("0.00"))


_TARIFF_KEYS = {"code", "label", "components", "valid_from", "valid_to", "part_month", "counted_days",
                "applies_to", "satzung", "produkt", "kostenstelle"}
_COMPONENT_KEYS = {"code", "label", "amount", "basis", "unit", "sachkonto"}
_APPLIES_KEYS = {"legal_basis", "provider_type", "shelter"}


def _date(value, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise FeeError(f"{where}: „{value}“ ist kein Datum (JJJJ-MM-TT).") from None


def _choice(value, allowed: Mapping, where: str) -> str:
    if value not in allowed:
        raise FeeError(f"{where}: „{value}“ unbekannt (erlaubt: {', '.join(allowed)}).")
    return value


def _amount_of(value, where: str) -> Decimal:
    if isinstance(value, float):
        raise FeeError(f"{where}: Betrag bitte in Anführungszeichen schreiben (\"108.00\"), nie als Kommazahl.")
    try:
        amount = to_decimal(str(value) if isinstance(value, int) else value)
    except (TypeError, ValueError):
        raise FeeError(f"{where}: „{value}“ ist kein Betrag (z. B. \"108.00\").") from None
    if amount < 0:
        raise FeeError(f"{where}: Betrag darf nicht negativ sein.")
    return amount


def _names(value, where: str) -> frozenset[str]:
    if value in (None, ""):
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise FeeError(f"{where}: Liste erwartet.")
    return frozenset(str(v) for v in value)


def tariff_from_data(data: Mapping, where: str = "tariffs[0]") -> Tariff:
    """One tariff from its YAML mapping; every problem is a FeeError naming the YAML path."""
    if not isinstance(data, Mapping):
        raise FeeError(f"{where}: Tarif als Zuordnung (code, label, components, …) erwartet.")
    unknown = set(data) - _TARIFF_KEYS
    if unknown:
        raise FeeError(f"{where}: unbekannter Schlüssel „{sorted(unknown)[0]}“.")
    for key in ("code", "label", "components", "valid_from"):
        if not data.get(key):
            raise FeeError(f"{where}.{key}: fehlt.")
    comps = data["components"]
    if not isinstance(comps, list):
        raise FeeError(f"{where}.components: Liste erwartet.")
    components = []
    for i, comp in enumerate(comps):
        here = f"{where}.components[{i}]"
        if not isinstance(comp, Mapping):
            raise FeeError(f"{here}: Bestandteil als Zuordnung erwartet.")
        unknown = set(comp) - _COMPONENT_KEYS
        if unknown:
            raise FeeError(f"{here}: unbekannter Schlüssel „{sorted(unknown)[0]}“.")
        for key in ("code", "label", "amount"):
            if comp.get(key) in (None, ""):
                raise FeeError(f"{here}.{key}: fehlt.")
        components.append(Component(
            code=str(comp["code"]), label=str(comp["label"]), amount=_amount_of(comp["amount"], f"{here}.amount"),
            basis=_choice(comp.get("basis", "person"), BASES, f"{here}.basis"),
            unit=_choice(comp.get("unit", "month"), UNITS, f"{here}.unit"),
            sachkonto=str(comp.get("sachkonto") or "")))
    codes = [c.code for c in components]
    if len(set(codes)) != len(codes):
        raise FeeError(f"{where}.components: ein Kürzel kommt doppelt vor.")
    applies = data.get("applies_to") or {}
    if not isinstance(applies, Mapping) or set(applies) - _APPLIES_KEYS:
        raise FeeError(f"{where}.applies_to: nur legal_basis, provider_type, shelter erlaubt.")
    valid_from = _date(data["valid_from"], f"{where}.valid_from")
    valid_to = _date(data.get("valid_to"), f"{where}.valid_to")
    if valid_to is not None and valid_to < valid_from:
        raise FeeError(f"{where}.valid_to: liegt vor valid_from.")
    return Tariff(
        code=str(data["code"]), label=str(data["label"]), components=tuple(components),
        valid_from=valid_from, valid_to=valid_to,
        part_month=_choice(data.get("part_month", "thirtieth"), PART_MONTH_RULES, f"{where}.part_month"),
        counted_days=_choice(data.get("counted_days", "move_in_and_out"), COUNTED_DAYS, f"{where}.counted_days"),
        legal_bases=_names(applies.get("legal_basis"), f"{where}.applies_to.legal_basis"),
        provider_types=_names(applies.get("provider_type"), f"{where}.applies_to.provider_type"),
        shelters=_names(applies.get("shelter"), f"{where}.applies_to.shelter"),
        satzung=str(data.get("satzung") or ""), produkt=str(data.get("produkt") or ""),
        kostenstelle=str(data.get("kostenstelle") or ""))


def catalogue_from_data(data, source: str = "fees.yaml") -> Catalogue:
    """The tariff catalogue from a YAML document ``{tariffs: [...]}``; codes must be unique."""
    if not isinstance(data, Mapping) or not isinstance(data.get("tariffs"), list):
        raise FeeError(f"{source}: Liste „tariffs“ fehlt.")
    tariffs = [tariff_from_data(item, f"{source}: tariffs[{i}]") for i, item in enumerate(data["tariffs"])]
    seen: set[str] = set()
    for i, tariff in enumerate(tariffs):
        if tariff.code in seen:
            raise FeeError(f"{source}: tariffs[{i}].code: „{tariff.code}“ kommt doppelt vor.")
        seen.add(tariff.code)
    return Catalogue(tariffs)
