"""The start-page dashboard (#14 §5): tiles of figures per district and in total, from a small registry.

A module adds a tile with one call, at import or app start::

    from app.services.dashboard import Tile, TileFigures, register_tile

    def occupancy_tonight(session, actor, today) -> TileFigures:
        per_unit = {...}                      # district name -> number, only units the actor may see
        return TileFigures(per_unit, total=sum(per_unit.values()), kind="int")

    register_tile(Tile("occupancy_tonight", "Belegung heute Nacht", occupancy_tonight,
                       permission=("can_list", "entity_occupancy"), order=40, link="/occupancy/list/"))

The start page shows a tile only when it is registered and the profile has ``permission`` (a FAB permission
pair: the list or report the figures come from); the provider must count through ``scope_query`` with the
actor it is given, so a district's staff see their district and a total over it. Tiles of modules not
installed simply do not exist. ``kind``: ``int`` (counts), ``percent`` (a Decimal 0–100), ``money``
(Decimal euros). Built in: open cases, notices this month, QS 1.1–1.4 this quarter.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from ..actor import Actor
from ..core_models import OrgUnit
from ..metamodel.build_models import built_registry
from ..scoping import scope_query


@dataclass(frozen=True)
class TileFigures:
    """A tile's numbers: per district (name -> value; None: not computable) and the total over them."""

    per_unit: dict[str, object]
    total: object
    kind: str = "int"  # int, percent, money
    note: str | None = None  # e.g. "Zähler/Nenner" or the period
    series: dict[str, dict[str, object]] = field(default_factory=dict)  # several figures per district (QS)


@dataclass(frozen=True)
class Tile:
    key: str
    title: str
    provider: Callable[..., TileFigures]  # (session, actor, today) -> TileFigures
    permission: tuple[str, str] | None = None  # (action, view) the profile needs to see the tile
    order: int = 100
    link: str | None = None  # where the figures come from (a list or report)
    chart: str = "bar"


_TILES: dict[str, Tile] = {}


def register_tile(tile: Tile) -> Tile:
    """Add (or replace, by key) a tile; modules call this once."""
    _TILES[tile.key] = tile
    return tile


def unregister_tile(key: str) -> None:
    _TILES.pop(key, None)


def registered_tiles() -> list[Tile]:
    return sorted(_TILES.values(), key=lambda t: (t.order, t.key))


def _units(session, actor: Actor) -> dict[int, str]:
    query = select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name)
    ids = actor.visible_units
    if ids is not None:
        query = query.where(OrgUnit.id.in_(ids or [-1]))
    return dict(session.execute(query).all())


def count_per_unit(session, actor: Actor, model, *conditions) -> TileFigures:
    """Rows of ``model`` matching ``conditions`` per org unit the actor sees, and the total (a helper for tiles)."""
    units = _units(session, actor)
    query = select(model.org_unit_id, func.count()).where(*conditions).group_by(model.org_unit_id)
    counts = dict(session.execute(scope_query(query, model, shared=False, actor=actor)).all())
    per_unit = {name: int(counts.get(unit_id, 0)) for unit_id, name in units.items()}
    return TileFigures(per_unit, sum(per_unit.values()))


# --- the built-in tiles -----------------------------------------------------------------------------------
def open_cases(session, actor: Actor, today: date) -> TileFigures:
    case = built_registry().model("case")
    return count_per_unit(session, actor, case, case.closed_on.is_(None))


def notices_this_month(session, actor: Actor, today: date) -> TileFigures:
    """Notices of eviction lawsuits and forced evictions received this month (Mitteilungen in Zivilsachen)."""
    registry = built_registry()
    first = today.replace(day=1)
    per_unit: dict[str, int] = {}
    for name in ("eviction_lawsuit", "forced_eviction"):
        if name not in registry.entities:
            continue
        model = registry.model(name)
        figures = count_per_unit(session, actor, model, model.received_on >= first, model.received_on <= today)
        for unit, value in figures.per_unit.items():
            per_unit[unit] = per_unit.get(unit, 0) + value
    return TileFigures(per_unit, sum(per_unit.values()), note=f"seit {first:%d.%m.%Y}")


QS_CODES = ("1.1", "1.2", "1.3", "1.4")


