"""Rules that run after every migration (``fachstelle migrate``/``init``), e.g. database triggers and
constraints the models cannot declare (#12: no overbooking on SQLite).

Kept apart from ``migrate.py`` so that registering a rule does not import Alembic: every web worker imports
the modules that register rules, and Alembic (with Mako and Pygments) cost a tenth of its start.
"""
from __future__ import annotations

AFTER_MIGRATE: list = []


def after_migrate(hook):
    """Decorator: run ``hook(engine)`` after each migration (once per hook); a hook must be idempotent."""
    if hook not in AFTER_MIGRATE:
        AFTER_MIGRATE.append(hook)
    return hook
