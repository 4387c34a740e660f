"""The start-page dashboard (#14 §5): tiles per profile, per district and total, German numbers, a table for
every chart, and the tile registry other modules (accommodation, loans) plug into with one call."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from app import clock


@pytest.fixture(scope="module")
def cases(app):
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.history import acting_as
    from tests.conftest import purge_entity_rows
    registry = app.config["FACHSTELLE_REGISTRY"]
    today = clock.today()
    with app.app_context():
        def value(catalogue, code):
            return db.session.query(CatalogueValue).filter_by(catalogue=catalogue, code=code).one()
        units = {u.code: u.id for u in db.session.query(OrgUnit)}
        with acting_as("test"):
            for unit, n_open, n_closed, notices in (("nord", 3, 1, 2), ("sued", 1, 0, 1)):
                client = registry.model("partner")(kind=value("partner_kind", "person"), surname="D",
                                                   org_unit_id=units[unit])
                db.session.add(client)
                for i in range(n_open + n_closed):
                    case = registry.model("case")(client=client, opened_on=date(2026, 1, 1), file_number=f"{unit}{i}",
                                                  status=value("case_status", "open"), org_unit_id=units[unit],
                                                  closed_on=date(2026, 2, 1) if i >= n_open else None)
                    db.session.add(case)
                    if i < notices:
                        db.session.add(registry.model("eviction_lawsuit")(case=case, received_on=today,
                                                                          org_unit_id=units[unit]))
            db.session.commit()
        db.session.remove()
    yield
    purge_entity_rows(app)


def _tiles(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="fs-tile-([a-z_]+)".*?<strong>([^<]*)</strong>', html, re.S))


@pytest.fixture(autouse=True)
def fresh_cache():
    from app.web.dashboard import tile_cache
    tile_cache.generation += 1
    yield


# #12's tiles (no shelters here) and #13's (no loans here)
ACCOMMODATION = {"occupancy_tonight": "0", "utilisation_month": "–", "loans_in_arrears": "0"}


@pytest.mark.parametrize("user, expected", [
    ("sachbearbeitung_nord", {"open_cases": "3", "notices_month": "2", **ACCOMMODATION}),
    ("sachbearbeitung_sued", {"open_cases": "1", "notices_month": "1", **ACCOMMODATION}),
    ("controlling_nord", {"open_cases": "3", "notices_month": "2", "quality_quarter": None, **ACCOMMODATION}),
    ("admin", {"open_cases": "4", "notices_month": "3", "quality_quarter": None, **ACCOMMODATION}),
])
def test_tiles_per_profile_and_district(app, cases, user_client, user, expected):
    html = user_client(user).get("/").get_data(as_text=True)
    found = _tiles(html)
    assert set(found) == set(expected)
    for key, total in expected.items():
        if total is not None:
            assert found[key] == total
    assert "chart.umd.js" in html and 'role="img"' in html
    if user == "admin":
        table = html.split('id="fs-tile-open_cases"')[1].split("</table>")[0]
        assert re.search(r'<th scope="row">[^<]*Nord[^<]*</th><td class="text-right">3</td>', table, re.I) or \
            re.search(r">3</td>", table)
        assert "<tfoot><tr><th scope=\"row\">Gesamt</th>" in table
    if "quality_quarter" in expected:
        assert "QS 1.1" in html and "Quartal" in html


def test_a_registered_tile_shows_with_german_numbers_and_goes_again(app, cases, user_client):
    from app.services.dashboard import Tile, TileFigures, count_per_unit, register_tile, unregister_tile

    def arrears(session, actor, today):
        figures = count_per_unit(session, actor, app.config["FACHSTELLE_REGISTRY"].model("case"))
        per_unit = {unit: Decimal("1234.5") * n for unit, n in figures.per_unit.items()}
        return TileFigures(per_unit, sum(per_unit.values()), kind="money")

    client = user_client("controlling_nord")
    assert "loans_arrears" not in client.get("/").get_data(as_text=True)
    register_tile(Tile("loans_arrears", "Darlehen im Rückstand", arrears, permission=("can_list", "entity_case"),
                       order=50))
    try:
        from app.web.dashboard import tile_cache
        tile_cache.generation += 1
        html = client.get("/").get_data(as_text=True)
        assert _tiles(html)["loans_arrears"] == "4.938,00 €"  # 4 cases in Nord × 1.234,50 €
    finally:
        unregister_tile("loans_arrears")
    assert "loans_arrears" not in client.get("/").get_data(as_text=True)


def test_a_failing_tile_does_not_break_the_start_page(app, cases, user_client):
    from app.services.dashboard import Tile, register_tile, unregister_tile

    def broken(session, actor, today):
        raise RuntimeError("kaputt")
    register_tile(Tile("broken", "Kaputt", broken, order=99))
    try:
        from app.web.dashboard import tile_cache
        tile_cache.generation += 1
        response = user_client("sachbearbeitung_nord").get("/")
        assert response.status_code == 200
        assert _tiles(response.get_data(as_text=True))["broken"] == "nicht verfügbar"
    finally:
        unregister_tile("broken")


@pytest.mark.parametrize("value, kind, text", [
    (1234567, "int", "1.234.567"), (Decimal("87.5"), "percent", "87,5 %"), (None, "percent", "–"),
    (Decimal("1234.5"), "money", "1.234,50 €"), (0, "int", "0"),
])
def test_german_number_formats(value, kind, text):
    from app.web.dashboard import shown
    assert shown(value, kind) == text
