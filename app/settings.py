"""Defaults, overridable by environment variables (FACHSTELLE_*)."""
from __future__ import annotations

import hashlib
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


def migrations_dir(url: str | None = None) -> Path:
    """Where ``fachstelle migrate`` keeps the Alembic revisions of one database.

    Revisions belong to the deployment, never to the source tree: each database gets its own folder under
    ``instance/migrations/`` (two cities run from one checkout must not replay each other's revisions).
    FACHSTELLE_MIGRATIONS_DIR names the folder itself."""
    chosen = os.environ.get("FACHSTELLE_MIGRATIONS_DIR")
    if chosen:
        return Path(chosen)
    return instance_dir() / "migrations" / database_key(url or database_url())


def database_identity(url: str) -> str:
    """Which database a revisions folder belongs to: the SQLite file, or dialect, database and options
    (a search_path is another schema) — not host or user, which change without the database changing."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return f"sqlite:{Path(parsed.database).resolve()}"
    options = "&".join(f"{k}={v}" for k, v in sorted(parsed.query.items()))
    return f"{parsed.get_backend_name()}:{parsed.database or 'memory'}" + (f"?{options}" if options else "")


def database_key(url: str) -> str:
    """A folder name for a database: readable (dialect and database name) and unique (a hash of the rest)."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        database = Path(parsed.database).resolve()
        readable, identity = database.stem, str(database)
    else:
        # Host, port, database and options (a search_path is another schema); not user or password.
        readable = parsed.database or "memory"
        identity = parsed.set(username=None, password=None).render_as_string(hide_password=False)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in readable)[:40]
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return f"{parsed.get_backend_name()}-{safe}-{digest}"


def secret_key() -> str:
    key = os.environ.get("FACHSTELLE_SECRET_KEY")
    if key:
        return key
    # A stable key per installation, so sessions survive restarts without configuration.
    # It signs the session cookies: readable by the app's own account only (0600), also a file an older
    # version wrote world-readable.
    path = instance_dir() / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path.read_text().strip()


def secure_cookies() -> bool:
    """Cookies only over HTTPS: ``FACHSTELLE_SECURE_COOKIES=1`` or a base URL ``https://…``."""
    flag = os.environ.get("FACHSTELLE_SECURE_COOKIES", "").strip().lower()
    if flag in ("1", "true", "ja", "yes", "on"):
        return True
    if flag in ("0", "false", "nein", "no", "off"):
        return False
    return os.environ.get("FACHSTELLE_BASE_URL", "").strip().lower().startswith("https://")


def _int_env(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r}: bitte eine ganze Zahl (Minuten bzw. Anzahl) angeben.") from None


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
        # Not sent along by other sites' forms and frames; over HTTPS only when configured so.
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": secure_cookies(),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure_cookies(),
        # Sessions and sign-in (#11): idle timeout (empty: settings.yaml's idle_minutes, default 30) and the
        # login throttle (failures per account name / per address within the lock time, in minutes).
        "FACHSTELLE_IDLE_MINUTES": _int_env("FACHSTELLE_IDLE_MINUTES"),
        "FACHSTELLE_LOGIN_MAX_FAILURES": _int_env("FACHSTELLE_LOGIN_MAX_FAILURES") or 10,
        "FACHSTELLE_LOGIN_MAX_FAILURES_PER_ADDRESS": _int_env("FACHSTELLE_LOGIN_MAX_FAILURES_PER_ADDRESS") or 30,
        "FACHSTELLE_LOGIN_LOCK_MINUTES": _int_env("FACHSTELLE_LOGIN_LOCK_MINUTES") or 15,
        # Reverse proxies in front of the app whose X-Forwarded-For is trusted (the client address of the
        # throttle and the audit); 0: none, the address is the connection's.
        "FACHSTELLE_TRUSTED_PROXIES": _int_env("FACHSTELLE_TRUSTED_PROXIES") or 0,
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
