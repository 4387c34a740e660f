"""Load benchmark: gunicorn with 4 workers on PostgreSQL, N simulated clerks over HTTP on 127.0.0.1.

    python -m bench.load                                  # 20 and 50 clerks, 60 s each, HEAD against 58a6444
    python -m bench.load --clerks 5 --seconds 10 --size small --compare-ref none     # a quick look

For every code under test (the working tree = HEAD, and ``--compare-ref`` checked out into a temporary
``git worktree`` with its own venv) it prepares its own PostgreSQL database (``fachstelle init`` of that
code, then ``bench/load_seed.py``: demo data of ``--size``, clerk accounts spread over the org units),
starts ``python -m gunicorn -w 4 app.wsgi:app`` bound to 127.0.0.1 on a free port and lets the clerks
work: each logs in with its own session cookie and CSRF token and loops over a weighted mix of the
partner list, a case file, a "beginnt mit" search, a type-ahead look-up and saving a documentation entry
through the add form (fields read from the served form). Reported per clerk count: requests, throughput,
p50/p95/p99 per request kind, errors, and lost writes: every saved entry carries a unique marker in its
short info; afterwards the database must hold each marker exactly once.

Bounded: fixed duration and ``--max-requests`` per run; gunicorn is stopped at the end, also on Ctrl-C
or an exception. Only 127.0.0.1 is used (the server's bind, the clients, the database host).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_load"
DEFAULT_REF = "58a6444"          # the commit before issue #10
LOOPBACK = "127.0.0.1"
SIZES = {"small": (2_000, 3_000), "medium": (20_000, 30_000), "city": (200_000, 300_000)}
WORKERS = 4
# What a clerk does, with its weight; "save" opens the add form, looks up a service, then posts.
DEFAULT_MIX = "list=20,case=30,search=20,lookup=15,save=15"
KINDS = {"list": "Partnerliste", "case": "Fallakte", "search": "Suche „beginnt mit“",
         "lookup": "Typeahead-Suche", "form": "Eintragsformular öffnen", "save": "Eintrag speichern",
         "all": "alle"}
ENTRY_ENTITY = "doc_entry"       # the entity whose add form the clerks save
MARKER_FIELD = "info"            # the form field (and column) that carries the marker
MARKER_PREFIX = "LOAD-"
# An error the app shows as a page (fachstelle/error.html) or a flash of the "danger" kind.
ERROR_PAGE = re.compile(r'class="alert alert-(?:danger|warning)" role="alert">\s*<h3>|class="alert alert-danger"')


# --- pure parts (tested in tests/unit/test_load_bench.py) -----------------------------------------------

def parse_mix(text: str) -> list[tuple[str, float]]:
    """``"list=20,case=30"`` → ``[("list", 20.0), ("case", 30.0)]``; unknown kinds and bad weights refused."""
    choosable = [k for k in KINDS if k not in ("form", "all")]
    mix: list[tuple[str, float]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, weight = part.partition("=")
        name = name.strip()
        if name not in choosable:
            raise ValueError(f"Unbekannte Anfrageart „{name}“ in --mix (möglich: {', '.join(choosable)})")
        if any(name == n for n, _ in mix):
            raise ValueError(f"Anfrageart „{name}“ steht zweimal in --mix")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise ValueError(f"Gewicht „{weight}“ von „{name}“ in --mix ist keine Zahl") from None
        if value < 0 or value != value or value == float("inf"):
            raise ValueError(f"Gewicht von „{name}“ in --mix muss eine Zahl ≥ 0 sein")
        mix.append((name, value))
    if not mix or sum(w for _, w in mix) <= 0:
        raise ValueError("--mix nennt keine Anfrageart mit einem Gewicht > 0")
    return mix


def percentile(samples: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1; p95 of 40 samples is the 38th smallest), None if empty."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = -(-q * len(ordered) // 1)          # ceil without float surprises for whole numbers
    return ordered[max(0, int(rank) - 1)]


@dataclass
class WriteCheck:
    """Saved entries against the database: what the clerks were told was saved, and what is there."""
    confirmed: int           # saves the server answered with a redirect (saved)
    unconfirmed: int         # saves that failed or timed out on the client side
    missing: list[str]       # confirmed, but not in the database: lost writes
    duplicated: list[str]    # in the database more than once
    unconfirmed_stored: int  # failed on the client side but stored anyway (not lost; the clerk would retry)
    unknown: list[str]       # in the database with this run's prefix but never sent

    @property
    def lost(self) -> int:
        return len(self.missing) + len(self.duplicated)


def account_writes(confirmed: list[str], unconfirmed: list[str], found: dict[str, int]) -> WriteCheck:
    """Compare the client's markers with ``found`` (marker → number of rows holding it in the database)."""
    sent = set(confirmed) | set(unconfirmed)
    return WriteCheck(
        confirmed=len(confirmed), unconfirmed=len(unconfirmed),
        missing=sorted(m for m in confirmed if found.get(m, 0) == 0),
        duplicated=sorted(m for m, n in found.items() if n > 1),
        unconfirmed_stored=sum(1 for m in set(unconfirmed) if found.get(m, 0) > 0),
        unknown=sorted(m for m in found if m not in sent))


