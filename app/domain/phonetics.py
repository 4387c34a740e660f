"""Kölner Phonetik and the duplicate score for partners.

Two records are likely the same person when their names sound alike in German (Kölner Phonetik:
Meier/Mayer/Maier, Schmidt/Schmitt) and the birth dates agree, or when the names are nearly equal
letter by letter (typos: Mülller, Muller). The score is 0–100; 80 and more is shown as a warning.
"""
from __future__ import annotations

from datetime import date

import cologne_phonetics
from rapidfuzz import fuzz

WARN_SCORE = 80


def phonetic(name: str | None) -> str:
    """Kölner Phonetik of a name: the codes of its words, space-separated ('' for empty)."""
    if not name or not name.strip():
        return ""
    return " ".join(code for _, code in cologne_phonetics.encode(name, concat=True) if code)


def first_code(name: str | None) -> str:
    """The code of the first word: the key the duplicate search looks up by index."""
    code = phonetic(name)
    return code.split(" ")[0] if code else ""


def _plain(text: str | None) -> str:
    return (text or "").strip().lower()


def duplicate_score(surname_a: str | None, first_a: str | None, birth_a: date | None,
                    surname_b: str | None, first_b: str | None, birth_b: date | None) -> int:
    """How likely two partners are one person (0–100).

    1. Names count 70 points: the better of sound (Kölner Phonetik) and spelling (edit similarity).
    2. Birth dates count 30 points when both are known and equal; one swapped digit still gives 15.
    3. Known, clearly different birth dates cap the score below the warning threshold.
    """
    spelled = (fuzz.ratio(_plain(surname_a), _plain(surname_b)) * 0.6
               + fuzz.ratio(_plain(first_a), _plain(first_b)) * 0.4)
    sounds = 0.0
    if phonetic(surname_a) and phonetic(surname_a) == phonetic(surname_b):
        sounds = 60.0
        if phonetic(first_a) and phonetic(first_a) == phonetic(first_b):
            sounds = 100.0
        elif first_a and first_b:
            sounds += fuzz.ratio(_plain(first_a), _plain(first_b)) * 0.4
    names = max(spelled, sounds) * 0.7
    if birth_a and birth_b:
        if birth_a == birth_b:
            return round(names + 30)
        if fuzz.ratio(birth_a.isoformat(), birth_b.isoformat()) >= 80:
            return round(names + 15)
        return min(round(names), WARN_SCORE - 1)
    return round(names + 10)
