"""URL rules that compile their URL builder on first use, not at start-up.

Werkzeug compiles two builder functions for every rule when the rule is added (``Rule.compile`` calls
``Rule._compile_builder`` for ``append_unknown`` False and True; each ``exec``s generated code). With 40
entities the app has ~690 rules, and that is 15 % of ``create_app()`` — yet a worker only ever builds URLs
for the few dozen endpoints its pages link to. Matching (the regex side) is untouched; only building is
deferred. Flask takes the class through its public ``Flask.url_rule_class``; the private werkzeug hook is
pinned by ``tests/unit/test_lazy_rules.py`` (a werkzeug upgrade that changes it fails there, not in use).
"""
from __future__ import annotations

import threading

from werkzeug.routing import Rule

_lock = threading.Lock()


class LazyBuilderRule(Rule):
    """A werkzeug ``Rule`` whose URL builders are compiled when the rule first builds a URL."""

    def _compile_builder(self, append_unknown: bool = True):
        compiled = None

        def build(rule: Rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                with _lock:
                    if compiled is None:
                        compiled = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
                        # From now on werkzeug calls the compiled builder itself, not this wrapper
                        # (``Rule.compile`` keeps the two builders in these attributes).
                        setattr(rule, "_build_unknown" if append_unknown else "_build", compiled)
            return compiled(*args, **kwargs)

        return build