class FormParser(HTMLParser):
    """The fields of the first POST form with a ``csrf_token``: inputs, selects (options, type-ahead
    endpoint), text areas, and which are required (``required`` or FAB's red asterisk in the label)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None
        self._label_for: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "fields": [], "required": set()}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "label":
            self._label_for = a.get("for")
        elif tag == "strong" and self._label_for and "red" in a.get("style", ""):
            self._form["required"].add(self._label_for)
        elif tag == "input" and a.get("name"):
            self._add({"tag": "input", "name": a["name"], "type": a.get("type", "text").lower(),
                       "value": a.get("value", ""), "checked": "checked" in a, "class": a.get("class", ""),
                       "id": a.get("id", "")}, a)
        elif tag == "select" and a.get("name"):
            self._select = {"tag": "select", "name": a["name"], "options": [], "id": a.get("id", ""),
                            "endpoint": a.get("data-endpoint", ""), "class": a.get("class", "")}
            self._add(self._select, a)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"tag": "textarea", "name": a["name"], "value": "", "id": a.get("id", "")}
            self._add(self._textarea, a)

    def _add(self, f: dict, attrs: dict) -> None:
        self._form["fields"].append(f)
        if "required" in attrs:
            self._form["required"].add(f.get("id") or f["name"])

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "label":
            self._label_for = None
        elif tag == "select":
            self._select, self._option = None, None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            if self._textarea is not None:
                # WTForms writes a line break before the content; a browser drops it.
                value = self._textarea["value"]
                self._textarea["value"] = value[2:] if value.startswith("\r\n") else value.removeprefix("\n")
            self._textarea = None

    def post_form(self) -> dict | None:
        """The page's record form: the POST form with a token and the most fields. Small POST forms with a
        token stand on many pages since #11 (the user menu's sign-out, the "Brief erzeugen" button in the
        flash of the previous save) and come before it."""
        candidates = [form for form in self.forms
                      if form["method"] == "post" and not form["action"].rstrip("/").endswith("/logout")
                      and any(f["name"] == "csrf_token" for f in form["fields"])]
        return max(candidates, key=lambda form: len(form["fields"]), default=None)


def parse_form(html: str) -> dict | None:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.post_form()


def is_required(form: dict, f: dict) -> bool:
    return (f.get("id") or f["name"]) in form["required"] or f["name"] in form["required"]


def fill_form(form: dict, marker: str, lookup, rng: random.Random, today: str) -> list[tuple[str, str]]:
    """The pairs a clerk posts: the served defaults (hidden fields, CSRF token, dates, the selected user),
    the marker in ``MARKER_FIELD``, a text for empty text areas, and for a required empty type-ahead
    select one of ``lookup(endpoint)``'s ids (as the clerk picks from the drop-down)."""
    pairs: list[tuple[str, str]] = []
    names = {f["name"] for f in form["fields"]}
    if MARKER_FIELD not in names:
        raise ValueError(f"Das Formular hat kein Feld „{MARKER_FIELD}“ (Felder: {', '.join(sorted(names))})")
    for f in form["fields"]:
        name, required = f["name"], is_required(form, f)
        if f["tag"] == "input":
            kind = f["type"]
            if kind in ("submit", "button", "reset", "file", "image"):
                continue
            if kind in ("checkbox", "radio"):
                if f["checked"]:
                    pairs.append((name, f["value"] or "y"))
                continue
            value = f["value"]
            if name == MARKER_FIELD:
                value = marker
            elif not value and required:
                value = today if "fs-date" in f["class"] else "Lasttest"
            pairs.append((name, value))
        elif f["tag"] == "textarea":
            pairs.append((name, f["value"] or "Lasttest: Gespräch mit der Klientin/dem Klienten geführt."))
        else:  # select
            chosen = next((o["value"] for o in f["options"] if o["selected"]), None)
            real = [o["value"] for o in f["options"] if o["value"] not in (None, "", "__None")]
            if chosen is None and required:
                if f["endpoint"]:
                    ids = lookup(f["endpoint"])
                    if not ids:
                        raise ValueError(f"Die Suche {f['endpoint']} für das Pflichtfeld „{name}“ fand nichts")
                    chosen = str(rng.choice(ids))
                elif real:
                    chosen = real[0]
            if chosen is None:
                chosen = "" if f["endpoint"] or not f["options"] else (f["options"][0]["value"] or "")
            pairs.append((name, chosen))
    return pairs


