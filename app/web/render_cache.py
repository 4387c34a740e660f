"""In-process caches for the parts of FAB's page that do not change from request to request.

Two fragments are cached, each per app (tests run a SQLite and a PostgreSQL app in one process):

1. The menu (FAB's navbar_menu.html): FAB checks a permission and calls url_for for every item on
   every request. Its HTML depends only on the user's permissions and the registered views, so it is
   kept per (set of permissions, locale, script root). The permissions are read from the database on
   every request (``FachstelleSecurityManager``), so a role edited in the admin UI or by sync-roles
   changes the key on the next request; the registered views change only with a restart.
2. Catalogue drop-downs of the search form: one query and a few dozen <option>s per catalogue column
   and list page. Catalogue values can be edited in the running app: every flush that touches a
   CatalogueValue (admin UI, REST, seed, any ORM path) empties the cache of this process, again when its
   transaction ends (commit or rollback). Other worker processes of a multi-worker deployment see an edit after at most
   ``CATALOGUE_CACHE_SECONDS``.
"""
from __future__ import annotations

import time

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..core_models import CatalogueValue

CATALOGUE_CACHE_SECONDS = 30.0
_MENU_TEMPLATE = "fachstelle/navbar_menu.html"
_generation = 0  # catalogue generation of this process; bumped on every change


def _store(name: str) -> dict:
    return current_app.extensions.setdefault("fs_render_cache", {}).setdefault(name, {})


# --- menu ----------------------------------------------------------------------------------------
def menu_html() -> str:
    """FAB's menu for the current user, rendered once per permission set and locale."""
    sm = current_app.appbuilder.sm
    user = getattr(current_user, "_get_current_object", lambda: current_user)()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        # The login page (Public role, JWT clients): rare, and FAB's own path decides.
        return Markup(render_template(_MENU_TEMPLATE, menu=current_app.appbuilder.menu))
    key = (frozenset(sm._permissions_of(user)), str(get_locale()), request.script_root)
    cache = _store("menu")
    html = cache.get(key)
    if html is None:
        html = cache[key] = Markup(render_template(_MENU_TEMPLATE, menu=current_app.appbuilder.menu))
    return html


# --- catalogue drop-downs ------------------------------------------------------------------------
def catalogue_field_html(key: tuple, render) -> str:
    """``render()``'s HTML for a search-form field whose choices come only from catalogue values."""
    cache = _store("catalogue")
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[0] == _generation and now - hit[1] < CATALOGUE_CACHE_SECONDS:
        return hit[2]
    generation = _generation  # read before the query: a change during it leaves a stale, never a new, stamp
    html = render()
    cache[key] = (generation, now, html)
    return html


def invalidate_catalogues() -> None:
    global _generation
    _generation += 1


def _touches_catalogues(session: Session) -> bool:
    return any(isinstance(obj, CatalogueValue) for objs in (session.new, session.dirty, session.deleted)
               for obj in objs)


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances):
    if _touches_catalogues(session):
        session.info["fs_catalogues_changed"] = True
        invalidate_catalogues()


@event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context):
    # A request that rendered between before_flush and now may have read the old rows.
    if session.info.get("fs_catalogues_changed"):
        invalidate_catalogues()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    # Until the commit other connections still read the old values (and after a rollback they are back);
    # only the outermost transaction's end counts, savepoints included in it.
    if transaction.parent is None and session.info.pop("fs_catalogues_changed", False):
        invalidate_catalogues()
