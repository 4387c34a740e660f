"""The new field kinds (iban, email, phone, percent, money) in a city's YAML: the app builds, migrates and
renders the forms; values are read, checked, normalised and shown the German way.

Models are built once per process, so the overlay runs in a subprocess (as in test_overlays.py) against
SQLite and, when available, PostgreSQL (a schema of its own).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import postgres_url
from tests.integration.test_overlays import _with_schema, cli_env

ROOT = Path(__file__).resolve().parents[2]

OVERLAY = """\
entities:
  - name: partner
    fields:
      - {name: iban, type: iban, label: IBAN, show_in_list: true}
      - {name: email, type: email, label: E-Mail}
      - {name: phone, type: phone, label: Telefon}
  - name: case
    fields:
      - {name: fee, type: money, label: Gebühr}
      - {name: share, type: percent, label: Eigenanteil}
"""

PROBE = r'''
import json, sys
from decimal import Decimal
from pathlib import Path
from flask_appbuilder import Model
from sqlalchemy import inspect, select
from app import create_app
from app.core_models import CatalogueValue, ChangeLog
from app.extensions import db
from app.web.build_roles import sync_roles
from app.metamodel.migrate import migrate, plan
from app.metamodel.spec import RolesSpec
from app.services.seed import seed_catalogues, seed_org_units
from app.services.users import ensure_user

versions, *urls = sys.argv[1:]
result = {}
for n, url in enumerate(urls):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "probe", "WTF_CSRF_ENABLED": False,
                      "TESTING": True, "FAB_UPDATE_PERMS": False})
    registry, spec = app.config["FACHSTELLE_REGISTRY"], app.config["FACHSTELLE_SPEC"]
    seen = result["sqlite" if url.startswith("sqlite") else "postgresql"] = {}
    with app.app_context():
        migrate(db.engine, Model.metadata, versions_dir=Path(versions) / str(n))
        # The revision file was written with Money as plain Numeric; nothing is left to migrate.
        seen["pending_after_migrate"] = [str(c) for c in plan(db.engine, Model.metadata, spec).changes]
        seed_catalogues(db.session, spec)
        seed_org_units(db.session, spec)
        db.session.commit()
        sm = app.appbuilder.sm
        sm.create_db()
        clerk = [p for p in spec.roles.profiles if p.name == "Sachbearbeitung"]
        sync_roles(sm, spec.model_copy(update={"roles": RolesSpec(profiles=clerk)}))
        ensure_user(sm, "sb_probe", "pw", "Sachbearbeitung", [spec.settings.org_units[0].code], check_policy=False)
        insp = inspect(db.engine)
        seen["types"] = {f"{t}.{c['name']}": str(c["type"]) for t in ("partner", "case") for c in insp.get_columns(t)
                         if c["name"] in ("iban", "email", "phone", "fee", "share")}

        def value(catalogue, code):
            return db.session.scalars(select(CatalogueValue).filter_by(catalogue=catalogue, code=code)).one().id

        client = app.test_client()
        client.post("/login/", data={"username": "sb_probe", "password": "pw"})
        seen["partner_form"] = client.get("/partner/add").get_data(as_text=True)
        person = {"kind": value("partner_kind", "person"), "surname": "Wonlos", "first_name": "Günther"}
        bad = client.post("/partner/add", data={**person, "iban": "DE88 3704 0044 0532 0130 00",
                                                "email": "kein-at-zeichen", "phone": "abc"})
        seen["bad_partner"] = [bad.status_code, bad.get_data(as_text=True)]
        good = client.post("/partner/add", data={**person, "iban": "de89 3704 0044 0532 0130 00",
                                                 "email": "G.Wonlos@Example.DE", "phone": "0049 (0)30  1234567"})
        Partner, Case = registry.model("partner"), registry.model("case")
        partner = db.session.scalars(select(Partner)).one()
        seen["partner"] = [good.status_code, partner.iban, partner.email, partner.phone]
        seen["partner_show"] = client.get(f"/partner/show/{partner.id}").get_data(as_text=True)
        seen["partner_list"] = client.get("/partner/list/").get_data(as_text=True)
        case = {"client": partner.id, "opened_on": "03.11.25", "status": value("case_status", "open")}
        over = client.post("/case/add", data={**case, "fee": "12,345", "share": "120"})
        seen["bad_case"] = [over.status_code, over.get_data(as_text=True)]
        saved = client.post("/case/add", data={**case, "fee": "1.234,56 €", "share": "12,5"})
        row = db.session.scalars(select(Case)).one()
        seen["case"] = [saved.status_code, repr(row.fee), repr(row.share), row.opened_on.isoformat()]
        seen["case_show"] = client.get(f"/case/show/{row.id}").get_data(as_text=True)
        changed = client.post(f"/case/edit/{row.id}", data={**case, "fee": "2000", "share": "7,25"})
        seen["history"] = sorted([e.field, e.old_value, e.new_value] for e in db.session.scalars(
            select(ChangeLog).where(ChangeLog.entity == "case", ChangeLog.action == "update")))
        # Half up on the way into the database, whatever the path (here: Python, not a form).
        row.fee = Decimal("2.675")
        db.session.commit()
        db.session.expire_all()
        seen["rounded"] = repr(db.session.get(Case, row.id).fee)
        # The REST API applies the same rules as the form.
        api = client.put(f"/api/v1/partner/{partner.id}", json={"iban": "DE88370400440532013000"})
        seen["api"] = [api.status_code, api.get_json()]
        db.session.remove()
        db.engine.dispose()
print(json.dumps(result, ensure_ascii=False))
'''


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kinds")
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "cities" / "kinds_probe").mkdir()
    (config / "cities" / "kinds_probe" / "entities.yaml").write_text(OVERLAY, encoding="utf-8")
    env = cli_env(tmp, FACHSTELLE_CITY="kinds_probe", FACHSTELLE_CONFIG_DIR=str(config))
    urls = [f"sqlite:///{tmp / 'probe.db'}"]
    pg, schema = postgres_url(), f"kinds_probe_{os.getpid()}"
    engine = create_engine(pg, isolation_level="AUTOCOMMIT") if pg else None
    if engine is not None:
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        urls.append(_with_schema(pg, schema))
    try:
        done = subprocess.run([sys.executable, "-c", PROBE, str(tmp / "versions"), *urls], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        yield json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if engine is not None:
            with engine.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def seen(request, probe) -> dict:
    if request.param not in probe:
        pytest.skip("PostgreSQL nicht verfügbar (FACHSTELLE_TEST_DATABASE_URL setzen)")
    return probe[request.param]


def test_new_kinds_migrate_to_their_column_types(seen):
    assert seen["pending_after_migrate"] == []
    types = {k: v.replace(" ", "").upper() for k, v in seen["types"].items()}
    assert types == {"partner.iban": "VARCHAR(34)", "partner.email": "VARCHAR(254)", "partner.phone": "VARCHAR(40)",
                     "case.fee": "NUMERIC(14,2)", "case.share": "NUMERIC(7,4)"}


def test_form_renders_the_new_kinds(seen):
    form = seen["partner_form"]
    assert 'name="iban"' in form and 'name="email"' in form and 'name="phone"' in form


def test_bad_values_get_german_messages_and_nothing_is_saved(seen):
    status, html = seen["bad_partner"]
    assert status == 200
    assert "Die IBAN „DE88 3704 0044 0532 0130 00“ ist ungültig: Prüfziffer falsch." in html
    assert "„kein-at-zeichen“ ist keine gültige E-Mail-Adresse" in html
    assert "„abc“ ist keine gültige Telefonnummer" in html
    status, html = seen["bad_case"]
    assert status == 200
    assert "Höchstens 2 Nachkommastellen erlaubt." in html
    assert "Wert muss zwischen 0 und 100 liegen." in html


def test_values_are_normalised_and_shown_the_german_way(seen):
    assert seen["partner"] == [302, "DE89370400440532013000", "G.Wonlos@example.de", "+49 30 1234567"]
    assert "DE89 3704 0044 0532 0130 00" in seen["partner_show"]
    assert "DE89 3704 0044 0532 0130 00" in seen["partner_list"]
    # Two-digit year "25" is 2025 (pivot: up to ten years ahead of today).
    assert seen["case"] == [302, "Decimal('1234.56')", "Decimal('12.5000')", "2025-11-03"]
    assert "1.234,56 €" in seen["case_show"] and "12,5 %" in seen["case_show"]


def test_history_speaks_the_kinds_language(seen):
    assert ["fee", "1.234,56 €", "2.000,00 €"] in seen["history"]
    assert ["share", "12,5 %", "7,25 %"] in seen["history"]


def test_money_column_rounds_half_up_and_returns_decimal(seen):
    assert seen["rounded"] == "Decimal('2.68')"


def test_rest_api_checks_the_iban(seen):
    status, body = seen["api"]
    assert status == 422  # FAB's answer to a body that fails its schema
    assert "Prüfziffer falsch" in json.dumps(body, ensure_ascii=False)