def form_problems(html: str) -> str:
    """The German messages of a form shown again after a failed save (help blocks, alerts), one line."""
    texts = re.findall(r'<span class="help-block">\s*([^<]+?)\s*</span>', html)
    texts += re.findall(r'class="alert alert-danger"[^>]*>(?:\s*<button[^>]*>[^<]*</button>)?\s*([^<]+?)\s*<', html)
    return "; ".join(dict.fromkeys(t for t in texts if t.strip()))[:300] or "Formular erneut angezeigt"


def summarise(samples: list[tuple[str, float, bool]], seconds: float) -> dict:
    """Per kind and overall: requests, errors, p50/p95/p99 in ms; overall throughput per second."""
    by_kind: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for kind, ms, ok in samples:
        by_kind[kind].append((ms, ok))
        by_kind["all"].append((ms, ok))
    out = {}
    for kind, rows in by_kind.items():
        times = [ms for ms, _ in rows]
        out[kind] = {"requests": len(rows), "errors": sum(1 for _, ok in rows if not ok),
                     "p50_ms": percentile(times, 0.50), "p95_ms": percentile(times, 0.95),
                     "p99_ms": percentile(times, 0.99),
                     "per_second": len(rows) / seconds if seconds > 0 else 0.0}
    return out


# --- HTTP clerk -------------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int | None
    body: str
    location: str
    ms: float
    failure: str = ""        # connection problem or timeout


class Budget:
    """At most ``limit`` requests in all threads together."""

    def __init__(self, limit: int):
        self.left = limit
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


@dataclass
class ClerkLog:
    samples: list[tuple[str, float, bool]] = field(default_factory=list)   # started in the measured window
    completed: int = 0                                                      # finished in it (throughput)
    errors: Counter = field(default_factory=Counter)                        # (kind, reason) → count
    confirmed: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)


class Clerk:
    """One clerk: own connection (keep-alive where the server allows it), own cookies and CSRF token."""

    def __init__(self, port: int, account: dict, cases: list[int], prefixes: list[str], run_id: str,
                 number: int, rng: random.Random, timeout: float):
        self.port, self.account, self.cases, self.prefixes = port, account, cases, prefixes
        self.run_id, self.number, self.rng, self.timeout = run_id, number, rng, timeout
        self.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.log = ClerkLog()
        self.saves = 0
        self.measuring = False
        self.deadline = float("inf")

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> Answer:
        headers = {"User-Agent": "fachstelle-load", "Accept": "text/html,application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            return Answer(None, "", "", (time.perf_counter() - started) * 1000,
                          failure=f"{exc.__class__.__name__}: {exc}"[:120] or exc.__class__.__name__)
        ms = (time.perf_counter() - started) * 1000
        for header in response.msg.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        return Answer(response.status, data.decode("utf-8", "replace"), response.getheader("Location", ""), ms)

    def _record(self, kind: str, answer: Answer, ok: bool, reason: str = "") -> None:
        if self.measuring:
            self.log.samples.append((kind, answer.ms, ok))
            if time.monotonic() <= self.deadline:
                self.log.completed += 1
        if not ok:   # errors of the warm-up count too
            self.log.errors[(kind, reason)] += 1

    def get(self, kind: str, path: str) -> Answer | None:
        answer = self.request("GET", path)
        reason = _get_problem(answer)
        self._record(kind, answer, not reason, reason)
        return None if reason else answer

    def login(self) -> None:
        page = self.request("GET", "/login/")
        form = parse_form(page.body) if page.status == 200 else None
        if form is None:
            raise RuntimeError(f"Anmeldeseite nicht erreichbar ({page.status} {page.failure})")
        token = next(f["value"] for f in form["fields"] if f["name"] == "csrf_token")
        answer = self.request("POST", "/login/", [("csrf_token", token), ("username", self.account["username"]),
                                                  ("password", self.account["password"])])
        if answer.status != 302 or "/login" in urlsplit(answer.location).path:
            raise RuntimeError(f"Anmeldung als {self.account['username']} fehlgeschlagen ({answer.status})")

    def act(self, kind: str, budget: Budget, today: str) -> None:
        rng = self.rng
        if kind == "list":
            self.get("list", "/partner/list/")
        elif kind == "case":
            self.get("case", f"/case/show/{rng.choice(self.cases)}")
        elif kind == "search":
            self.get("search", f"/partner/list/?_flt_0_surname={quote(rng.choice(self.prefixes))}")
        elif kind == "lookup":
            self.get("lookup", f"/typeahead/partner?q={quote(rng.choice(self.prefixes))}")
        elif kind == "save":
            self.save(budget, today)

    def save(self, budget: Budget, today: str) -> None:
        """Open the add form of a documentation entry of one of the unit's cases, fill it, post it."""
        if budget.left < 3:   # form, look-up, post: not started when it cannot be finished
            return
        add = f"/{ENTRY_ENTITY.replace('_', '-')}/add?_flt_0_case={self.rng.choice(self.cases)}"
        page = self.get("form", add)
        if page is None:
            return
        form = parse_form(page.body)
        if form is None:
            self._record("form", page, False, "kein Formular mit csrf_token")
            return

        def lookup(endpoint: str) -> list:
            if not budget.take():
                return []
            answer = self.get("lookup", f"{endpoint}?q=")
            try:
                return [row["id"] for row in json.loads(answer.body)["results"]] if answer else []
            except (ValueError, KeyError, TypeError):
                return []

        self.saves += 1
        marker = f"{MARKER_PREFIX}{self.run_id}-{self.number:02d}-{self.saves:05d}"
        try:
            pairs = fill_form(form, marker, lookup, self.rng, today)
        except ValueError as exc:
            self._record("form", page, False, str(exc)[:120])
            return
        if not budget.take():
            return
        action = form["action"] or add
        answer = self.request("POST", action, pairs)
        target = urlsplit(answer.location).path
        if answer.status == 302 and "/login" not in target and not target.endswith("/add"):
            self.log.confirmed.append(marker)
            self._record("save", answer, True)
            return
        self.log.unconfirmed.append(marker)
        reason = answer.failure or (f"Status {answer.status}: {form_problems(answer.body)}"
                                    if answer.status == 200 else f"Status {answer.status} {target}".strip())
        self._record("save", answer, False, reason[:160])

    def run(self, mix, start_measuring: float, deadline: float, budget: Budget, stop: threading.Event,
            today: str) -> None:
        kinds, weights = [k for k, _ in mix], [w for _, w in mix]
        self.deadline = deadline
        while not stop.is_set():
            now = time.monotonic()
            if now >= deadline:
                return
            self.measuring = now >= start_measuring
            if not budget.take():
                return
            self.act(self.rng.choices(kinds, weights)[0], budget, today)


