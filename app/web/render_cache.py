"""In-process caches for the parts of FAB's page that do not change from request to request.

Two fragments are cached, each per app (tests run a SQLite and a PostgreSQL app in one process):

1. The menu (FAB's navbar_menu.html): FAB checks a permission and calls url_for for every item on
   every request. Its HTML depends only on the user's permissions and the registered views, so it is
   kept per (set of permissions, locale, script root). The permissions are read from the database on
   every request (``FachstelleSecurityManager``), so a role edited in the admin UI or by sync-roles
   changes the key on the next request; the registered views change only with a restart.
2. Catalogue drop-downs of the search form: one query and a few dozen <option>s per catalogue column
   and list page; and a whole search form when its fields are only plain inputs and such drop-downs.
   Catalogue values can be edited in the running app: every flush that touches a CatalogueValue (admin
   UI, REST, seed, any ORM path) empties the cache of this process, again when its transaction ends
   (commit or rollback). Other worker processes of a multi-worker deployment see an edit after at most
   ``CATALOGUE_CACHE_SECONDS`` (see FlushInvalidatedCache, also used for the header's due count).

Translated template strings (``_('Record Count')``) are memoised per locale: see install_cached_gettext.
"""
from __future__ import annotations

import time

from flask import current_app, g, has_request_context, render_template, request
from flask_babel import get_locale, get_translations
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..core_models import CatalogueValue
from ..services.bulk import BULK_TABLES
from .fab_compat import install_view_index, link_filters

CATALOGUE_CACHE_SECONDS = 30.0
_MENU_TEMPLATE = "fachstelle/navbar_menu.html"


def _store(name: str) -> dict:
    return current_app.extensions.setdefault("fs_render_cache", {}).setdefault(name, {})


# --- menu ----------------------------------------------------------------------------------------
def menu_html() -> str:
    """FAB's menu for the current user with the search box (#11), rendered once per permission set and locale."""
    sm = current_app.appbuilder.sm
    user = getattr(current_user, "_get_current_object", lambda: current_user)()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        # The login page (Public role, JWT clients): rare, and FAB's own path decides.
        return Markup(_render_menu())
    key = (frozenset(sm.permissions_of(user)), str(get_locale()), request.script_root)
    cache = _store("menu")
    html = cache.get(key)
    if html is None:
        html = cache[key] = Markup(_render_menu())
    return html


def _render_menu() -> str:
    appbuilder = current_app.appbuilder
    return render_template(_MENU_TEMPLATE, menu=appbuilder.menu, appbuilder=appbuilder)


# --- caches emptied by a flush -------------------------------------------------------------------
class FlushInvalidatedCache:
    """Values kept per key until a flush touches one of ``tables``, or for ``seconds`` at most.

    In this process every flush that adds, changes or deletes a row of those tables (admin UI, REST,
    seed, import, any ORM path, bulk ``update()``/``delete()`` statements included) empties the cache,
    and again when that transaction ends, since other connections read the old rows until the commit
    (and after a rollback they are back). Other worker processes of a multi-worker deployment see the
    change after at most ``seconds``. Entries of an emptied generation are dropped on the next look-up,
    and at most ``max_entries`` are kept (counts are kept per search: a day without writes must not grow
    a worker without bound).
    """

    def __init__(self, name: str, tables: set[str] | None, seconds: float, max_entries: int = 5000):
        # tables=None: any table (for values that may join several, like a filtered list's count).
        self.name, self.tables, self.seconds = name, None if tables is None else set(tables), seconds
        self.max_entries = max_entries
        self.generation = 0
        _CACHES.append(self)

    def get(self, key, compute):
        cache = _store(self.name)
        if cache.get(_GENERATION) != self.generation or len(cache) > self.max_entries:
            cache.clear()  # every entry is out of date (or there are too many): start afresh
            cache[_GENERATION] = self.generation
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None and hit[0] == self.generation and now - hit[1] < self.seconds:
            return hit[2]
        generation = self.generation  # read before computing: a change meanwhile leaves a stale stamp
        value = compute()
        cache[key] = (generation, now, value)
        return value

    def invalidate(self) -> None:
        self.generation += 1


_CACHES: list[FlushInvalidatedCache] = []
_GENERATION = object()  # the store's own entry: the generation its values belong to

#: Catalogue drop-downs of search forms, and whole search forms made only of plain fields and those.
catalogue_cache = FlushInvalidatedCache("catalogue", {CatalogueValue.__tablename__}, CATALOGUE_CACHE_SECONDS)


def catalogue_field_html(key: tuple, render) -> str:
    """``render()``'s HTML for a search-form field whose choices come only from catalogue values."""
    return catalogue_cache.get(("field", *key), render)


def invalidate_catalogues() -> None:
    catalogue_cache.invalidate()


def _touched_tables(session: Session) -> set[str]:
    return {getattr(obj, "__tablename__", None) for objs in (session.new, session.dirty, session.deleted)
            for obj in objs}


