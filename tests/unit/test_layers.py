"""The layers of docs/architektur.md hold: import-linter's contracts in pyproject.toml, checked on every run.

web > integrations > services > letters > metamodel > domain; domain without Flask/SQLAlchemy; services,
letters and imports without the web layer. The second test shows the check bites: the same contracts
over a copy of the package with one upward import added fail and name the import.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_import_contracts_are_kept():
    result = lint(ROOT, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_a_contract(tmp_path):
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__", "templates",
                                                                                    "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    records = tmp_path / "app" / "services" / "records.py"
    records.write_text(records.read_text() + "\nfrom ..web import menus  # noqa: E402,F401\n")
    result = lint(tmp_path, tmp_path)
    assert result.returncode != 0
    assert "app.services.records -> app.web.menus" in result.stdout
