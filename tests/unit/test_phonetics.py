"""Kölner Phonetik and the duplicate score: the table the weights are tuned on (no DB, no app)."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.phonetics import WARN_SCORE, birth_dates_near, duplicate_score, name_similarity, phonetic

BORN = date(1970, 2, 1)
OTHER = date(1985, 7, 15)


@pytest.mark.parametrize(("name", "code"), [
    ("Meier", "67"),                      # ei, ay, ai and ey all sound alike
    ("Mayer", "67"),
    ("Maier", "67"),
    ("Meyer", "67"),
    ("Schmidt", "862"),                   # dt and tt are one T sound
    ("Schmitt", "862"),
    ("Müller", "657"),                    # umlaut, spelt-out umlaut and plain u give one code
    ("Mueller", "657"),
    ("Muller", "657"),
    ("Müllr", "657"),                     # a dropped vowel changes nothing
    ("Müller-Lüdenscheidt", "657 52682"),  # each word of a double name keeps its own code
    ("van der Berg", "36 27 174"),
    ("Özdemir", "08267"),
    ("Oezdemir", "08267"),
    ("", ""),                             # empty names have no code (and never match each other)
    ("   ", ""),
    (None, ""),
], ids=lambda v: repr(v))
def test_phonetic(name, code):
    assert phonetic(name) == code


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Müller", "MÜLLER", 1.0),            # case does not matter
    ("Müller", "Mueller", 1.0),           # spelt-out umlaut is the same spelling
    ("Meier", "Mayer", 0.95),             # sounds alike
    ("Hans", "Hnas", 0.85),               # two letters swapped: one typo
    ("Müller", "Müller-Lüdenscheidt", 0.85),  # one part of a double name
    ("Hans", "", None),                   # empty is unknown, not different
    ("Hans", None, None),
], ids=["case", "umlaut", "sound", "typo", "double-name", "empty", "none"])
def test_name_similarity(a, b, expected):
    assert name_similarity(a, b) == expected


def test_different_names_stay_apart():
    assert name_similarity("Hans", "Peter") < 0.3
    assert name_similarity("Müller", "Schulz") < 0.3


# (surname, first name, birth date) of the new record, of the existing one, warn?, reason
CASES = [
    (("Meier", "Hans", BORN), ("Mayer", "Hans", BORN), True, "Meier/Mayer sound alike"),
    (("Meier", "Hans", BORN), ("Maier", "Hans", BORN), True, "Meier/Maier sound alike"),
    (("Meier", "Hans", None), ("Maier", "Hans", None), True, "sounds alike, no birth date known"),
    (("Schmidt", "Anna", BORN), ("Schmitt", "Anna", BORN), True, "dt/tt"),
    (("Müller", "Hans", BORN), ("Mueller", "Hans", BORN), True, "spelt-out umlaut"),
    (("Müller", "Hans", BORN), ("Muller", "Hans", BORN), True, "umlaut dropped"),
    (("Müllr", "Hans", BORN), ("Müller", "Hans", BORN), True, "typo in the surname"),
    (("Müller", "Hnas", BORN), ("Müller", "Hans", BORN), True, "typo in the first name"),
    (("Hoffmann", "Klaus", BORN), ("Hofmann", "Claus", BORN), True, "ff/f and K/C"),
    (("Hans", "Müller", BORN), ("Müller", "Hans", BORN), True, "surname and first name swapped"),
    (("Hans", "Müller", None), ("Müller", "Hans", None), False, "swapped and no birth date: too vague"),
    (("Müller", "Hans", BORN), ("Müller", "Hans", OTHER), False, "same name, other birth date: other person"),
    (("Müller", "Hans", BORN), ("Müller", "Hans", date(1970, 1, 2)), True, "day and month swapped"),
    (("Müller", "Hans", BORN), ("Müller", "Hans", date(1907, 2, 1)), True, "two digits of the year swapped"),
    (("Müller", "Hans", BORN), ("Müller", "Hans", None), True, "same name, birth date missing on one side"),
    (("Müller-Lüdenscheidt", "Hans", BORN), ("Müller", "Hans", BORN), True, "double name and its first part"),
    (("Müller-Lüdenscheidt", "Hans", None), ("Müller", "Hans", None), False, "double name without birth date"),
    (("Meier", "Hans", BORN), ("Meier", "Hans-Peter", BORN), True, "second first name added"),
    (("Müller", "", BORN), ("Müller", "Hans", BORN), True, "first name left empty, birth date equal"),
    (("Müller", None, None), ("Müller", "Hans", None), False, "first name and birth date unknown: too vague"),
    (("Müller", "Hans", BORN), ("Müller", "Peter", BORN), False, "twins Hans and Peter"),
    (("Müller", "Hans", BORN), ("Müller", "Hannah", BORN), False, "twins Hans and Hannah"),
    (("Kowalski", "Jan", BORN), ("Kowalski", "Jana", BORN), False, "twins: male and female form"),
    (("Schulz", "Christian", BORN), ("Schulz", "Christiane", BORN), False, "twins: Christian and Christiane"),
    (("Müller", "Hans", BORN), ("Schulz", "Hans", BORN), False, "same first name and birthday only"),
    (("Schneider", "Anna", BORN), ("Schreiber", "Anna", BORN), False, "two letters apart are two families"),
    (("", "", BORN), ("Müller", "Hans", BORN), False, "nothing but the birth date"),
]


@pytest.mark.parametrize(("new", "existing", "warns"), [c[:3] for c in CASES], ids=[c[3] for c in CASES])
def test_duplicate_score_warns(new, existing, warns):
    score = duplicate_score(*new, *existing)
    assert (score >= WARN_SCORE) is warns, score
    assert 0 <= score <= 100


@pytest.mark.parametrize(("new", "existing"), [c[:2] for c in CASES], ids=[c[3] for c in CASES])
def test_duplicate_score_is_symmetric(new, existing):
    # Whether the clerk types the new or the old spelling must not change the warning.
    assert duplicate_score(*new, *existing) == duplicate_score(*existing, *new)


def test_identical_partners_score_100():
    assert duplicate_score("Meier", "Hans", BORN, "Meier", "Hans", BORN) == 100


@pytest.mark.parametrize(("a", "b", "near"), [
    (BORN, date(1970, 2, 1), False),      # equal is equal, not a typo
    (BORN, date(1971, 2, 1), True),       # one digit
    (BORN, date(1970, 1, 2), True),       # day and month swapped
    (BORN, date(1907, 2, 1), True),       # neighbouring digits swapped
    (BORN, OTHER, False),
    (date(1970, 3, 3), date(1970, 3, 3), False),  # day equals month: swapping them changes nothing
], ids=["equal", "one-digit", "day-month", "year-digits", "other", "equal-day-month"])
def test_birth_dates_near(a, b, near):
    assert birth_dates_near(a, b) is near
