"""A live Fachstelle server with demo data, and a headless Chromium to drive it (issue 3 §8).

The server runs as a subprocess (``fachstelle serve``) on its own temp instance dir, SQLite file,
migrations dir and a copy of ``config/``, so a test may edit the YAML and run ``fachstelle migrate``
exactly as an admin would. Screenshots go to ``test-artifacts/e2e/`` (git-ignored).
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.browser_helpers import field as labelled

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
FACHSTELLE = Path(sys.executable).with_name("fachstelle")
START_TIMEOUT = 60.0
# init refuses a weak admin password (#11); the demo accounts keep "demo" (exempt, not production accounts).
ADMIN_PASSWORD = "Fachstelle-Start-2026"
TIMEOUT_MS = 15_000  # generous: CI machines run other suites at the same time


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """One installation: its directories, its database and (while running) its server process."""

    root: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def db_path(self) -> Path:
        return self.root / "instance" / "e2e.db"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FACHSTELLE_", "FAB_"))}
        env.update(FACHSTELLE_INSTANCE_DIR=str(self.root / "instance"),
                   FACHSTELLE_DATABASE_URL=f"sqlite:///{self.db_path}",
                   FACHSTELLE_MIGRATIONS_DIR=str(self.root / "migrations"),
                   FACHSTELLE_CONFIG_DIR=str(self.config_dir),
                   PYTHONUNBUFFERED="1")
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run ``fachstelle ARGS`` against this installation; fail the test with its output on error."""
        result = subprocess.run([str(FACHSTELLE), *args], env=self.env(), cwd=self.root, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, f"fachstelle {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def start(self) -> None:
        log = open(self.root / "serve.log", "a")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([str(FACHSTELLE), "serve", "--port", str(self.port)], env=self.env(),
                                        cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Server beendet:\n{(self.root / 'serve.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)  # polling a socket, not waiting for the UI
        self.stop()
        raise RuntimeError(f"Server antwortet nicht:\n{(self.root / 'serve.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def query(self, sql: str, *params) -> list[tuple]:
        """Read the installation's database directly (to pick demo rows and find ids, never to assert UI)."""
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    if not FACHSTELLE.exists():
        pytest.skip(f"{FACHSTELLE} fehlt (Paket nicht installiert)")
    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(ROOT / "config", root / "config")
    (root / "migrations").mkdir()
    server = LiveServer(root)
    server.cli("init", "--admin-user", "admin", "--admin-password", ADMIN_PASSWORD)
    server.cli("demo")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Chromium fehlt (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so fixtures can tell whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def shoot():
    """Save a full-page screenshot as test-artifacts/e2e/NN-name.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


@pytest.fixture
def page_for(request, browser, live_server, shoot):
    """Log a user in on a fresh browser session (own cookies); closed after the test."""
    contexts = []
    csp_violations: list[str] = []  # #11: every walk-through also proves the pages run under the CSP

    def open_as(username: str, password: str | None = None, screenshot=None):
        if password is None:
            password = ADMIN_PASSWORD if username == "admin" else "demo"
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: csp_violations.append(f"{page.url}: {msg.text}")
                if "Content Security Policy" in msg.text else None)
        page.js_errors = errors
        page.csp_violations = csp_violations
        page.goto(f"{live_server.url}/login/")
        assert labelled(page, "Benutzername").evaluate("el => el === document.activeElement")
        labelled(page, "Benutzername").fill(username)
        labelled(page, "Passwort").fill(password)
        if screenshot:
            screenshot(page)
        labelled(page, "Passwort").press("Enter")  # Enter submits, as everywhere
        # The start page, not the login page again (whose URL ends in "/" too: a wrong password passed).
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield open_as
    failed = getattr(request.node, "report_call", None) is not None and request.node.report_call.failed
    for number, context in enumerate(contexts, start=1):
        if failed:
            for page in context.pages:
                shoot(page, f"99-fehler-{number}")
        context.close()
    assert not csp_violations, "Verstöße gegen die Content-Security-Policy:\n" + "\n".join(csp_violations)