def quality_this_quarter(session, actor: Actor, today: date) -> TileFigures:
    """QS 1.1–1.4 of the current quarter (the indicators service), per district and in total, in percent."""
    from ..domain.periods import quarter_period
    from .indicators import indicator_report
    quarter = (today.month - 1) // 3 + 1
    period = quarter_period(today.year, quarter)
    report = indicator_report(session, period.start, min(period.end, today), today, actor=actor).report
    series = {code: {unit: results[code].percent for unit, results in report.org_units.items()}
              for code in QS_CODES}
    totals = {code: report.total[code].percent for code in QS_CODES}
    return TileFigures(per_unit={}, total=totals, kind="percent", note=f"{quarter}. Quartal {today.year}",
                       series=series)


def occupancy_tonight(session, actor: Actor, today: date) -> TileFigures:
    """Persons accommodated tonight (move-in ≤ today, no move-out or a later one), per district (#12's rule)."""
    from .occupancy import accommodated_on_sql
    occupancy = built_registry().model("occupancy")
    figures = count_per_unit(session, actor, occupancy, accommodated_on_sql(occupancy, today, by_move_out=True))
    return TileFigures(figures.per_unit, figures.total, note="Personen")


def utilisation_this_month(session, actor: Actor, today: date) -> TileFigures:
    """Utilisation of the shelters from the 1st of the month to last night, per district and total (#12's
    ``accommodation.utilisation``: occupied person-nights ÷ capacity nights)."""
    from ..domain.occupancy import utilisation_percent
    from .accommodation import utilisation, visible_shelters
    first = today.replace(day=1)
    end = max(first, today - timedelta(days=1))
    rows = utilisation(session, actor, first, end)
    unit_of = {s.id: s.org_unit_id for s in visible_shelters(session, actor)}
    units = _units(session, actor)
    sums: dict[str, list[int]] = {}
    for row in rows:
        name = units.get(unit_of.get(row.shelter_id), "ohne Dienststelle")
        into = sums.setdefault(name, [0, 0])
        into[0] += row.occupied_nights
        into[1] += row.capacity_nights
    per_unit = {name: utilisation_percent(*values) for name, values in sums.items()}
    total = utilisation_percent(sum(v[0] for v in sums.values()), sum(v[1] for v in sums.values())) if sums else None
    return TileFigures(per_unit, total, kind="percent", note=f"{first:%d.%m.} – {end:%d.%m.%Y}")


def loans_in_arrears(session, actor: Actor, today: date) -> TileFigures:
    """Running loans with instalments in arrears today, per district (#13's figures, the loans report's rule)."""
    from ..domain import loans as rules
    from .loan_reports import loan_lines
    units = _units(session, actor)
    per_unit = {name: 0 for name in units.values()}
    for line in loan_lines(session, actor, today):
        if line.figures.status == rules.LAUFEND and line.figures.arrears and line.figures.arrears > 0:
            name = units.get(line.org_unit_id, "ohne Dienststelle")
            per_unit[name] = per_unit.get(name, 0) + 1
    return TileFigures(per_unit, sum(per_unit.values()), note=f"Stand {today:%d.%m.%Y}")


register_tile(Tile("open_cases", "Offene Fälle", open_cases, permission=("can_list", "entity_case"), order=10,
                   link="/case/list/"))
register_tile(Tile("notices_month", "Mitteilungen diesen Monat", notices_this_month,
                   permission=("can_list", "entity_eviction_lawsuit"), order=20, link="/eviction-lawsuit/list/"))
# Accommodation (#12): shown where the installation has it and the profile may read occupancies.
register_tile(Tile("occupancy_tonight", "Belegung heute Nacht", occupancy_tonight,
                   permission=("can_list", "entity_occupancy"), order=40, link="/accommodation/board"))
register_tile(Tile("utilisation_month", "Auslastung im Monat", utilisation_this_month,
                   permission=("can_list", "entity_occupancy"), order=50))
# Loans (#13): for profiles that may read the loans.
register_tile(Tile("loans_in_arrears", "Darlehen mit Rückstand", loans_in_arrears,
                   permission=("can_list", "entity_loan"), order=60, link="/darlehen/bericht"))
register_tile(Tile("quality_quarter", "Kennzahlen QS 1.1–1.4 im Quartal", quality_this_quarter,
                   permission=("can_show", "IndicatorReport"), order=30, link="/indicators/"))
