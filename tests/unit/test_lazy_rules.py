"""URL rules with lazily compiled builders (app/web/lazy_rules.py) build the same URLs as werkzeug's own."""
from __future__ import annotations

import pytest
from flask import Flask, url_for
from werkzeug.routing import Rule

from app.web.lazy_rules import LazyBuilderRule

RULES = [
    ("/partner/list/", "plain", {}, {}),
    ("/partner/show/<pk>", "show", {}, {"pk": "17"}),
    ("/api/v1/partner/<int:pk>", "api_get", {}, {"pk": 3}),
    ("/doc/<path:rest>", "path", {}, {"rest": "a b/ü"}),
    ("/case/<int:pk>/page/<name>", "with_default", {"name": "haushalt"}, {"pk": 5}),
    ("/list/", "unknown_args", {}, {"_flt_0_name": "mü", "page": 2}),
]


def _app(rule_class) -> Flask:
    app = Flask(__name__, static_folder=None)  # no eagerly compiled static rule
    app.url_rule_class = rule_class
    for path, endpoint, defaults, _ in RULES:
        app.add_url_rule(path, endpoint, lambda **kw: "", defaults=defaults or None)
    return app


@pytest.mark.parametrize("path,endpoint,defaults,values", RULES)
def test_lazy_rule_builds_what_werkzeug_builds(path, endpoint, defaults, values):
    urls = []
    for rule_class in (Rule, LazyBuilderRule):
        app = _app(rule_class)
        with app.test_request_context():
            urls.append((url_for(endpoint, **values), url_for(endpoint, _external=True, **values)))
    assert urls[0] == urls[1]


def test_lazy_rule_matches_like_werkzeug():
    app = _app(LazyBuilderRule)
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/api/v1/partner/42") == ("api_get", {"pk": 42})
    assert adapter.match("/case/5/page/haushalt") == ("with_default", {"pk": 5, "name": "haushalt"})


def test_builder_is_not_compiled_until_a_url_is_built(monkeypatch):
    calls = []
    real = Rule._compile_builder
    monkeypatch.setattr(Rule, "_compile_builder", lambda self, append_unknown=True: (
        calls.append(append_unknown), real(self, append_unknown))[1])
    app = _app(LazyBuilderRule)
    assert calls == []  # werkzeug's Rule.compile still goes through _compile_builder, and we deferred it
    with app.test_request_context():
        url_for("show", pk="1")
    assert len(calls) == 1  # one builder (url_for appends unknown values), for this one rule


def test_werkzeug_still_compiles_builders_through_the_hook(monkeypatch):
    """The private hook this module overrides: if werkzeug stops calling it, the deferral silently ends."""
    calls = []
    real = Rule._compile_builder
    monkeypatch.setattr(Rule, "_compile_builder", lambda self, append_unknown=True: (
        calls.append(append_unknown), real(self, append_unknown))[1])
    _app(Rule)
    assert sorted(set(calls)) == [False, True]


def test_compiled_builder_replaces_the_wrapper():
    """After the first URL, werkzeug calls the compiled builder directly (no wrapper call per URL)."""
    app = _app(LazyBuilderRule)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "show")
    wrapper = rule._build_unknown
    with app.test_request_context():
        first = url_for("show", pk="1")
        assert rule._build_unknown is not wrapper
        assert url_for("show", pk="1") == first == "/partner/show/1"
