"""Field kinds: one registry entry per ``type:`` of the YAML (see ``base.py``; the kinds are in ``builtin.py``).

SQLAlchemy and WTForms may be used here; pure formatting lives in ``app/domain`` (``money``, ``dates``).
"""
from __future__ import annotations

from . import builtin  # noqa: F401  (registers the kinds)
from .base import (FieldKind, KindInfo, OPTION_LABELS, all_kinds, is_kind, kind_named, kind_names, kind_of,
                   plain_text, points_to, register)
from .builtin import format_iban
from .types import Money, render_item

__all__ = ["FieldKind", "KindInfo", "Money", "OPTION_LABELS", "all_kinds", "format_iban", "is_kind", "kind_named",
           "kind_names", "kind_of", "plain_text", "points_to", "register", "render_item"]