def _get_problem(answer: Answer) -> str:
    if answer.failure:
        return answer.failure
    if answer.status != 200:
        return f"Status {answer.status}" + (f" → {urlsplit(answer.location).path}" if answer.location else "")
    if ERROR_PAGE.search(answer.body):
        return "Fehlerseite/Fehlermeldung: " + form_problems(answer.body)[:120]
    return ""


# --- the code under test: tree, venv, database, gunicorn ----------------------------------------------------

@dataclass
class Target:
    label: str              # "HEAD" or the reference
    rev: str                # commit (short)
    tree: Path
    python: Path
    db_url: str
    home: Path              # instance and migrations of this target
    note: str = ""
    seed: dict = field(default_factory=dict)
    server: subprocess.Popen | None = None
    port: int = 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def require_loopback_db(url: str) -> None:
    from sqlalchemy.engine import make_url
    host = make_url(url).host
    if host not in (None, "", "127.0.0.1", "localhost"):
        raise SystemExit(f"--db-url: nur 127.0.0.1 ist erlaubt, nicht „{host}“")


def database_for(base_url: str, suffix: str) -> str:
    from sqlalchemy.engine import make_url
    url = make_url(base_url)
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def _admin_engine(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def fresh_database(url: str, reuse: bool) -> None:
    """Create the database if needed; without ``reuse`` empty its schema."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    name = make_url(url).database
    if not re.fullmatch(r"[a-z0-9_]+", name or ""):
        raise SystemExit(f"Datenbankname „{name}“: nur a–z, 0–9 und _")
    admin = _admin_engine(url)
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if not reuse:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def target_env(target: Target, secret: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FACHSTELLE_", "FAB_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update({"FACHSTELLE_DATABASE_URL": target.db_url, "FACHSTELLE_INSTANCE_DIR": str(target.home / "instance"),
                "FACHSTELLE_MIGRATIONS_DIR": str(target.home / "migrations"), "FACHSTELLE_SECRET_KEY": secret,
                "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def prepare_target(target: Target, size: str, clerks: int, reuse: bool) -> None:
    """``fachstelle init`` of the target's own code, then its demo data and clerks (bench/load_seed.py)."""
    (target.home / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
    (target.home / "instance").mkdir(parents=True, exist_ok=True)
    if not reuse:
        shutil.rmtree(target.home / "migrations" / "versions")
        (target.home / "migrations" / "versions").mkdir()
    fresh_database(target.db_url, reuse)
    env = target_env(target, "prepare")
    started = time.perf_counter()
    log(f"[{target.label}] fachstelle init …")
    subprocess.run([str(target.python), "-c", "import sys; from app.cli import main; sys.exit(main())", "init"],
                   cwd=target.tree, env=env, check=True, stdout=subprocess.DEVNULL)
    n_partners, n_cases = SIZES[size]
    log(f"[{target.label}] Demodaten ({n_partners} Partner, {n_cases} Fallakten) und {clerks} Sachbearbeiter/innen …")
    out = subprocess.run([str(target.python), str(ROOT / "bench" / "load_seed.py"), "--partners", str(n_partners),
                          "--cases", str(n_cases), "--clerks", str(clerks)],
                         cwd=target.tree, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"load_seed.py ({target.label}) fehlgeschlagen:\n{out.stderr[-3000:]}")
    target.seed = json.loads(out.stdout.strip().splitlines()[-1])
    if reuse and target.seed["counts"]["case"] != n_cases:
        log(f"[{target.label}] vorhandene Datenbank hat {target.seed['counts']['case']} Fallakten – neu anlegen")
        return prepare_target(target, size, clerks, reuse=False)
    log(f"[{target.label}] vorbereitet in {time.perf_counter() - started:.0f} s: {target.seed['counts']}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def start_server(target: Target, timeout: float = 180) -> None:
    """gunicorn -w 4 on 127.0.0.1:<free port>, in its own process group; waits until it answers."""
    env = target_env(target, secrets.token_hex(32))
    help_text = subprocess.run([str(target.python), "-m", "gunicorn", "--help"], capture_output=True, text=True,
                               env=env, cwd=target.tree).stdout
    target.port = free_port()
    command = [str(target.python), "-m", "gunicorn", "-w", str(WORKERS), "-b", f"{LOOPBACK}:{target.port}",
               "--timeout", "120", "--error-logfile", str(target.home / "gunicorn.log")]
    if "--no-control-socket" in help_text:   # gunicorn ≥ 25 opens a control socket in ~/.gunicorn otherwise
        command.append("--no-control-socket")
    command.append("app.wsgi:app")
    log(f"[{target.label}] {' '.join(command[1:])}")
    target.server = subprocess.Popen(command, cwd=target.tree, env=env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.server.poll() is not None:
            raise RuntimeError(f"gunicorn ({target.label}) beendet mit {target.server.returncode}; "
                               f"siehe {target.home / 'gunicorn.log'}")
        try:
            conn = http.client.HTTPConnection(LOOPBACK, target.port, timeout=5)
            conn.request("GET", "/login/")
            if conn.getresponse().status == 200:
                conn.close()
                # One answer means one worker is up; give the other three their start-up.
                time.sleep(3)
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn ({target.label}) antwortet nicht nach {timeout:.0f} s")


def stop_server(target: Target) -> None:
    proc, target.server = target.server, None
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)   # the group this script started: the arbiter and its workers
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def markers_in_db(url: str, run_id: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {MARKER_FIELD}, count(*) FROM {ENTRY_ENTITY} "
                                 f"WHERE {MARKER_FIELD} LIKE :p GROUP BY {MARKER_FIELD}"),
                            {"p": f"{MARKER_PREFIX}{run_id}-%"}).all()
    engine.dispose()
    return {marker: n for marker, n in rows}


@dataclass
class Round:
    """One measured slice of one code under one clerk count."""
    samples: list[tuple[str, float, bool]]   # requests started in the measured window (latencies)
    completed: int                           # requests finished in it (throughput)
    errors: Counter
    check: WriteCheck
    seconds: float                           # the window
    load_before: float
    load_after: float
    budget_hit: bool


def run_round(target: Target, n_clerks: int, seconds: float, warmup: float, mix, max_requests: int,
              timeout: float, seed: int) -> Round:
    """Log in ``n_clerks`` clerks, warm up, measure for ``seconds``, check the entries they saved."""
    accounts = target.seed["clerks"][:n_clerks]
    if len(accounts) < n_clerks:
        raise SystemExit(f"nur {len(accounts)} Sachbearbeiter/innen angelegt, {n_clerks} verlangt")
    run_id = f"{datetime.now(timezone.utc):%H%M%S}{secrets.token_hex(2)}"
    clerks = [Clerk(target.port, a, target.seed["cases"][a["unit"]], target.seed["prefixes"][a["unit"]],
                    run_id, i + 1, random.Random(seed * 1000 + i), timeout) for i, a in enumerate(accounts)]
    for clerk in clerks:
        clerk.login()
    today = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y")
    budget, stop = Budget(max_requests), threading.Event()
    load_before = os.getloadavg()[0]
    start_measuring = time.monotonic() + warmup
    deadline = start_measuring + seconds
    failures: list[BaseException] = []

    def work(clerk: Clerk) -> None:
        try:
            clerk.run(mix, start_measuring, deadline, budget, stop, today)
        except BaseException as exc:  # noqa: BLE001 - reported below, the other clerks stop
            failures.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, args=(c,), daemon=True, name=f"clerk-{c.number}") for c in clerks]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    finally:
        stop.set()
    if failures:
        raise failures[0]
    errors: Counter = Counter()
    for c in clerks:
        errors.update(c.log.errors)
    check = account_writes([m for c in clerks for m in c.log.confirmed],
                           [m for c in clerks for m in c.log.unconfirmed], markers_in_db(target.db_url, run_id))
    return Round(samples=[x for c in clerks for x in c.log.samples], completed=sum(c.log.completed for c in clerks),
                 errors=errors, check=check, seconds=seconds, load_before=load_before,
                 load_after=os.getloadavg()[0], budget_hit=budget.left <= 0)


