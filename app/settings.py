"""Defaults, overridable by environment variables (FACHSTELLE_*)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    return Path(os.environ.get("FACHSTELLE_INSTANCE_DIR", ROOT / "instance"))


def database_url() -> str:
    default = f"sqlite:///{instance_dir() / 'fachstelle.db'}"
    return os.environ.get("FACHSTELLE_DATABASE_URL", default)


def config_dir() -> Path:
    return Path(os.environ.get("FACHSTELLE_CONFIG_DIR", ROOT / "config"))


def city() -> str | None:
    return os.environ.get("FACHSTELLE_CITY") or None


def migrations_dir() -> Path:
    return Path(os.environ.get("FACHSTELLE_MIGRATIONS_DIR", ROOT / "migrations"))


def secret_key() -> str:
    key = os.environ.get("FACHSTELLE_SECRET_KEY")
    if key:
        return key
    # A stable key per installation, so sessions survive restarts without configuration.
    path = instance_dir() / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def flask_config(overrides: dict | None = None) -> dict:
    url = database_url()
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SECRET_KEY": None,
        "APP_NAME": "Fachstelle",
        "APP_THEME": "",
        "AUTH_TYPE": 1,  # database authentication
        "AUTH_ROLE_ADMIN": "Admin",
        "AUTH_ROLE_PUBLIC": "Public",
        "FAB_CREATE_DB": False,  # the schema comes from Alembic (fachstelle init / migrate)
        "FAB_UPDATE_PERMS": os.environ.get("FAB_UPDATE_PERMS", "False") == "True",
        "FAB_API_SWAGGER_UI": True,
        "FAB_API_MAX_PAGE_SIZE": 100,
        "FAB_ADD_SECURITY_API": False,
        "FAB_BASE_TEMPLATE": "fachstelle/base.html",
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "LANGUAGES": {"de": {"flag": "de", "name": "Deutsch"}},
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "FACHSTELLE_CITY": city(),
        "FACHSTELLE_CONFIG_DIR": str(config_dir()),
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    }
    config.update(overrides or {})
    if "SQLALCHEMY_ENGINE_OPTIONS" not in config:
        if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
        else:
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = secret_key()
    return config
