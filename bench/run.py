"""Run the benchmark of issue 3 §10 and print the result as Markdown (and JSON).

    python -m bench.run --db sqlite --size city --reuse
    python -m bench.run --db postgresql --size city --reuse --only partner_list,case_show
    python -m bench.run --db sqlite --size small --only startup

Requests are measured in-process with Flask's test client, logged in as the clerk ``bench_sb_nord``
(profile Sachbearbeitung, org unit "nord"), each beside its plain reference (bench/reference.py).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

from .dataset import CLERK, CLERK_PROFILE, CLERK_UNITS, PASSWORD, prepare
from .measure import Series, StatementCounter, compare
from .pages import pages, record_ids, tab_titles

TARGET_PAGE_MS = 100.0
TARGET_RATIO = 2.0
TARGET_DUPLICATES_MS = 50.0
TARGET_STARTUP_S = 2.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--size", choices=["city", "small", "tiny"], default="small")
    p.add_argument("--only", default="", help="comma-separated names (partner_list, …, duplicates, startup)")
    p.add_argument("--reuse", action="store_true", help="keep a loaded database of the same size")
    p.add_argument("--workdir", type=Path, default=None, help="default: /tmp/bench/<db>-<size>")
    p.add_argument("--pg-url", default=None, help="default: $FACHSTELLE_BENCH_DATABASE_URL or fachstelle_bench")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeat", type=int, default=40)
    p.add_argument("--startup-runs", type=int, default=5)
    p.add_argument("--explain", action="store_true", help="write each page's SQL with its query plan")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--cold-counts", action="store_true",
                   help="count every list afresh (as on a list's first view): no cached counts")
    return p


def _login(client) -> None:
    response = client.post("/login/", data={"username": CLERK, "password": PASSWORD})
    if response.status_code not in (200, 302) or "/login" in response.headers.get("Location", "/login"):
        raise SystemExit(f"Anmeldung als {CLERK} fehlgeschlagen ({response.status_code})")


def _get(client, url: str):
    def call():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: Status {response.status_code}\n{response.get_data(as_text=True)[:800]}")
        return response
    return call


def _row(name, label, app: Series, ref: Series | None, target_ms: float, command: str, note: str = "") -> dict:
    ratio = (app.median_ms / ref.median_ms) if ref else None
    met = app.p95_ms <= target_ms and (ratio is None or ratio <= TARGET_RATIO)
    return {"name": name, "label": label, "app_median_ms": app.median_ms, "app_p95_ms": app.p95_ms,
            "ref_median_ms": ref.median_ms if ref else None, "ref_p95_ms": ref.p95_ms if ref else None,
            "ratio": ratio, "queries": app.queries_per_call, "ref_queries": ref.queries_per_call if ref else None,
            "target_ms": target_ms, "met": met, "command": command, "note": note}


def _explain(bench, engine, statements, out) -> None:
    prefix = "EXPLAIN QUERY PLAN " if bench.db == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    with engine.connect() as conn:
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            out.write(f"\n--- {' '.join(statement.split())[:1500]}\n    {params!r}\n")
            rows = conn.exec_driver_sql(prefix + statement, params).fetchall()
            for row in rows:
                out.write(f"    {row[-1] if bench.db == 'sqlite' else row[0]}\n")


def measure_pages(bench, args, wanted, command) -> list[dict]:
    """Each request runs in its own app context, as under a WSGI server: a fresh session, a fresh ``g``
    (so nothing cached per request survives into the next one)."""
    from app.extensions import db

    app = bench.app
    app.register_blueprint(__import__("bench.reference", fromlist=["reference"]).reference)
    if args.cold_counts:
        from app.web.interface import count_cache
        count_cache.seconds = 0.0  # every entry is out of date at once: each request counts
    with app.app_context():
        engine = db.engine
    counter = StatementCounter(engine)
    client = app.test_client()
    _login(client)
    results = []
    explain_file = (bench.workdir / "explain.txt").open("w") if args.explain else None
    for page in pages(bench):
        if wanted and page.name not in wanted:
            continue
        app_call, ref_call = _get(client, page.app_url), _get(client, page.ref_url) if page.ref_url else None
        app_ids, ref_ids = record_ids(page.ids, app_call()), record_ids(page.ids, ref_call()) if ref_call else None
        if page.ids and app_ids != ref_ids:
            raise SystemExit(f"{page.name}: App und Referenz zeigen verschiedene Datensätze\n"
                             f"  App:      {app_ids}\n  Referenz: {ref_ids}")
        if "/show/" in page.app_url and ref_call:
            app_tabs, ref_tabs = tab_titles(app_call().get_data(as_text=True)), \
                tab_titles(ref_call().get_data(as_text=True))
            if app_tabs != ref_tabs:
                raise SystemExit(f"{page.name}: App und Referenz zeigen verschiedene Seiten\n"
                                 f"  App:      {app_tabs}\n  Referenz: {ref_tabs}")
        if explain_file:
            counter.reset(keep=True)
            app_call()
            explain_file.write(f"\n===== {page.name}: {page.app_url}\n")
            _explain(bench, engine, counter.statements, explain_file)
        app_series, ref_series = compare(app_call, ref_call, counter, args.warmup, args.repeat)
        target = TARGET_DUPLICATES_MS if page.name.startswith("duplicates") else TARGET_PAGE_MS
        rows = f"{len(app_ids)} Datensätze" if app_ids is not None else ""
        results.append(_row(page.name, page.label, app_series, ref_series, target,
                            f"{command} --only {page.name}", rows))
        print(_line(results[-1]), flush=True)
    if not wanted or "duplicates" in wanted:
        results.append(_duplicates_service(bench, args, counter, command))
        print(_line(results[-1]), flush=True)
    counter.close()
    if explain_file:
        explain_file.close()
    return results


def _duplicates_service(bench, args, counter, command) -> dict:
    """``find_duplicates`` called directly, in a fresh request of the clerk (so the org-unit filter applies).
    Only the call is timed, not the loading of the user."""
    from flask_login import login_user

    from app.extensions import db
    from app.scoping import visible_org_unit_ids
    from app.services.partners import find_duplicates

    app = bench.app
    surname, first_name, birth = bench.duplicate_probe
    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username=CLERK).id
    found = []

    def call():
        with app.test_request_context("/"):
            login_user(app.appbuilder.sm.get_user_by_id(user_id))
            visible_org_unit_ids()  # the user's units, as the request would have loaded them already
            counter.reset()
            started = time.perf_counter()
            found[:] = find_duplicates(db.session, surname, first_name, birth)
            return time.perf_counter() - started, counter.count

    series = Series()
    for _ in range(args.warmup):
        call()
    for _ in range(args.repeat):
        elapsed, queries = call()
        series.samples.append(elapsed)
        series.queries.append(queries)
    return _row("duplicates", f"Dublettenprüfung find_duplicates({surname}, {first_name}, {birth:%d.%m.%Y})",
                series, None, TARGET_DUPLICATES_MS, f"{command} --only duplicates", f"{len(found)} Treffer")


def _line(r: dict) -> str:
    ref = f"ref {r['ref_median_ms']:6.1f}/{r['ref_p95_ms']:6.1f} ms  ratio {r['ratio']:4.2f}" if r["ratio"] else ""
    return (f"{r['name']:<26} app {r['app_median_ms']:6.1f}/{r['app_p95_ms']:6.1f} ms  {ref}  "
            f"SQL {r['queries']}  {'ok' if r['met'] else 'VERFEHLT'}  {r['note']}")


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def markdown(meta: dict, results: list[dict]) -> str:
    out = [f"#### {meta['db']} · {meta['size']} · {meta['date']}", "",
           f"{_thousands(meta['partners'])} Partner, {_thousands(meta['cases'])} Fallakten · Benutzer "
           f"`{meta['user']}` ({meta['profile']}, Dienststelle {', '.join(meta['units'])}) · {meta['machine']} · "
           f"Last (1 min) {meta.get('load', '?')} · {meta['warmup']} Aufwärm-, {meta['repeat']} Messanfragen", ""]
    out += ["| Messung | App Median | App p95 | Referenz Median | Referenz p95 | Verhältnis | SQL/Anfrage (Ref.) "
            "| Ziel | erfüllt |", "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in results:
        if r["name"].startswith("startup"):
            target = f"≤ {TARGET_STARTUP_S:.0f} s"
            cells = [f"{r['app_median_ms'] / 1000:.2f} s", f"{r['app_p95_ms'] / 1000:.2f} s", "–", "–", "–", "–"]
        else:
            target = f"p95 ≤ {r['target_ms']:.0f} ms" + (f", ≤ {TARGET_RATIO:.1f}×" if r["ratio"] else "")
            cells = [f"{r['app_median_ms']:.1f} ms", f"{r['app_p95_ms']:.1f} ms",
                     f"{r['ref_median_ms']:.1f} ms" if r["ref_median_ms"] else "–",
                     f"{r['ref_p95_ms']:.1f} ms" if r["ref_p95_ms"] else "–",
                     f"{r['ratio']:.2f}" if r["ratio"] else "–",
                     f"{r['queries']}" + (f" ({r['ref_queries']})" if r["ref_queries"] is not None else "")]
        out.append(f"| {r['label']} | " + " | ".join(cells) + f" | {target} | {'ja' if r['met'] else '**nein**'} |")
    out += ["", "Befehle:", ""] + [f"- {r['name']}: `{r['command']}`" for r in results]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    workdir = args.workdir or Path("/tmp/bench") / f"{args.db}-{args.size}"
    command = f"python -m bench.run --db {args.db} --size {args.size} --reuse"
    command += " --cold-counts" if args.cold_counts else ""
    print(f"Benchmark {args.db}/{args.size} in {workdir}", flush=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    bench = prepare(args.db, args.size, workdir, args.pg_url, reuse=args.reuse)
    print(f"  Datenbank bereit nach {time.perf_counter() - started:.0f} s"
          + (f" (Laden {bench.load_seconds:.0f} s)" if bench.load_seconds else " (wiederverwendet)"), flush=True)
    results = []
    page_names = {"startup", "startup_shipped", "startup_40"}
    if not wanted or wanted - page_names:
        results += measure_pages(bench, args, wanted - page_names, command)
    if not wanted or wanted & page_names:
        from .startup import measure_startup
        for row in measure_startup(bench, args.startup_runs, wanted, command):
            results.append(row)
            print(_line(row), flush=True)
    meta = {"db": args.db, "size": args.size, "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "partners": bench.partners, "cases": bench.cases, "user": CLERK, "profile": CLERK_PROFILE,
            "units": CLERK_UNITS, "load_seconds": bench.load_seconds, "warmup": args.warmup, "repeat": args.repeat,
            "cold_counts": args.cold_counts,
            "machine": f"{os.cpu_count()} Kerne, Python {platform.python_version()}, {platform.system()}",
            # The machine is shared: the load average (1 min) before and after tells how quiet it was.
            "load": f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"}
    print()
    print(markdown(meta, results))
    target = args.json or workdir / "results.json"
    target.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
