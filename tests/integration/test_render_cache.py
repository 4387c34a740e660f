"""The render caches (app/web/render_cache.py) never show what the database no longer says.

The menu is cached per permission set, so a role edited while the app runs changes the next page; the
search form's catalogue drop-downs are cached until a catalogue value is flushed and committed.
Requests go through ``user_client`` (no outer app context), so each has its own ``g``, as in production.
"""
from __future__ import annotations

import json
import re

import pytest

from app.web import menus
from app.web.admin_views import ADMIN_MENU
from tests.conftest import username

CLERK = username("Sachbearbeitung", "nord")


def _search_options(html: str, field: str) -> list[str]:
    # The search form's fields travel as JSON inside the page's script (FAB's AdminFilters).
    match = re.search(r'id=\\"' + field + r'\\" name=\\"' + field + r'\\"(.*?)/select', html)
    assert match, f"no drop-down {field} in the search form"
    return re.findall(r">([^<>]*)</option>", json.loads('"' + match.group(1) + '"'))


def test_catalogue_edit_shows_in_next_search_form(app, user_client):
    from app.core_models import CatalogueValue
    from app.extensions import db

    client = user_client(CLERK)
    before = _search_options(client.get("/partner/list/").get_data(as_text=True), "sex")
    assert before and "Geschlecht X-Test" not in before
    client.get("/partner/list/")  # now served from the cache
    with app.app_context():
        value = db.session.query(CatalogueValue).filter_by(catalogue="sex").order_by(CatalogueValue.id).first()
        old_label, value_id = value.label, value.id
        value.label = "Geschlecht X-Test"
        db.session.add(CatalogueValue(catalogue="sex", code="x_test", label="Neu im Katalog", sort=99))
        db.session.commit()
    try:
        after = _search_options(client.get("/partner/list/").get_data(as_text=True), "sex")
        assert "Geschlecht X-Test" in after and old_label not in after
        assert "Neu im Katalog" in after
    finally:
        with app.app_context():
            db.session.get(CatalogueValue, value_id).label = old_label
            db.session.query(CatalogueValue).filter_by(catalogue="sex", code="x_test").delete()
            db.session.commit()
    # PostgreSQL may return the choices in another order after an update (no ORDER BY, as before).
    assert sorted(_search_options(client.get("/partner/list/").get_data(as_text=True), "sex")) == sorted(before)


def test_rolled_back_catalogue_edit_leaves_no_trace(app, user_client):
    from app.core_models import CatalogueValue
    from app.extensions import db

    client = user_client(CLERK)
    before = _search_options(client.get("/partner/list/").get_data(as_text=True), "sex")
    with app.app_context():
        value = db.session.query(CatalogueValue).filter_by(catalogue="sex").order_by(CatalogueValue.id).first()
        value.label = "Nie gespeichert"
        db.session.flush()
        db.session.rollback()
    assert sorted(_search_options(client.get("/partner/list/").get_data(as_text=True), "sex")) == sorted(before)


def _menu_has_catalogues(html: str) -> bool:
    # The item opens the overview of the catalogues (#11), formerly the list of their values.
    return re.search(r'href="/catalogues/usage">\s*(<i[^>]*></i>&nbsp;)?\s*Kataloge</a>', html) is not None


def test_role_change_changes_the_menu(app, user_client):
    from app.extensions import db

    client = user_client(CLERK)
    assert not _menu_has_catalogues(client.get("/partner/list/").get_data(as_text=True))
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_user(username=CLERK).roles[0]
        for menu in (menus.CATALOGUES, ADMIN_MENU):  # the item and its category (keys, not labels)
            sm.add_permission_role(role, sm.find_permission_view_menu("menu_access", menu))
        db.session.commit()
    try:
        assert _menu_has_catalogues(client.get("/partner/list/").get_data(as_text=True))
    finally:
        with app.app_context():
            sm = app.appbuilder.sm
            for menu in (menus.CATALOGUES, ADMIN_MENU):
                sm.del_permission_role(sm.find_user(username=CLERK).roles[0],
                                       sm.find_permission_view_menu("menu_access", menu))
            db.session.commit()
    assert not _menu_has_catalogues(client.get("/partner/list/").get_data(as_text=True))


