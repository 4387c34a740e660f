"""The shipped city overlays build the whole app, and an invalid configuration stops start-up in German.

Models are built once per process, so every configuration runs in its own subprocess: `fachstelle
check-config`, and a probe that builds the app for the city on SQLite and PostgreSQL (a schema of its
own, so the session's `app` fixture is untouched), creates a partner and a case through the generated
forms as a clerk of the city's first office, and reports what it saw as JSON.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import holidays
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]

PROBE = r'''
import json, sys
from pathlib import Path
from flask_appbuilder import Model
from sqlalchemy import inspect, select
from app import create_app
from app.core_models import CatalogueValue, OrgUnit
from app.extensions import db
from app.web.build_roles import sync_roles
from app.metamodel.migrate import migrate
from app.metamodel.spec import RolesSpec
from app.services.seed import seed_catalogues, seed_org_units
from app.services.users import ensure_user

versions, case_values, *urls = sys.argv[1:]
result = {}
for n, url in enumerate(urls):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "probe", "WTF_CSRF_ENABLED": False,
                      "TESTING": True, "FAB_UPDATE_PERMS": False})
    registry, spec = app.config["FACHSTELLE_REGISTRY"], app.config["FACHSTELLE_SPEC"]
    with app.app_context():
        migrate(db.engine, Model.metadata, versions_dir=Path(versions) / str(n))
        seed_catalogues(db.session, spec)
        seed_org_units(db.session, spec)
        db.session.commit()
        sm = app.appbuilder.sm
        sm.create_db()
        # One profile is enough to walk the forms; syncing all of them costs seconds per process.
        clerk = [p for p in spec.roles.profiles if p.name == "Sachbearbeitung"]
        sync_roles(sm, spec.model_copy(update={"roles": RolesSpec(profiles=clerk)}))
        ensure_user(sm, "sb_probe", "pw", "Sachbearbeitung", [spec.settings.org_units[0].code], check_policy=False)

        def value(catalogue, code):
            return db.session.scalars(select(CatalogueValue).filter_by(catalogue=catalogue, code=code)).one().id

        client = app.test_client()
        login = client.post("/login/", data={"username": "sb_probe", "password": "pw"})
        partner = client.post("/partner/add", data={"kind": value("partner_kind", "person"), "surname": "Wonlos",
                                                    "first_name": "Günther", "birth_date": "13.05.1969"})
        Partner, Case = registry.model("partner"), registry.model("case")
        extra = json.loads(case_values)
        form = client.get("/case/add").get_data(as_text=True)
        saved = client.post("/case/add", data={
            "client": db.session.scalars(select(Partner.id)).one(), "opened_on": "03.11.2025",
            "status": value("case_status", "open"), "file_number": "2025/0815",
            **{k: value(*v) if isinstance(v, list) else v for k, v in extra.items()}})
        case = db.session.scalars(select(Case)).one()
        insp = inspect(db.engine)
        result["sqlite" if url.startswith("sqlite") else "postgresql"] = {
            "city_name": spec.settings.city_name, "holiday_subdivision": spec.settings.holiday_subdivision,
            "units": [[u.code, u.name] for u in db.session.scalars(select(OrgUnit).order_by(OrgUnit.id))],
            "entities": sorted(e.spec.name for e in registry),
            "columns": {t: sorted(c["name"] for c in insp.get_columns(t)) for t in ("case", "address")},
            "values": {c.name: sorted(v for (v,) in db.session.execute(
                select(CatalogueValue.code).filter_by(catalogue=c.name))) for c in spec.catalogues},
            "status": [login.status_code, partner.status_code, saved.status_code],
            "case": {k: str(getattr(case, k)) for k in extra}, "case_unit": case.org_unit.code,
            "form": form, "show": client.get(f"/case/show/{case.id}").get_data(as_text=True),
            "address_form": client.get(f"/address/add?_flt_0_partner={case.client_id}").get_data(as_text=True),
        }
        db.session.remove()
        db.engine.dispose()
print(json.dumps(result, ensure_ascii=False))
'''

# What the probe enters into the city's own case fields ([catalogue, code] means that catalogue value).
CASE_VALUES = {
    "berlin": {"product": ["swh_product", "p80635"]},
    "musterhausen": {"info": "Stichtag-Probe"},
}
BERLIN_DISTRICTS = [
    ("mitte", "Mitte"), ("friedrichshain_kreuzberg", "Friedrichshain-Kreuzberg"), ("pankow", "Pankow"),
    ("charlottenburg_wilmersdorf", "Charlottenburg-Wilmersdorf"), ("spandau", "Spandau"),
    ("steglitz_zehlendorf", "Steglitz-Zehlendorf"), ("tempelhof_schoeneberg", "Tempelhof-Schöneberg"),
    ("neukoelln", "Neukölln"), ("treptow_koepenick", "Treptow-Köpenick"),
    ("marzahn_hellersdorf", "Marzahn-Hellersdorf"), ("lichtenberg", "Lichtenberg"), ("reinickendorf", "Reinickendorf"),
]
BASE_ENTITIES = sorted(["address", "appointment", "case", "contact", "doc_entry", "eviction_lawsuit", "forced_eviction",
                        "household_income", "household_member", "housing_emergency", "partner", "partner_role_assignment",
                        "relationship", "service", "social_situation", "task", "loan",  # Darlehen (#13)
                        # Unterbringung (#12)
                        "shelter", "room", "place", "need_profile", "reservation", "occupancy",
                        # Gebühren (#12 §4)
                        "fee_component", "fee_subscription", "fee_tariff", "shelter_lease",
                        "occupancy_payer_share",  # Kostenaufteilung (#12 follow-up)
                        # #15: social care and help plans, erasure requests
                        "care", "erasure_request", "help_goal", "help_goal_result", "help_measure", "help_plan",
                        "help_review"])


def cli_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACHSTELLE_")}
    env.update(FACHSTELLE_INSTANCE_DIR=str(tmp / "instance"), FACHSTELLE_DATABASE_URL=f"sqlite:///{tmp / 'cli.db'}",
               FACHSTELLE_MIGRATIONS_DIR=str(tmp / "migrations"), **extra)
    return env


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Start check-config and the probe for both cities at once, then collect their results."""
    pg = postgres_url()
    engine = create_engine(pg, isolation_level="AUTOCOMMIT") if pg else None
    schemas, running = [], {}
    for city, values in CASE_VALUES.items():
        tmp = tmp_path_factory.mktemp(city)
        env = cli_env(tmp, FACHSTELLE_CITY=city)
        urls = [f"sqlite:///{tmp / 'probe.db'}"]
        if engine is not None:
            schema = f"overlay_{city}_{os.getpid()}"
            with engine.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            schemas.append(schema)
            urls.append(_with_schema(pg, schema))
        running[city] = (
            subprocess.Popen([sys.executable, "-m", "app.cli", "check-config"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            subprocess.Popen([sys.executable, "-c", PROBE, str(tmp / "versions"), json.dumps(values), *urls],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        )
    results = {}
    for city, (check, probe) in running.items():
        check_out, check_err = check.communicate(timeout=300)
        probe_out, probe_err = probe.communicate(timeout=300)
        assert probe.returncode == 0, probe_err[-3000:]
        results[city] = {"check": (check.returncode, check_out, check_err),
                         "probe": json.loads(probe_out.strip().splitlines()[-1])}
    yield results
    if engine is not None:
        with engine.connect() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request) -> str:
    if request.param == "postgresql" and postgres_url() is None:
        pytest.skip("PostgreSQL nicht verfügbar (FACHSTELLE_TEST_DATABASE_URL setzen)")
    return request.param


@pytest.mark.parametrize(("city", "summary"), [
    # #12 and #14 added pages and catalogues; #13 the page "Darlehen", four catalogues, the profile "Darlehen/Kasse";
    # #12 §4 the four fee pages and their catalogues.
    ("berlin", "Konfiguration in Ordnung: 35 Seiten, 49 Kataloge, 8 Profile (Stadt: berlin)."),  # #15: 7 pages, 7 catalogues, Datenschutz
    ("musterhausen", "Konfiguration in Ordnung: 35 Seiten, 48 Kataloge, 8 Profile (Stadt: musterhausen)."),
])
def test_check_config_accepts_the_shipped_overlay(built, city, summary):
    code, out, err = built[city]["check"]
    assert (code, err) == (0, "")
    assert out.splitlines() == [summary, "Datenbank ist leer: 'fachstelle init' legt sie an."]


def test_berlin_builds_with_its_twelve_districts(built, db):
    seen = built["berlin"]["probe"][db]
    assert (seen["city_name"], seen["holiday_subdivision"]) == ("Soziale Wohnhilfen Berlin", "BE")
    assert seen["units"] == [[code, f"Soziale Wohnhilfe {name}"] for code, name in BERLIN_DISTRICTS]
    assert seen["entities"] == BASE_ENTITIES
    # The clerk of Mitte saves a case with the KLR product; it belongs to Mitte.
    assert seen["status"] == [302, 302, 302]
    assert (seen["case"], seen["case_unit"]) == ({"product": "80635 Sozialpädagogische Prävention zum Wohnraumerhalt"},
                                                 "mitte")
    assert "Fallakte (Soziale Wohnhilfe) anlegen" in seen["form"] and "Produkt (KLR)" in seen["form"]
    assert "80635 Sozialpädagogische Prävention zum Wohnraumerhalt" in seen["show"]
    assert "product_id" in seen["columns"]["case"]
    assert {"lor", "lor_lc"} <= set(seen["columns"]["address"])
    address_form = _flat(seen["address_form"])
    assert '<label for="lor" control-label> Bezirksregion/Planungsraum (LOR) </label>' in address_form
    assert '<label for="district" control-label> Ortsteil </label>' in address_form  # relabelled
    assert seen["values"]["swh_product"] == ["p80633", "p80635", "p80921", "p80922"]
    assert "sgb12_67" in seen["values"]["legal_basis"] and "laf" in seen["values"]["partner_role"]
    assert "sgb2_22" in seen["values"]["legal_basis"]  # base values stay


def test_musterhausen_builds_without_hand_ticked_statistics(built, db):
    """#14: the statistics are derived; the clerk no longer ticks "LDS-Statistik relevant" nor picks a structure."""
    seen = built["musterhausen"]["probe"][db]
    assert (seen["city_name"], seen["holiday_subdivision"]) == ("Zentrale Fachstelle Wohnen Musterhausen", "NW")
    assert seen["units"] == [["zfw", "Zentrale Fachstelle Wohnen"], ["obdach", "Obdachverwaltung"],
                             ["vermittlung", "Wohnungsvermittlung"]]
    assert seen["entities"] == BASE_ENTITIES
    assert seen["status"] == [302, 302, 302]
    assert (seen["case"], seen["case_unit"]) == ({"info": "Stichtag-Probe"}, "zfw")
    form = seen["form"]
    assert "ZeWo-Fallakte anlegen" in form and "LDS-Statistik" not in form and "Haushaltsstruktur" not in form
    # Hidden: gone from the form, kept in the database (no data lost).
    assert 'name="clerk"' not in form and "clerk" in seen["columns"]["case"]
    assert not {"lds_relevant", "lds_household_structure_id"} & set(seen["columns"]["case"])
    assert "lds_household_structure" not in seen["values"]
    assert {"haftentlassene", "obdachlose"} <= set(seen["values"]["person_group"])


@pytest.mark.parametrize(("city", "holiday", "not_holiday"), [
    ("berlin", "2025-03-08", "2025-06-19"),        # Internationaler Frauentag; Fronleichnam is no holiday in Berlin
    ("musterhausen", "2025-06-19", "2025-03-08"),  # Fronleichnam (NRW); 8 March is a working day there
])
def test_overlay_holidays_are_those_of_its_land(city, holiday, not_holiday):
    settings = yaml.safe_load((ROOT / "config" / "cities" / city / "settings.yaml").read_text(encoding="utf-8"))
    calendar = holidays.country_holidays("DE", subdiv=settings["holiday_subdivision"], years=2025)
    assert holiday in calendar and not_holiday not in calendar


def test_overlay_profiles_in_domain_terms():
    from app.web.build_roles import profile_permissions
    from app.metamodel.loader import load_spec

    berlin = load_spec(ROOT / "config", "berlin")
    assert [(p.name, p.label) for p in berlin.roles.profiles] == [
        ("Sachbearbeitung", "Sachbearbeitung Wohnungsnotfall"), ("Sozialarbeit", "Sozialarbeit (Soziale Betreuung)"),
        ("Teamleitung", "Gruppenleitung Soziale Wohnhilfe"), ("Controlling", "Controlling (Bezirk und Senatsverwaltung)"),
        ("Fachadmin", "Fachadministration der Stadt"), ("Obdachverwaltung", "Obdachverwaltung / Unterbringung"),
        ("Darlehen/Kasse", "Darlehensverwaltung und Kasse"),
        ("Datenschutz", "Datenschutz (behördliche/r Datenschutzbeauftragte/r)")]  # #15
    musterhausen = load_spec(ROOT / "config", "musterhausen")
    shelter = next(p for p in musterhausen.roles.profiles if p.name == "Obdachverwaltung")
    granted = profile_permissions(musterhausen, shelter)
    assert {("can_add", "entity_case"), ("can_edit", "entity_housing_emergency"),
            ("can_list", "entity_household_income")} <= granted
    assert ("can_delete", "entity_case") not in granted  # write, not delete
    assert {("can_add", "entity_occupancy"), ("can_edit", "entity_shelter"), ("can_delete", "entity_reservation")} <= granted
    # Health and addiction data (Art. 9 GDPR) stay closed to the shelter administration.
    assert not {perm for perm in granted if perm[1] == "entity_social_situation"}


def _flat(html: str) -> str:
    return " ".join(html.split())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _broken_config(tmp: Path) -> Path:
    """The shipped configuration with two mistakes in two files."""
    config = tmp / "config"
    config.mkdir()
    entities = (ROOT / "config" / "entities.yaml").read_text(encoding="utf-8")
    (config / "entities.yaml").write_text(
        entities.replace("{name: birth_date, type: date,", "{name: birth_date, type: dat,", 1), encoding="utf-8")
    (config / "roles.yaml").write_text("profiles:\n  - name: Sachbearbeitung\n    default: schreiben\n",
                                       encoding="utf-8")
    return config


@pytest.mark.parametrize("command", [["check-config"], ["serve", "--port", "PORT"]], ids=["check-config", "serve"])
def test_invalid_config_stops_the_command_with_every_issue(tmp_path, command):
    config = _broken_config(tmp_path)
    lines = (config / "entities.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "{name: birth_date, type: dat," in text)
    fields = [f["name"] for f in yaml.safe_load("\n".join(lines))["entities"][0]["fields"]]
    args = [str(_free_port()) if a == "PORT" else a for a in command]
    result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, capture_output=True, text=True,
                            env=cli_env(tmp_path, FACHSTELLE_CONFIG_DIR=str(config)), timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "Die Konfiguration enthält 2 Fehler:",
        f"{config}/entities.yaml:{line}: entities[0].fields[{fields.index('birth_date')}].type: (spec.E012) "
        "unbekannter Feldtyp 'dat'",
        "    HINWEIS: Meinten Sie 'date'?",
        f"{config}/roles.yaml:3: profiles[0].default: (spec.E012) unbekannter Wert 'schreiben'",
        "    HINWEIS: Erlaubt: none, list, read, write, delete",  # "list" (#15)
    ]
    assert result.stdout == ""  # serve never announced a URL


def test_unknown_city_stops_start_up(tmp_path):
    result = subprocess.run([sys.executable, "-m", "app.cli", "check-config"], cwd=ROOT, capture_output=True,
                            text=True, env=cli_env(tmp_path, FACHSTELLE_CITY="berln"), timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "Die Konfiguration enthält 1 Fehler:",
        "config/cities/berln:1: FACHSTELLE_CITY: (spec.E005) Stadt-Overlay 'berln' nicht gefunden",
        "    HINWEIS: Meinten Sie 'berlin'?",
    ]
