"""Fachstelle: case management for municipal housing-emergency offices.

``create_app`` is the only place that wires configuration, database, Flask-AppBuilder, views and CLI.
"""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import settings


def load_configured_spec(config_dir=None, city=None):
    from .metamodel.loader import load_spec
    return load_spec(config_dir or settings.config_dir(), city if city is not None else settings.city())


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record):
    # SQLite ignores foreign keys unless asked; without this a reference could point at nothing.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _check_role_wiring(appbuilder, spec, config: dict) -> None:
    """Every page and admin function a profile of roles.yaml grants must be offered by a registered view;
    otherwise the start is refused with the place in roles.yaml (a renamed view would silently take a
    permission away). ``check-config`` builds the app and so reports it too."""
    from .web.build_roles import offered_permissions, wiring_problems
    from .metamodel.issues import ConfigError
    from .metamodel.loader import locator

    city = config.get("FACHSTELLE_CITY") or settings.city()
    locate = locator(config.get("FACHSTELLE_CONFIG_DIR") or settings.config_dir(), city)
    problems = wiring_problems(spec, offered_permissions(appbuilder), locate)
    if problems:
        raise ConfigError(problems)


def create_app(overrides: dict | None = None, spec=None) -> Flask:
    """Build the app for the configured city. Raises ConfigError (German, every issue) on a bad config."""
    from flask_appbuilder import AppBuilder

    from . import core_models  # noqa: F401  (tables and the user's org units)
    from . import treasury_models  # noqa: F401  (treasury postings, payments, loan bookings: #13)
    from . import fee_models  # noqa: F401  (fee lines and runs: #12)
    from .extensions import csrf, db
    from .metamodel.build_models import build_models
    from .web.build_views import register_views
    from .services import attachments, documentation, history, occupancy
    from .web import register_web
    from .web.entity_api import install_schema_cache
    from .web.index import FachstelleIndexView
    from .web.lazy_rules import LazyBuilderRule
    from .web.security import FachstelleSecurityManager

    config = settings.flask_config(overrides)
    if spec is None:
        spec = load_configured_spec(config.get("FACHSTELLE_CONFIG_DIR"), config.get("FACHSTELLE_CITY") or None)
    registry = build_models(spec)

    app = Flask(__name__, instance_path=str(settings.instance_dir()), template_folder="web/templates",
                static_folder="web/static", static_url_path="/static/fachstelle")
    app.url_rule_class = LazyBuilderRule  # URL builders compiled on first use (start-up time)
    app.config.update(config)
    app.config["FACHSTELLE_SPEC"] = spec
    app.config["FACHSTELLE_REGISTRY"] = registry
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)

    db.init_app(app)
    # CSRF for every form and browser-session API call; token (JWT) clients are not browsers.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    # CSRF for every form and browser-session call; only a request a VALID JWT authenticates is exempt
    # (and then runs as the token's user, cookie ignored). Security headers on every response.
    from .web import surface
    surface.install(app, csrf)
    documentation.install()  # before history: the tasks it creates get their history too
    attachments.install()  # a deleted entry's files go after the commit
    occupancy.install()  # #12: places of a room, shelter of a booking, no overbooking (before history)
    from .services import care, erasure  # noqa: F401  (erasure: its save rule registers on import)
    care.install()  # #15: help plan measures and review dates as tasks, before history too
    history.install()
    install_schema_cache()
    with app.app_context():
        appbuilder = AppBuilder(security_manager_class=FachstelleSecurityManager, indexview=FachstelleIndexView,
                                update_perms=app.config["FAB_UPDATE_PERMS"])
        appbuilder.init_app(app, db.session)
        surface.install_jwt_messages(appbuilder.sm.jwt_manager)
        app.config["FACHSTELLE_VIEWS"] = register_views(appbuilder, registry)
        register_web(app, appbuilder)
        _check_role_wiring(appbuilder, spec, config)
    from .cli import register_cli
    register_cli(app)
    # Everything built so far lives as long as the process: full garbage collections need not walk it again.
    # Pages that make many objects (the occupancy board's 3,000 places, #12) otherwise pay 200 ms for a full
    # collection every few requests (p95 250 → 40 ms, BENCHMARKS.md "Unterbringung").
    import gc
    gc.freeze()
    return app
