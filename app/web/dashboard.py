"""The start page's dashboard (#14 §5): the registered tiles (``app.services.dashboard``) this profile may see.

Each tile is computed with the signed-in user's actor (their districts), kept for two minutes per districts
and day (any change in this process empties the cache), and shown as a small chart with the same numbers
as a table (screen readers do not read a canvas). A tile whose provider fails shows "nicht verfügbar" and
the start page still works.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import current_app

from ..domain.money import format_decimal
from ..extensions import db
from ..services.dashboard import QS_CODES, Tile, TileFigures, registered_tiles
from .actor import current_actor
from .render_cache import FlushInvalidatedCache

log = logging.getLogger(__name__)
tile_cache = FlushInvalidatedCache("dashboard_tiles", None, 120.0, max_entries=500)


def shown(value, kind: str) -> str:
    """German display: 1.234 / 87,5 % / 1.234,56 €; "–" for none."""
    if value is None:
        return "–"
    if kind == "percent":
        return f"{format_decimal(value, 1)} %"
    if kind == "money":
        return f"{format_decimal(value, 2)} €"
    return f"{int(value):,}".replace(",", ".")


@dataclass
class ShownTile:
    tile: Tile
    figures: TileFigures | None
    columns: list[str]  # figure columns of the table ("Anzahl" or QS 1.1 …)
    rows: list[tuple[str, list[str]]]  # district, shown values
    total: list[str]
    chart: str  # JSON for fs-charts.js
    headline: str


def _number(value):
    return None if value is None else float(value)


def _present(tile: Tile, figures: TileFigures) -> ShownTile:
    if figures.series:  # several figures per district (QS 1.1–1.4)
        codes = list(figures.series)
        units = sorted({u for per in figures.series.values() for u in per})
        rows = [(unit, [shown(figures.series[c].get(unit), figures.kind) for c in codes]) for unit in units]
        total = [shown(figures.total.get(c), figures.kind) for c in codes]
        chart = {"type": "bar", "labels": [f"QS {c}" for c in codes],
                 "datasets": [{"label": unit, "data": [_number(figures.series[c].get(unit)) for c in codes]}
                              for unit in units] + ([{"label": "Gesamt", "data": [_number(figures.total.get(c))
                                                                                  for c in codes]}]
                                                    if len(units) > 1 else [])}
        return ShownTile(tile, figures, [f"QS {c}" for c in codes], rows, total, json.dumps(chart),
                         " · ".join(f"{c}: {shown(figures.total.get(c), figures.kind)}" for c in codes))
    units = list(figures.per_unit)
    rows = [(unit, [shown(figures.per_unit[unit], figures.kind)]) for unit in units]
    chart = {"type": tile.chart, "labels": units,
             "datasets": [{"label": tile.title, "data": [_number(figures.per_unit[u]) for u in units]}]}
    return ShownTile(tile, figures, ["Wert" if figures.kind != "int" else "Anzahl"], rows,
                     [shown(figures.total, figures.kind)], json.dumps(chart), shown(figures.total, figures.kind))


def dashboard_tiles() -> list[ShownTile]:
    """The tiles of this user's profile, computed for their districts (cached two minutes)."""
    sm = current_app.appbuilder.sm
    actor = current_actor()
    if actor.user_id is None:
        return []
    units = actor.visible_units
    out = []
    for tile in registered_tiles():
        if tile.permission is not None and not sm.has_access(*tile.permission):
            continue
        key = (tile.key, None if units is None else frozenset(units), actor.today)
        try:
            figures = tile_cache.get(key, lambda t=tile: t.provider(db.session, actor, actor.today))
        except Exception:  # noqa: BLE001 - one broken tile must not take the start page down
            log.exception("Dashboard tile %s failed", tile.key)
            db.session.rollback()
            out.append(ShownTile(tile, None, [], [], [], "", "nicht verfügbar"))
            continue
        out.append(_present(tile, figures))
    return out


__all__ = ["QS_CODES", "dashboard_tiles", "shown"]