def _invalidate(session: Session, tables: set) -> None:
    for cache in _CACHES:
        if cache.tables is None or cache.tables & tables:
            cache.invalidate()
            session.info.setdefault("fs_invalidated", set()).add(cache.name)


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances):
    _invalidate(session, _touched_tables(session))


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state):
    # session.execute(update(Task)…) changes rows without a flush; so do the bulk inserts of an import.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table:
            _invalidate(state.session, {table})


@event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context):
    # A request that rendered between before_flush and now may have read the old rows.
    for cache in _CACHES:
        if cache.name in session.info.get("fs_invalidated", ()):
            cache.invalidate()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    # Only the outermost transaction's end counts, savepoints included in it.
    if transaction.parent is None:
        copied = session.info.pop(BULK_TABLES, set())  # an import's COPY (PostgreSQL)
        if copied:  # an empty set would still empty the caches that depend on every table (counts)
            _invalidate(session, copied)
        names = session.info.pop("fs_invalidated", set())
        for cache in _CACHES:
            if cache.name in names:
                cache.invalidate()


# --- template gettext ----------------------------------------------------------------------------
def install_cached_gettext(app) -> None:
    """Let templates' ``_()`` / ``gettext()`` answer from a dict per (locale, string).

    A case file calls gettext some 70 times; each call goes through Flask-Babel's context, domain and
    locale look-ups before it reaches the catalogue. Flask-Babel itself keeps the loaded catalogues per
    (locale, domain) for the life of the process, so the translation of a string in a locale never
    changes while the process runs; the memo is per app and keyed by the request's locale.
    """
    memo: dict[tuple[str, str], str] = {}

    def gettext(string: str) -> str:
        key = (str(get_locale()), string)
        text = memo.get(key)
        if text is None:
            text = memo[key] = get_translations().ugettext(string)
        return text

    app.extensions["fs_gettext"] = gettext  # for HTML written in Python (list_table.py)
    env = app.jinja_env
    # Only gettext is replaced; ngettext/pgettext keep Flask-Babel's callables (rare in FAB's templates).
    env.install_gettext_callables(
        gettext=gettext, ngettext=lambda s, p, n: get_translations().ungettext(s, p, n), newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n))


# --- links of the list widget --------------------------------------------------------------------
_SLOT = "fsslot0x7e"  # URL-safe, so url_for leaves it as it is; never a page number or column name


def install_fast_template_filters(app, appbuilder) -> None:
    """FAB's link_page, link_page_size and link_order filters, with one url_for per kind and list.

    Each call copies the request's arguments and calls url_for; a case file's nine related tables ask
    some 60 times (a sort link per column, a link per page). The links of one kind and list differ only
    in the one value, so FAB's filter builds the URL once per request with a placeholder, and the value
    is put in its place. Used only when the value needs no URL quoting (digits, column names) and the
    placeholder occurs exactly once; otherwise FAB's filter answers, so the URL is always FAB's.
    """
    for name, fab_filter in link_filters(appbuilder).items():
        app.jinja_env.filters[name] = _slotted(name, fab_filter)

    # FAB looks a view up by its class name with a loop over every registered view (about 40), for each
    # is_item_visible: four times per table. A name index instead (fab_compat.install_view_index).
    install_view_index(appbuilder)


def _slotted(name: str, fab_filter):
    def link(value, modelview_name):
        text = str(value)
        if not _is_url_safe(text):
            return fab_filter(value, modelview_name)
        cache = g.setdefault("_fs_link_slots", {})
        key = (name, modelview_name)
        template = cache.get(key)
        if template is None:
            template = fab_filter(_SLOT, modelview_name)
            if template.count(_SLOT) != 1 or _SLOT in request.full_path:
                template = ""
            cache[key] = template
        return template.replace(_SLOT, text) if template else fab_filter(value, modelview_name)
    return link


def _is_url_safe(text: str) -> bool:
    return bool(text) and text.isascii() and all(c.isalnum() or c == "_" for c in text)


# --- static file URLs ------------------------------------------------------------------------------
def install_static_url_memo(app) -> None:
    """Let templates' ``url_for`` answer static file URLs from a dict.

    FAB's layout links 19 style sheets and scripts with ``url_for('appbuilder.static', filename=…)`` on
    every page, each through Werkzeug's URL builder. A static file's URL depends only on the endpoint, the
    file name and where the app is mounted (host, script root, scheme), so it is kept per those; any other
    ``url_for`` (views, query arguments, ``_external``) goes to Flask as before.
    """
    url_for = app.jinja_env.globals["url_for"]
    memo: dict[tuple, str] = {}

    def static_aware_url_for(endpoint, **values):
        if len(values) == 1 and "filename" in values and (endpoint == "static" or endpoint.endswith(".static")) \
                and has_request_context():
            req = request._get_current_object()
            key = (endpoint, values["filename"], req.host, req.script_root, req.scheme)
            url = memo.get(key)
            if url is None:
                url = memo[key] = url_for(endpoint, **values)
            return url
        return url_for(endpoint, **values)

    app.jinja_env.globals["url_for"] = static_aware_url_for