def combine(target: Target, n_clerks: int, rounds: list[Round]) -> dict:
    """The rounds of one code and clerk count as one result: latencies pooled, requests and seconds added."""
    seconds = sum(r.seconds for r in rounds)
    samples = [x for r in rounds for x in r.samples]
    errors: Counter = Counter()
    for r in rounds:
        errors.update(r.errors)
    summary = summarise(samples, seconds)
    summary.setdefault("all", {"requests": 0, "errors": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None,
                               "per_second": 0.0})
    summary["all"]["errors_with_warmup"] = sum(errors.values())
    # Throughput: requests finished within the windows; the stragglers after a window's end (clerks
    # start nothing new then) would otherwise stretch it with a half-idle server.
    summary["all"]["per_second"] = sum(r.completed for r in rounds) / seconds if seconds else 0.0
    writes = {"confirmed": sum(r.check.confirmed for r in rounds),
              "unconfirmed": sum(r.check.unconfirmed for r in rounds),
              "missing": sum(len(r.check.missing) for r in rounds),
              "duplicated": sum(len(r.check.duplicated) for r in rounds),
              "unconfirmed_stored": sum(r.check.unconfirmed_stored for r in rounds),
              "unknown": sum(len(r.check.unknown) for r in rounds),
              "lost": sum(r.check.lost for r in rounds),
              "examples": [m for r in rounds for m in r.check.missing + r.check.duplicated][:5]}
    return {"target": target.label, "rev": target.rev, "clerks": n_clerks, "seconds": round(seconds, 1),
            "rounds": [{"requests": len(r.samples), "seconds": round(r.seconds, 2),
                        "per_second": r.completed / r.seconds, "load_before": round(r.load_before, 2),
                        "load_after": round(r.load_after, 2)} for r in rounds],
            "stopped_by_budget": any(r.budget_hit for r in rounds),
            "load_before": round(rounds[0].load_before, 2) if rounds else None,
            "load_after": round(rounds[-1].load_after, 2) if rounds else None,
            "kinds": summary,
            "errors": [{"kind": k, "reason": r, "count": n} for (k, r), n in errors.most_common()],
            "writes": writes}


