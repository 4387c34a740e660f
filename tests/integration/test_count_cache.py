"""Cached list counts (app/web/interface.py) are never wrong where the page itself can tell.

A count is kept per table, filters, user and units until any flush of this process; another worker's
insert (simulated here by a statement on a second connection, which this process does not see) shows in
a short list at once, in a long one after COUNT_CACHE_SECONDS.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask import g
from sqlalchemy import insert

from app.web import interface
from app.web.interface import _settled
from tests.conftest import login


def _count(client, url: str) -> int:
    for name in ("_login_user", "_fs_org_units", "_fs_permissions", "_fs_due_count", "_fs_fast_user"):
        g.pop(name, None)  # the ctx fixture's outer app context shares g between requests
    html = client.get(url).get_data(as_text=True)
    return int(re.search(r"Anzahl Datensätze:</strong>\s*(\d+)", html).group(1))


@pytest.fixture
def thirty(factory):
    kind = factory.value("partner_kind", "person")
    return [factory("partner", "nord", kind=kind, surname=f"Zählung{i:02d}", birth_date=date(1970, 1, 1))
            for i in range(30)], kind


def _insert_elsewhere(ctx, kind, surname):
    # As another worker process would: committed on its own connection, no flush in this session.
    from app.extensions import db
    from app.core_models import OrgUnit
    model = ctx.config["FACHSTELLE_REGISTRY"].model("partner")
    nord = db.session.query(OrgUnit).filter_by(code="nord").one().id
    with db.engine.begin() as conn:
        conn.execute(insert(model.__table__).values(surname=surname, surname_lc=surname.lower(), kind_id=kind.id,
                                                    org_unit_id=nord))


def test_count_follows_changes_made_in_this_process(client, thirty, factory):
    partners, kind = thirty
    login(client, "sachbearbeitung_nord")
    url = "/partner/list/?_flt_0_surname=Zählung"
    assert _count(client, url) == 30          # a full first page: counted (and cached)
    assert _count(client, url) == 30          # from the cache
    factory("partner", "nord", kind=kind, surname="Zählung99")
    assert _count(client, url) == 31          # the flush emptied it


def test_another_workers_insert(ctx, client, thirty, monkeypatch):
    partners, kind = thirty
    login(client, "sachbearbeitung_nord")
    long_list, short_list = "/partner/list/?_flt_0_surname=Zählung", "/partner/list/?_flt_0_surname=Zählung0"
    assert (_count(client, long_list), _count(client, short_list)) == (30, 10)
    _insert_elsewhere(ctx, kind, "Zählung05b")
    assert _count(client, short_list) == 11   # a page that is not full is the whole list
    assert _count(client, long_list) == 30    # still the cached count for up to COUNT_CACHE_SECONDS …
    assert _count(client, long_list + "&page_PartnerView=1") == 31  # … but the last page knows better
    monkeypatch.setattr(interface.count_cache, "seconds", 0.0)
    assert _count(client, long_list) == 31    # after the time-out: counted again


def test_counts_are_per_user_and_unit(ctx, client, thirty, factory):
    partners, kind = thirty
    for i in range(27):  # a full first page in the other unit too, so its count is not settled by the rows
        factory("partner", "sued", kind=kind, surname=f"Zählung-Süd{i:02d}")
    url = "/partner/list/?_flt_0_surname=Zählung"
    other = login(ctx.test_client(), "sachbearbeitung_sued")  # first: a login writes (and flushes) the user
    g.pop("_login_user", None)  # else the next login page sees this user signed in, in this app context
    g.pop("user", None)
    login(client, "sachbearbeitung_nord")
    assert _count(client, url) == 30
    assert _count(other, url) == 27


@pytest.mark.parametrize("cached, page, shown, expected", [
    (40, None, 25, 40),    # a full first page: the cached count stands
    (40, None, 7, 7),      # not full: that is all there is
    (20, 1, 25, 50),       # a full second page proves at least 50
    (60, 2, 3, 53),        # the last page, exactly
    (60, 5, 0, 60),        # beyond the end: nothing to learn
    (0, None, 0, 0),
])
def test_settled(cached, page, shown, expected):
    assert _settled(cached, page, 25, shown) == expected


def test_a_request_that_writes_nothing_keeps_the_counts(client, thirty):
    # The end of every request's transaction once emptied the counts (an import's COPY marker, empty, was
    # read as "any table"): every list counted again and the cache never answered.
    partners, kind = thirty
    login(client, "sachbearbeitung_nord")
    url = "/partner/list/?_flt_0_surname=Zählung"
    _count(client, url)
    calls = []
    real = interface.count_cache.get
    interface.count_cache.get = lambda key, compute: real(key, lambda: calls.append(key) or compute())
    from app.extensions import db
    try:
        for _ in range(2):
            db.session.rollback()  # as at the end of a request under a WSGI server: the transaction ends
            assert _count(client, url) == 30
    finally:
        interface.count_cache.get = real
    assert calls == []
