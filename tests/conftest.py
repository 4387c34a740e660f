"""Shared fixtures: one app per database (SQLite and PostgreSQL), demo users per profile and unit.

Each integration test runs as ``test_x[sqlite]`` and ``test_x[postgresql]``. PostgreSQL comes from
FACHSTELLE_TEST_DATABASE_URL (set by scripts/test.sh and CI) or a local server on 127.0.0.1:5432;
without either, the PostgreSQL variants are skipped. Entity rows are removed after each test.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_test"
PASSWORD = "test-pw"
UNITS = ("nord", "sued")


def postgres_url() -> str | None:
    url = os.environ.get("FACHSTELLE_TEST_DATABASE_URL")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        return None
    try:
        create_engine(DEFAULT_PG).connect().close()
    except Exception:  # noqa: BLE001 - a server that does not know our role counts as absent
        return None
    return DEFAULT_PG


def reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def username(profile: str, unit: str | None) -> str:
    return f"{profile.lower()}_{unit}" if unit else profile.lower()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL nicht verfügbar (FACHSTELLE_TEST_DATABASE_URL setzen)")
    reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def app(db_url, tmp_path_factory):
    from flask_appbuilder import Model

    from app import create_app
    from app.extensions import db
    from app.web.build_roles import sync_roles
    from app.metamodel.migrate import migrate
    from app.services.seed import seed_all
    from app.services.users import ensure_user
    from app.web.fab_compat import create_builtin_roles

    instance = tmp_path_factory.mktemp("instance")
    os.environ["FACHSTELLE_INSTANCE_DIR"] = str(instance)
    flask_app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "WTF_CSRF_ENABLED": False, "TESTING": True,
                            "SECRET_KEY": "test", "FACHSTELLE_CITY": None,
                            "FACHSTELLE_CONFIG_DIR": str(ROOT / "config")})
    with flask_app.app_context():
        migrate(db.engine, Model.metadata, versions_dir=instance / "versions")
        spec = flask_app.config["FACHSTELLE_SPEC"]
        seed_all(db.session, spec)
        db.session.commit()
        sm = flask_app.appbuilder.sm
        create_builtin_roles(sm)
        flask_app.appbuilder.add_permissions(update_perms=True)
        sync_roles(sm, spec)
        ensure_user(sm, "admin", PASSWORD, "Admin", None, check_policy=False)  # test accounts only
        for profile in spec.roles.profiles:
            for unit in UNITS:
                ensure_user(sm, username(profile.name, unit), PASSWORD, profile.name, [unit], check_policy=False)
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()


def reseed(flask_app) -> None:
    """The Leistungskatalog is entity rows too: put the seeded services back after a purge."""
    from app.extensions import db
    from app.services.seed import seed_services
    seed_services(db.session, flask_app.config["FACHSTELLE_SPEC"])
    db.session.commit()


@pytest.fixture
def ctx(app):
    """An app context; entity rows and history written by the test are removed afterwards."""
    from app.extensions import db
    with app.app_context():
        yield app
        db.session.rollback()
        _purge(app)


@pytest.fixture
def client(ctx):
    return ctx.test_client()


def login(client, user: str, password: str = PASSWORD):
    response = client.post("/login/", data={"username": user, "password": password})
    assert response.status_code in (200, 302), response.status_code
    return client


@pytest.fixture
def factory(ctx):
    """Make records directly (as the CLI would), e.g. ``factory('partner', 'nord', surname='Meier')``."""
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.history import acting_as

    registry = ctx.config["FACHSTELLE_REGISTRY"]

    def value(catalogue: str, code: str):
        return db.session.query(CatalogueValue).filter_by(catalogue=catalogue, code=code).one()

    def make(entity: str, unit: str | None, **values):
        model = registry.model(entity)
        unit_row = db.session.query(OrgUnit).filter_by(code=unit).one() if unit else None
        record = model(**values)
        if hasattr(model, "org_unit_id"):
            record.org_unit_id = unit_row.id if unit_row else None
        with acting_as("test"):
            db.session.add(record)
            db.session.commit()
        return record

    make.value = value
    return make


# --- module-scoped data (permission matrix, isolation): many requests over one record set -------------

def purge_entity_rows(flask_app) -> None:
    """Remove every entity row, multi-choice link and change-log entry (what ``ctx`` does after a test)."""
    from app.extensions import db
    with flask_app.app_context():
        _purge(flask_app)
        db.session.remove()


def _purge(flask_app) -> None:
    """Delete what tests write (entity rows, links, history, streets, files' rows), then reseed services."""
    from flask_appbuilder import Model

    from app.extensions import db
    registry = flask_app.config["FACHSTELLE_REGISTRY"]
    mine = {em.spec.name for em in registry} | {t.name for em in registry for t in em.multichoice_tables.values()}
    mine |= {"change_log", "street", "attachment", "letter", "letter_series_job"}
    mine |= {"office_details", "staff_details"}  # letterhead details a test sets (its legal remedy text, …)
    mine |= {"treasury_posting", "treasury_batch", "kassenzeichen", "kassenzeichen_counter", "payment_import",
             "treasury_payment", "loan_booking", "loan_event"}  # treasury and loans (#13)
    mine |= {"fee_line", "fee_run", "fee_notice_sent"}  # shelter fees (#12)
    mine |= {"retention_aggregate", "retention_protocol", "retention_run"}  # retention runs (#15): reports read them
    for table in reversed(Model.metadata.sorted_tables):
        if table.name in mine:
            db.session.execute(delete(table))
    db.session.commit()
    reseed(flask_app)


@pytest.fixture(scope="module")
def user_client(app):
    """``user_client('sachbearbeitung_nord')``: a logged-in test client, made once per module and user.

    Requests run without an outer app context, so each one gets its own ``g`` and session, as in
    production (an outer context would share ``g``, and with it the cached user, between clients).
    Not together with ``ctx`` or ``factory`` in one test: those push an app context for the whole test,
    and then every client's request sees the first one's user (Flask-Login keeps it in ``g``).
    """
    made: dict[str, object] = {}

    def get(user: str):
        if user not in made:
            made[user] = login(app.test_client(), user)
        return made[user]
    return get