def reference_target(rev: str, workdir: Path, db_url: str) -> Target:
    """``rev`` checked out into a temporary git worktree under ``workdir`` with its own venv (kept for reuse)."""
    sha = _git("rev-parse", "--short=10", f"{rev}^{{commit}}")
    tree = workdir / f"ref-{sha}"
    venv = workdir / f"venv-{sha}"
    if not (tree / "app").is_dir():
        _git("worktree", "prune")
        log(f"[Ref] git worktree add {tree} {sha}")
        _git("worktree", "add", "--detach", str(tree), sha)
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        log(f"[Ref] venv {venv} (pip install -e) …")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(tree)], capture_output=True,
                             text=True)
        if pip.returncode:
            raise RuntimeError(f"pip install -e {tree} fehlgeschlagen:\n{pip.stderr[-3000:]}")
        (venv / ".installed").write_text(sha)
    return Target(label=f"Ref {rev}", rev=sha, tree=tree, python=python, db_url=database_for(db_url, f"ref_{sha[:7]}"),
                  home=workdir / f"home-{sha}")


def remove_reference_tree(target: Target) -> None:
    try:
        _git("worktree", "remove", "--force", str(target.tree))
    except subprocess.CalledProcessError as exc:
        log(f"git worktree remove {target.tree}: {exc.stderr.strip()}")


# --- report ---------------------------------------------------------------------------------------------------

