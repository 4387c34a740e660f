"""services.yaml: the Leistungskatalog's seed, merged by code in a city overlay, checked against catalogues."""
from __future__ import annotations

from pathlib import Path

from app.metamodel.loader import load_spec
from tests.unit.spec_support import issue, issues_for, write_config

ROOT = Path(__file__).resolve().parents[2]


def test_berlin_overlay_adds_product_numbers_and_services():
    base = {s.code: s for s in load_spec(ROOT / "config").services}
    berlin = {s.code: s for s in load_spec(ROOT / "config", "berlin").services}
    assert base["klage_eingang"].product_number is None
    assert berlin["klage_eingang"].product_number == "80635"
    assert berlin["klage_eingang"].follow_up == base["klage_eingang"].follow_up  # merged, not replaced
    assert berlin["stellungnahme_67"].product_number == "80633" and "stellungnahme_67" not in base


def test_unknown_measurement_point_is_reported_where_it_stands(tmp_path):
    root = write_config(tmp_path)
    (root / "services.yaml").write_text(
        "services:\n"
        "  - {code: besuch, name: Besuch, measurement_point: hausbesuh}\n"
        "  - {code: besuch, name: Doppelt}\n", encoding="utf-8")
    assert issues_for(root) == [
        issue("E150", root / "services.yaml", 3, "services[1].code", "Leistung 'besuch' ist doppelt"),
        issue("E151", root / "services.yaml", 2, "services[0].measurement_point",
              "unbekannter Wert 'hausbesuh' (Katalog 'measurement_point')", "Im Katalog 'measurement_point' anlegen."),
    ]


def test_unknown_key_in_a_service_names_the_file(tmp_path):
    root = write_config(tmp_path)
    (root / "services.yaml").write_text("services:\n  - {code: x, name: X, folow_up: {days: 3, title: T}}\n",
                                        encoding="utf-8")
    found = issues_for(root)
    assert [(i.id, i.file, i.line, i.path) for i in found] == [
        ("spec.E010", str(root / "services.yaml"), 2, "services[0].folow_up")]
    assert "follow_up" in (found[0].hint or "")
