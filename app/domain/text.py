"""Text as the search compares it: one normal form for the lower-case search twins and what is typed."""
from __future__ import annotations


def normalise(text: str | None) -> str:
    """Blanks around removed, lower case: "  Meier " and "meier" find the same rows."""
    return (text or "").strip().lower()