def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def markdown(results: list[dict], meta: dict) -> str:
    lines = [f"## Last (gunicorn -w {WORKERS}, PostgreSQL) · {meta['started']} · {meta['size']}",
             "", f"`{meta['command']}`", "",
             f"Maschine: {meta['cpus']} CPUs, Python {meta['python']}, {meta['postgres']}. "
             f"Mix: {meta['mix']}; je Code und Zahl der Sachbearbeiter/innen {meta['seconds']:.0f} s gemessen in "
             f"{meta['rounds']} Runden (HEAD und Ref abwechselnd), jede nach {meta['warmup']:.0f} s Aufwärmen; "
             "keine Denkzeit (jede/r schickt die nächste Anfrage, sobald die vorige beantwortet ist). "
             "Anfragen und Latenzen: im Messfenster begonnen; Durchsatz: im Messfenster beendet je Sekunde. "
             f"Last (1 min) zu Beginn {meta['load_start'][0]:.1f}, am Ende {meta['load_end'][0]:.1f}.", ""]
    lines += ["| Code | Sachb. | Anfragen | Durchsatz | p50 | p95 | p99 | Fehler (mit Aufwärmen) | Einträge gespeichert | "
              "verlorene Schreibvorgänge (fehlend/doppelt) | Last vorher → nachher |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in results:
        a, w = r["kinds"].get("all", {}), r["writes"]
        lines.append(f"| {r['target']} ({r['rev']}) | {r['clerks']} | {a.get('requests', 0)} | "
                     f"{a.get('per_second', 0):.1f}/s | {_ms(a.get('p50_ms'))} | {_ms(a.get('p95_ms'))} | "
                     f"{_ms(a.get('p99_ms'))} | {a.get('errors_with_warmup', 0)} | {w['confirmed']} | "
                     f"**{w['lost']}** ({w['missing']}/{w['duplicated']}) | {r['load_before']} → {r['load_after']} |")
    lines += ["", "Je Anfrageart (p50 / p95 / p99, Fehler):", "",
              "| Code | Sachb. | " + " | ".join(KINDS[k] for k in KINDS if k != "all") + " |",
              "|---|---:|" + "---|" * (len(KINDS) - 1)]
    for r in results:
        cells = []
        for kind in (k for k in KINDS if k != "all"):
            s = r["kinds"].get(kind)
            cells.append("–" if not s else f"{s['requests']}: {_ms(s['p50_ms'])} / {_ms(s['p95_ms'])} / "
                                            f"{_ms(s['p99_ms'])}, {s['errors']}")
        lines.append(f"| {r['target']} | {r['clerks']} | " + " | ".join(cells) + " |")
    ratios = compare(results)
    if ratios:
        lines += ["", "| Sachb. | Durchsatz HEAD | Durchsatz Ref | HEAD / Ref | je Runde | HEAD nicht langsamer (≥ 1,00) "
                      "| innerhalb 5 % Rauschen |", "|---:|---:|---:|---:|---|---|---|"]
        for row in ratios:
            spread = ", ".join(f"{x:.2f}" for x in row["rounds"]) or "–"
            lines.append(f"| {row['clerks']} | {row['head']:.1f}/s | {row['ref']:.1f}/s | {row['ratio']:.2f} | {spread} | "
                         f"{'ja' if row['ratio'] >= 1 else 'nein'} | {'ja' if row['ratio'] >= 0.95 else 'nein'} |")
    errors = [(r, e) for r in results for e in r["errors"]]
    if errors:
        lines += ["", "Fehler:", ""]
        lines += [f"- {r['target']}, {r['clerks']} Sachb., {KINDS.get(e['kind'], e['kind'])}: {e['count']}× {e['reason']}"
                  for r, e in errors[:20]]
    for r in results:
        w = r["writes"]
        if w["unconfirmed"] or w["unknown"] or w["lost"]:
            lines.append(f"- {r['target']}, {r['clerks']} Sachb.: {w['unconfirmed']} Speichern ohne Bestätigung "
                         f"(davon {w['unconfirmed_stored']} trotzdem gespeichert), {w['unknown']} unbekannte Marker"
                         + (f", Beispiele: {', '.join(w['examples'])}" if w["examples"] else ""))
    return "\n".join(lines) + "\n"


def compare(results: list[dict]) -> list[dict]:
    """Throughput of HEAD over the reference per clerk count (both measured in this run)."""
    head = {r["clerks"]: r for r in results if r["target"] == "HEAD"}
    out = []
    for r in results:
        if r["target"] != "HEAD" and r["clerks"] in head:
            ref_rate = r["kinds"].get("all", {}).get("per_second", 0)
            head_rate = head[r["clerks"]]["kinds"].get("all", {}).get("per_second", 0)
            if ref_rate:
                pairs = zip(head[r["clerks"]].get("rounds", []), r.get("rounds", []))
                per_round = [h["per_second"] / f["per_second"] for h, f in pairs if f["per_second"]]
                out.append({"clerks": r["clerks"], "ratio": head_rate / ref_rate, "head": head_rate, "ref": ref_rate,
                            "rounds": per_round})
    return out


# --- main ---------------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--db-url", default=os.environ.get("FACHSTELLE_LOAD_DATABASE_URL", DEFAULT_DB_URL),
                   help="PostgreSQL on 127.0.0.1; HEAD uses <database>_head, the reference <database>_ref_<commit>")
    p.add_argument("--clerks", default="20,50", help="clerk counts, comma-separated")
    p.add_argument("--seconds", type=float, default=60, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=5, help="seconds of load before each round's measurement")
    p.add_argument("--rounds", type=int, default=4,
                   help="split --seconds into this many rounds, HEAD and reference alternating")
    p.add_argument("--size", choices=sorted(SIZES), default="medium")
    p.add_argument("--mix", default=DEFAULT_MIX, help=f"weights of the request kinds (default {DEFAULT_MIX})")
    p.add_argument("--max-requests", type=int, default=200_000, help="stop a run after this many requests")
    p.add_argument("--timeout", type=float, default=60, help="seconds a request may take (else an error)")
    p.add_argument("--compare-ref", default=DEFAULT_REF, help="git revision to compare with, or 'none'")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/fachstelle-load"))
    p.add_argument("--reuse", action="store_true", help="keep the loaded databases (same size) of a previous run")
    p.add_argument("--keep-ref-tree", action="store_true", help="do not remove the reference's git worktree")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    return p


