"""Occupancy rules of accommodation (#12): who is accommodated on which night, overlaps, utilisation.

The one rule: a person is *accommodated on day D* when ``move_in <= D`` and (no move-out or ``move_out > D``);
it stands for the night D → D+1. The move-out day itself is no longer a night in the shelter. Every count,
list and statistic uses this rule — here as ``accommodated_on`` for Python and as ``accommodated_on_sql``
(built by the services from the same bounds) for queries. An occupancy is the half-open date range
``[move_in, move_out)``; an open move-out is +infinity.

Pure functions: no Flask, no SQLAlchemy, no "today" (it comes in as an argument).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal


def accommodated_on(move_in: date, move_out: date | None, day: date) -> bool:
    """True when the occupancy covers the night ``day`` → ``day + 1`` (move-in ≤ D and (no move-out or move-out > D))."""
    return move_in <= day and (move_out is None or move_out > day)


def overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Two half-open night ranges ``[from, to)`` (``to`` None = open) share at least one night.

    Back-to-back ranges (one moves out on the day the next moves in) do not overlap."""
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def valid_period(move_in: date, move_out: date | None) -> bool:
    """A move-out before the move-in is an error; move-out on the move-in day is an occupancy of no night."""
    return move_out is None or move_out >= move_in


def nights_in(move_in: date, move_out: date | None, period_from: date, period_to: date) -> int:
    """Nights the occupancy covers within the period ``period_from`` … ``period_to`` (both days included as
    nights: the report "01.06.–30.06." counts the nights of 1 June up to the night of 30 June)."""
    start = max(move_in, period_from)
    end = period_to + timedelta(days=1) if move_out is None else min(move_out, period_to + timedelta(days=1))
    return max(0, (end - start).days)


def period_nights(period_from: date, period_to: date) -> int:
    """Nights of a report period, both days included (June: 30)."""
    return max(0, (period_to - period_from).days + 1)


def utilisation_percent(occupied_nights: int, capacity_nights: int) -> Decimal:
    """Occupied person-nights ÷ capacity nights in per cent, one decimal, half-up; 0 without capacity."""
    if capacity_nights <= 0:
        return Decimal("0.0")
    return (Decimal(occupied_nights) * 100 / Decimal(capacity_nights)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Stay:
    """One occupancy as the rules see it (ids only, no ORM)."""
    id: int | None
    place_id: int
    person_id: int
    move_in: date
    move_out: date | None


def conflicts(new: Stay, existing: Iterable[Stay]) -> list[tuple[str, Stay]]:
    """Existing stays that make ``new`` impossible: the same place (overbooking) or the same person
    (accommodated twice a night), on at least one common night. Returns ``(reason, stay)`` with reason
    ``"place"`` or ``"person"``."""
    found = []
    for other in existing:
        if new.id is not None and other.id == new.id:
            continue
        if not overlaps(new.move_in, new.move_out, other.move_in, other.move_out):
            continue
        if other.place_id == new.place_id:
            found.append(("place", other))
        elif other.person_id == new.person_id:
            found.append(("person", other))
    return found


def reservation_holds(reserved_from: date, reserved_to: date | None, expires_on: date, state: str | None,
                      day: date, today: date) -> bool:
    """An active reservation not yet expired (``expires_on`` ≥ today) holds the place on the night ``day``."""
    return state == "aktiv" and expires_on >= today and accommodated_on(reserved_from, reserved_to, day)


def reservation_state(state: str | None, expires_on: date, today: date) -> str | None:
    """The state a reservation has on ``today``: an active one whose ``expires_on`` has passed is
    ``abgelaufen`` (it no longer holds the place); every other state stays as it is."""
    if state == "aktiv" and expires_on < today:
        return "abgelaufen"
    return state


SHELTER_TYPES = ("notunterkunft", "notschlafstelle", "gemeinschaftsunterkunft", "wohnung", "hotel",
                 "betreutes_wohnen", "stationaer")
PROVIDER_TYPES = ("gemeinde", "freier_traeger", "gewerblich", "ueberoertlicher_traeger", "sonstige")
LEGAL_BASES = ("obg", "sgb12_67", "kaeltehilfe", "asylblg", "sonstige")
HOUSEHOLD_ROLES = ("bezugsperson", "partner", "kind", "sonstige")

# Import codes of the sex column → codes of the ``sex`` catalogue. "x" is "ohne Angabe" (§ 22 Abs. 3 PStG,
# the catalogue's ``unknown``); an empty value is "unbekannt" and stays empty.
SEX_CODES = {"m": "male", "w": "female", "d": "diverse", "x": "unknown"}


def ags_problem(value: str | None) -> str | None:
    """German message when ``value`` is no Amtlicher Gemeindeschlüssel (8 digits, Land 01–16); None when fine."""
    if value is None or value == "":
        return None
    if len(value) != 8 or not value.isdigit():
        return "Der Gemeindeschlüssel hat genau 8 Ziffern (z. B. 05158016)."
    if not 1 <= int(value[:2]) <= 16:
        return "Der Gemeindeschlüssel beginnt mit dem Landesschlüssel 01 bis 16."
    return None


def nationality_problem(value: str | None) -> str | None:
    """German message when ``value`` is no ISO 3166 alpha-2 code, "staatenlos" or "ungeklärt"."""
    if value is None or value == "":
        return None
    if value in ("staatenlos", "ungeklärt"):
        return None
    if len(value) == 2 and value.isascii() and value.isalpha() and value.isupper():
        return None
    return "Staatsangehörigkeit: ISO-Code mit zwei Großbuchstaben (z. B. DE), „staatenlos“ oder „ungeklärt“."
