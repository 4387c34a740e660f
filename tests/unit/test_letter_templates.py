"""The shipped templates: made reproducibly by scripts/make_letter_templates.py, and all pass the upload check."""
from __future__ import annotations

import importlib.util

import pytest

from app.letters.context import sample_context
from app.letters.render import render_docx, validate_template
from app.letters.versions import SHIPPED, SHIPPED_DIR
from tests.conftest import ROOT
from tests.unit.letter_docs import text_of


def _script():
    spec = importlib.util.spec_from_file_location("make_letter_templates", ROOT / "scripts" / "make_letter_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_templates_are_what_the_script_makes(tmp_path):
    script = _script()
    assert script.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{code}.docx" for code in SHIPPED)
    for code in SHIPPED:
        assert (tmp_path / f"{code}.docx").read_bytes() == (SHIPPED_DIR / f"{code}.docx").read_bytes(), code


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_shipped_template_passes_the_check_and_renders(code):
    data = (SHIPPED_DIR / f"{code}.docx").read_bytes()
    assert validate_template(data) == []
    text = text_of(render_docx(data, sample_context()))
    for expected in ("Herrn\nDr. Günther Wonlos\nc/o Maria Muster\nLagesche Str. 1\n33102 Paderborn",
                     "Sehr geehrter Herr Dr. Wonlos,", "Mein Zeichen\t27/92", "Datum\t03.11.2026",
                     "Auskunft erteilt\tHerr Supervisor", "Mit freundlichen Grüßen", "Max Supervisor",
                     "Stadt Paderborn · Rathausplatz 1 · 33098 Paderborn"):
        assert expected in text, (code, expected)
    assert "{{" not in text and "{%" not in text