def _head_python() -> Path:
    venv = ROOT / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


def _postgres_version(url: str) -> str:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
    engine.dispose()
    return f"PostgreSQL {version}"


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        mix = parse_mix(args.mix)
        counts = [int(c) for c in args.clerks.split(",") if c.strip()]
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if not counts or min(counts) < 1 or args.seconds <= 0 or args.max_requests < 1 or args.rounds < 1:
        raise SystemExit("--clerks, --seconds, --rounds und --max-requests müssen positiv sein")
    require_loopback_db(args.db_url)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    head = Target(label="HEAD", rev=_git("rev-parse", "--short=10", "HEAD") + ("+" if dirty else ""), tree=ROOT,
                  python=_head_python(), db_url=database_for(args.db_url, "head"), home=workdir / "home-head")
    targets = [head]
    ref = None
    if args.compare_ref.lower() != "none":
        ref = reference_target(args.compare_ref, workdir, args.db_url)
        targets.append(ref)
    meta = {"started": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "size": args.size,
            "command": "python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:]),
            "cpus": os.cpu_count(), "python": platform.python_version(), "mix": args.mix,
            "warmup": args.warmup, "seconds": args.seconds, "rounds": args.rounds, "load_start": os.getloadavg()}
    results: list[dict] = []
    interrupted = False
    try:
        for target in targets:
            prepare_target(target, args.size, max(counts), args.reuse)
        meta["postgres"] = _postgres_version(head.db_url)
        for target in targets:
            start_server(target)
        slice_s, slice_max = args.seconds / args.rounds, max(args.max_requests // args.rounds, 1)
        for clerks in counts:
            done: dict[str, list[Round]] = {t.label: [] for t in targets}
            for n in range(args.rounds):
                # Rounds alternate A B, B A, A B, … (ABBA): on a shared machine neither code always gets the
                # quieter minute or the server warmed by the other's round.
                order = targets if n % 2 == 0 else list(reversed(targets))
                for target in order:
                    log(f"[{target.label}] {clerks} Sachbearbeiter/innen, Runde {n + 1}/{args.rounds}: "
                        f"{args.warmup:.0f} s + {slice_s:.0f} s …")
                    r = run_round(target, clerks, slice_s, args.warmup, mix, slice_max, args.timeout,
                                  args.seed + n)
                    log(f"[{target.label}]   {len(r.samples)} Anfragen, {r.completed / r.seconds:.1f}/s, "
                        f"{sum(r.errors.values())} Fehler, {r.check.lost} verlorene Schreibvorgänge, "
                        f"Last {r.load_before:.1f} → {r.load_after:.1f}")
                    done[target.label].append(r)
            for target in targets:
                results.append(combine(target, clerks, done[target.label]))
    except KeyboardInterrupt:
        log("Abgebrochen (Strg-C); gunicorn wird beendet.")
        interrupted = True
    finally:
        # A second Ctrl-C must not leave a server running: cleaning up is not interruptible.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for target in targets:
                stop_server(target)
            if ref is not None and not args.keep_ref_tree:
                remove_reference_tree(ref)
        finally:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        return 130
    meta["load_end"] = os.getloadavg()
    report = markdown(results, meta)
    print(report)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results, "comparison": compare(results)},
                                        indent=2, ensure_ascii=False, default=str))
    bad = any(r["kinds"]["all"]["errors_with_warmup"] or r["writes"]["lost"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
