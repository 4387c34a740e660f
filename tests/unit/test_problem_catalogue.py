"""One id, one meaning: every problem id written in app/ is in the catalogue, every catalogued id is used,
and docs/spec-checks.md is the page the catalogue generates."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import problems_doc
from app.problem_catalogue import AREAS, RESERVED
from app.problems import CATALOGUE, Level, ProblemType, register

APP = Path(__file__).resolve().parents[2] / "app"
ID = re.compile(r"\b[a-z]+\.[EW]\d{3}\b")
DEFINITIONS = {APP / "problem_catalogue.py", APP / "problems.py"}  # the list, and examples in docstrings


def ids_in_code() -> dict[str, set[str]]:
    """Every id written in app/ (outside the catalogue itself) -> the files that write it."""
    found: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        if path in DEFINITIONS:
            continue
        for match in ID.findall(path.read_text(encoding="utf-8")):
            found.setdefault(match, set()).add(str(path.relative_to(APP.parent)))
    return found


def test_every_id_in_the_code_is_registered():
    unregistered = {i: files for i, files in ids_in_code().items() if i not in CATALOGUE}
    assert unregistered == {}


def test_every_registered_id_is_used():
    unused = sorted(set(CATALOGUE) - set(ids_in_code()) - RESERVED)
    assert unused == []


def test_reserved_ids_are_registered_and_not_yet_used_elsewhere():
    # An id in RESERVED that the code now writes must leave RESERVED (and this test says so).
    assert RESERVED <= set(CATALOGUE)
    assert sorted(RESERVED & set(ids_in_code())) == []


def test_ids_follow_their_level_and_area():
    for kind in CATALOGUE.values():
        assert kind.area in AREAS, kind
        assert (kind.level is Level.WARNING) == (kind.id.split(".")[1][0] == "W"), kind
        assert kind.title.strip(), kind


def test_an_id_cannot_get_a_second_meaning():
    existing = CATALOGUE["spec.E014"]
    with pytest.raises(ValueError, match="spec.E014"):
        register(ProblemType("spec.E014", existing.area, "Zahl ist zu klein"))
    assert CATALOGUE["spec.E014"] == existing


def test_the_committed_page_is_generated_from_the_catalogue():
    committed = problems_doc.DOC_PATH.read_text(encoding="utf-8")
    assert committed == problems_doc.render(), "docs/spec-checks.md veraltet: 'fachstelle problems-doc' ausführen"
    for kind in CATALOGUE.values():
        assert f"| `{kind.id}` |" in committed
