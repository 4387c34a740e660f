"""Kölner Phonetik and the duplicate score for partners.

Two records are likely the same person when their names sound alike in German (Kölner Phonetik:
Meier/Mayer/Maier, Schmidt/Schmitt), are one typo apart (Müllr, Hnas), or one is part of the other
(Müller / Müller-Lüdenscheidt), and the birth dates agree. The score is 0–100; ``WARN_SCORE`` and more
is shown as a warning. The weights are tuned on the table in ``tests/unit/test_phonetics.py``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from datetime import date

import cologne_phonetics
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

WARN_SCORE = 80

# How alike two names are (0..1), by the strongest reason that holds.
SAME = 1.0
SOUNDS_ALIKE = 0.95  # Meier/Mayer: Kölner Phonetik codes equal
ONE_TYPO = 0.85      # Hnas/Hans: one letter wrong, missing, extra or two swapped (names of 4 letters and more)
PART_OF = 0.85       # Müller / Müller-Lüdenscheidt, van der Berg / Berg
OTHERWISE = 0.5      # anything else counts half its letter similarity: Hans/Hannah, Schneider/Schreiber differ

# Points (out of 100) that the birth dates add to the name points (out of 70).
NAME_POINTS = 70
BIRTH_EQUAL = 30
BIRTH_NEAR = 20      # one digit typed wrong, or day and month swapped
BIRTH_UNKNOWN = 12   # one side has no birth date: only names that sound alike still reach the threshold
SWAPPED = 0.95       # surname typed as first name and vice versa

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@lru_cache(maxsize=65536)  # names repeat (an import's placeholder clients all share one surname)
def phonetic(name: str | None) -> str:
    """Kölner Phonetik of a name: the code of each word (hyphens separate words), space-separated.

    '' for an empty name. 'Müller-Lüdenscheidt' gives '657 52682', so a look-up by the first word's
    code still finds the double name.
    """
    if not name or not name.strip():
        return ""
    return " ".join(code for _, code in cologne_phonetics.encode(name) if code)


def _plain(text: str | None) -> str:
    """Lower case, umlauts spelt out, only letters and single spaces (Müller-Lüdenscheidt -> mueller luedenscheidt)."""
    text = (text or "").strip().lower().translate(_UMLAUTS)
    return " ".join(re.findall(r"[^\W\d_]+", text))


def name_similarity(a: str | None, b: str | None) -> float | None:
    """How alike two names are (0..1); None when either is empty (unknown, not different).

    1. Equal spelling (ignoring case, umlauts and hyphens) is 1.0.
    2. Equal Kölner Phonetik is 0.95; one word of a double name equal to the other name is 0.85.
    3. One typo (OSA edit distance 1, four letters and more) is 0.85.
    4. Otherwise half the letter similarity, so different names stay well apart.
    """
    pa, pb = _plain(a), _plain(b)
    if not pa or not pb:
        return None
    if pa == pb:
        return SAME
    codes_a, codes_b = phonetic(a).split(), phonetic(b).split()
    if codes_a and codes_a == codes_b:
        return SOUNDS_ALIKE
    scores = [OTHERWISE * fuzz.ratio(pa, pb) / 100]
    words_a, words_b = set(pa.split()), set(pb.split())
    if (words_a < words_b or words_b < words_a
            or (codes_a and codes_b and (set(codes_a) < set(codes_b) or set(codes_b) < set(codes_a)))):
        scores.append(PART_OF)
    if OSA.distance(pa, pb) == 1 and min(len(pa), len(pb)) >= 4:
        scores.append(ONE_TYPO)
    return max(scores)


def is_other_sex_form(a: str | None, b: str | None) -> bool:
    """Jan/Jana, Paul/Paula, Christian/Christiane: the male and female form of a first name (twins differ so)."""
    pa, pb = _plain(a), _plain(b)
    short, long_ = sorted((pa, pb), key=len)
    return bool(short) and long_ in (short + "a", short + "e")


def _names(surname_a, first_a, surname_b, first_b) -> float:
    surname = name_similarity(surname_a, surname_b) or 0.0
    first = name_similarity(first_a, first_b)
    if first is not None and is_other_sex_form(first_a, first_b):
        first = 0.0  # Jan and Jana with one birth date are twins, not a typo
    if first is None:
        # An empty first name is unknown: it neither confirms nor contradicts.
        return surname * 0.9
    return (surname + first) / 2


def birth_dates_near(a: date, b: date) -> bool:
    """One digit typed wrong (01.02.1971), two neighbours swapped (01.02.1907), or day and month swapped."""
    if a == b:
        return False
    if OSA.distance(a.strftime("%d%m%Y"), b.strftime("%d%m%Y")) == 1:
        return True
    return a.year == b.year and a.day == b.month and a.month == b.day


def duplicate_score(surname_a: str | None, first_a: str | None, birth_a: date | None,
                    surname_b: str | None, first_b: str | None, birth_b: date | None) -> int:
    """How likely two partners are one person (0–100); ``WARN_SCORE`` and more warns.

    1. Names count 70 points: surname and first name half each (``name_similarity``); an empty first
       name counts as unknown. Surname and first name swapped count almost as much as in order.
    2. Equal birth dates add 30, a typo in the date 20, a missing date 12.
    3. Known, clearly different birth dates never warn: same names, other person.
    """
    names = _names(surname_a, first_a, surname_b, first_b)
    if all((surname_a, first_a, surname_b, first_b)):
        names = max(names, SWAPPED * _names(surname_a, first_a, first_b, surname_b))
    points = names * NAME_POINTS
    if birth_a and birth_b:
        if birth_a == birth_b:
            return round(points + BIRTH_EQUAL)
        if birth_dates_near(birth_a, birth_b):
            return round(points + BIRTH_NEAR)
        return min(round(points), WARN_SCORE - 1)
    return round(points + BIRTH_UNKNOWN)