@pytest.mark.parametrize("query", [
    "",                                                     # no arguments yet
    "?_oc_PartnerView=surname&_od_PartnerView=asc",         # sorted: the link turns the direction
    "?page_PartnerView=2&psize_PartnerView=50&_flt_0_surname=m%C3%BC",  # paged, sized, searched
    "?_flt_0_surname=fsslot0x7e",                           # the placeholder itself in the URL
], ids=["plain", "sorted", "paged", "placeholder"])
def test_list_links_are_fabs(app, query):
    # The list's page, page-size and sort links are built once with a placeholder (render_cache.py);
    # every link must be the one FAB's own filter makes.
    fab = app.appbuilder.template_filters
    with app.test_request_context("/partner/list/" + query):
        for name, fab_filter, values in (("link_page", fab.link_page_filter, [0, 1, 7, -1]),
                                         ("link_page_size", fab.link_page_size_filter, [25, 100]),
                                         ("link_order", fab.link_order_filter, ["surname", "birth_date", "a b"])):
            for view in ("PartnerView", "CaseView"):
                for value in values:
                    assert app.jinja_env.filters[name](value, view) == fab_filter(value, view), (name, value)


def _active_filters(html: str):
    # The last argument of FAB's AdminFilters(…): the filters the URL asks for.
    match = re.search(r"new AdminFilters\((.*?)\);", html, re.S)
    assert match, "no search form"
    return json.loads("[" + match.group(1).split(",", 1)[1] + "]")[-1]


def test_cached_search_form_shows_each_requests_filters(app, user_client):
    # A search form of plain fields and catalogue drop-downs is rendered once; the active filters
    # (from the URL) are put in per request.
    client = user_client(CLERK)
    assert _active_filters(client.get("/partner/list/").get_data(as_text=True)) == []
    html = client.get("/partner/list/?_flt_0_surname=M%C3%BC&_flt_1_first_name=</script>").get_data(as_text=True)
    assert sorted(_active_filters(html)) == [["first_name", "Enthält", ["</script>"]], ["surname", "beginnt mit", ["Mü"]]]
    assert "</script>\"" not in html  # escaped as Jinja's tojson does
    assert _active_filters(client.get("/partner/list/").get_data(as_text=True)) == []


def test_cached_search_form_carries_each_requests_nonce(app, user_client, monkeypatch):
    # The form's inline script needs the request's CSP nonce (#11); the cached form gets it put in, so the
    # cache still serves every list page (it was bypassed for all of them while a nonce was configured).
    from app.web import widgets

    client = user_client(CLERK)
    client.get("/partner/list/")  # fills the cache
    renders = []
    real = widgets.CataloguesCachedSearchWidget._render
    monkeypatch.setattr(widgets.CataloguesCachedSearchWidget, "_render",
                        lambda self, *a, **kw: (renders.append(1), real(self, *a, **kw))[1])
    nonces = []
    for _ in range(2):
        answer = client.get("/partner/list/?_flt_0_surname=M")
        html = answer.get_data(as_text=True)
        nonce = re.search(r"'nonce-([^']+)'", answer.headers["Content-Security-Policy"]).group(1)
        script = re.search(r'<script nonce="([^"]*)">\s*\(function\(\$\) \{\s*const filter = new AdminFilters', html)
        assert script, "no search form script"
        assert script.group(1) == nonce
        assert widgets._NONCE_SLOT not in html
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert renders == []  # both from the cache


def test_flush_invalidated_cache_stays_bounded(app):
    from app.web.render_cache import FlushInvalidatedCache, _CACHES, _store

    cache = FlushInvalidatedCache("test-bounded", {"nothing"}, 60.0, max_entries=10)
    try:
        with app.app_context():
            for i in range(25):
                assert cache.get(("k", i), lambda: i) == i
            assert len(_store("test-bounded")) <= 12      # cleared when it grew past ten
            assert cache.get(("k", 24), lambda: "new") == 24  # still a hit
            cache.invalidate()
            assert cache.get(("k", 24), lambda: "new") == "new"
            assert len(_store("test-bounded")) == 2       # the stale generation was dropped: marker + one
    finally:
        _CACHES.remove(cache)
