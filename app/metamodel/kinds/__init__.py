"""Field kinds: one registry entry per ``type:`` of the YAML (see ``base.py``; the kinds are in ``text.py``,
``numeric.py``, ``values.py`` and ``references.py``).

SQLAlchemy and WTForms may be used here; pure formatting lives in ``app/domain`` (``money``, ``dates``).
"""
from __future__ import annotations

# Importing the modules registers their kinds, in this order (the order of the spec's "Erlaubt: …" list).
from . import text  # noqa: F401,I001
from . import numeric  # noqa: F401
from . import values  # noqa: F401
from . import references  # noqa: F401
from .base import (FieldKind, KindInfo, OPTION_LABELS, all_kinds, is_kind, kind_named, kind_names, kind_of,
                   plain_text, points_to, register)
from .text import format_iban
from .types import Money, render_item

__all__ = ["FieldKind", "KindInfo", "Money", "OPTION_LABELS", "all_kinds", "format_iban", "is_kind", "kind_named",
           "kind_names", "kind_of", "plain_text", "points_to", "register", "render_item"]
