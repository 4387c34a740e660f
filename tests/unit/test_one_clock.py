"""No module reads the server's clock directly: every "today" and "now" comes from app/clock.py.

In a UTC container ``date.today()`` is still yesterday for the first hour or two of a Berlin day (issue #10,
finding 5); this test keeps the direct calls from coming back.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
DIRECT = re.compile(r"\bdate\.today\b|\bdatetime\.(?:now|utcnow|today)\b")


def test_no_direct_clock_calls_in_app():
    found = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == "clock.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if DIRECT.search(code):
                found.append(f"{path.relative_to(APP.parent)}:{number}: {line.strip()}")
    assert found == [], "Use app.clock (today/now/utcnow/now_naive) instead:\n" + "\n".join(found)


def test_no_direct_date_today_in_tests():
    # A test that compares with date.today() fails in the hour after Berlin's midnight, when the app's
    # today (Berlin) is already tomorrow in UTC terms (CI runs at any hour).
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "test_one_clock.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\bdate\.today\(\)", code):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "Use app.clock.today() instead:\n" + "\n".join(found)
