"""#14 §6: the research module and the XLSX writer at city size (200,000 partners, 300,000 cases).

    python -m bench.research --db postgresql --pg-url postgresql+psycopg://…/fachstelle_research_bench --reuse
    python -m bench.research --db sqlite --reuse

Measured (each beside a plain reference in the same run):

1. ``grouped``: a grouped research query over all cases — case start by year × status, count of cases —
   through ``services.research`` (definition checked, SQLAlchemy built, ``scope_query``, labels), as the clerk
   of one district sees it (the org-unit filter) and as a city-wide controller (no unit restriction). p95
   target 500 ms. Reference: the same GROUP BY written by hand in SQL.
2. ``grouped_child``: sum of the monthly incomes (a child page, outer join) by status, same users.
3. ``xlsx``: 100,000 rows × 6 columns (text, date, date, catalogue label, reference title, money-free) of
   the research export (``iter_rows`` → ``write_xlsx``), in a fresh process so that its peak memory is its
   own: wall time (target ≤ 15 s) and peak RSS growth (target ≤ 100 MB). Reference: the same rows fetched
   by plain SQL and written with XlsxWriter directly, without labels.

Not a test: timings on a shared machine are too noisy for CI.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import extract, func, select

from .dataset import CLERK, prepare
from .measure import percentile

ROWS = 100_000
TARGET_P95_MS = 500.0
TARGET_XLSX_S = 15.0
TARGET_XLSX_MB = 100.0


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _actor(username: str | None):
    from flask_appbuilder.security.sqla.models import User

    from app.actor import Actor, actor_for_user
    from app.extensions import db
    if username is None:
        return Actor.system("bench_controlling")
    return actor_for_user(db.session.query(User).filter_by(username=username).one())


def _series(call, warmup: int, repeat: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _row(name: str, samples: list[float], ref: list[float] | None) -> dict:
    out = {"name": name, "median_ms": round(percentile(samples, 0.5), 1), "p95_ms": round(percentile(samples, 0.95), 1)}
    if ref:
        out.update(ref_median_ms=round(percentile(ref, 0.5), 1), ref_p95_ms=round(percentile(ref, 0.95), 1))
    return out


def measure_queries(bench, warmup: int, repeat: int) -> list[dict]:
    from app.extensions import db
    from app.services import research
    from app.services.research import Definition, ResearchFields
    registry = bench.app.config["FACHSTELLE_REGISTRY"]
    case = registry.model("case")
    income = registry.model("household_income")
    results = []
    with bench.app.app_context():
        fields = ResearchFields(registry, lambda e: True)
        for who, username in (("Bezirk (Org.-Filter)", CLERK), ("stadtweit", None)):
            actor = _actor(username)
            units = actor.visible_units

            def grouped(definition=Definition(entity="case", group_by=["opened_on:year", "status"])):
                checked = research.check(definition, fields)
                return research.run_grouped(db.session, checked, registry, actor)

            def grouped_ref():
                query = select(extract("year", case.opened_on), case.status_id, func.count()).group_by(
                    extract("year", case.opened_on), case.status_id)
                if units is not None:
                    query = query.where(case.org_unit_id.in_(units))
                return db.session.execute(query).all()

            def child(definition=Definition(entity="case", group_by=["status"], measure="sum",
                                            measure_field="household_income.amount")):
                checked = research.check(definition, fields)
                return research.run_grouped(db.session, checked, registry, actor)

            def child_ref():
                query = (select(case.status_id, func.sum(income.amount)).select_from(case)
                         .outerjoin(income, income.case_id == case.id).group_by(case.status_id))
                if units is not None:
                    query = query.where(case.org_unit_id.in_(units))
                return db.session.execute(query).all()

            table = grouped()
            print(f"  {who}: {table.total} Fallakten in {len(table.row_keys)}×{len(table.col_keys)} Gruppen",
                  flush=True)
            results.append(_row(f"grouped · {who}", _series(grouped, warmup, repeat),
                                _series(grouped_ref, warmup, repeat)))
            results.append(_row(f"grouped_child · {who}", _series(child, warmup, repeat),
                                _series(child_ref, warmup, repeat)))
            db.session.rollback()
    return results


def measure_xlsx(bench, plain: bool) -> dict:
    """One export of ROWS rows in this (fresh) process: seconds and peak RSS growth."""
    import tempfile

    from app.extensions import db
    from app.services import research
    from app.services.research import Definition, ResearchFields
    from app.services.xlsx_export import XlsxColumn, write_xlsx
    registry = bench.app.config["FACHSTELLE_REGISTRY"]
    with bench.app.app_context():
        actor = _actor(None)
        fields = ResearchFields(registry, lambda e: True)
        checked = research.check(Definition(entity="case", columns=["file_number", "opened_on", "closed_on",
                                                                      "status", "client", "info"],
                                            sort="opened_on"), fields)
        target = Path(tempfile.mkdtemp()) / "export.xlsx"
        db.session.execute(select(1))
        import gc
        import threading
        gc.collect()
        base_rss = _rss_mb()
        peak = [base_rss]
        running = [True]

        def sample():  # the process's resident memory every 20 ms while the export runs
            while running[0]:
                peak[0] = max(peak[0], _rss_mb())
                time.sleep(0.02)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        if plain:
            case = registry.model("case")
            rows = db.session.execute(select(case.file_number, case.opened_on, case.closed_on, case.status_id,
                                             case.client_id, case.info).order_by(case.opened_on, case.id)
                                      .limit(ROWS).execution_options(yield_per=2000))
            import xlsxwriter
            book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
            sheet = book.add_worksheet()
            count = 0
            for r, values in enumerate(rows):
                count += 1
                for c, value in enumerate(values):
                    if value is not None:
                        sheet.write(r, c, value)
            book.close()
        else:
            rows = itertools.islice(research.iter_rows(db.session, checked, registry, actor), ROWS)
            count = write_xlsx(target, research.xlsx_columns(checked), rows, sheet="Fallakten")
        seconds = time.perf_counter() - started
        running[0] = False
        sampler.join()
        peak[0] = max(peak[0], _rss_mb())
        size = target.stat().st_size
        target.unlink()
    return {"rows": count, "seconds": round(seconds, 2), "peak_growth_mb": round(peak[0] - base_rss, 1),
            "rss_before_mb": round(base_rss, 1), "rss_peak_mb": round(peak[0], 1), "file_mb": round(size / 1e6, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.research")
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    p.add_argument("--size", choices=["city", "small", "tiny"], default="city")
    p.add_argument("--reuse", action="store_true", help="(default) keep a loaded database of the same size")
    p.add_argument("--fresh", action="store_true", help="drop and load the database again")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--pg-url", default=None)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--phase", choices=["all", "queries", "xlsx", "xlsx-plain"], default="all")
    args = p.parse_args(argv)
    workdir = args.workdir or Path("/tmp/bench-research") / f"{args.db}-{args.size}"
    quiet = (lambda *a, **k: None) if args.phase.startswith("xlsx") else print
    bench = prepare(args.db, args.size, workdir, args.pg_url, reuse=not args.fresh, log=quiet)
    if args.phase in ("xlsx", "xlsx-plain"):
        print(json.dumps(measure_xlsx(bench, args.phase == "xlsx-plain")))
        return 0
    load = os.getloadavg()[0]
    print(f"Recherche-Benchmark {args.db}/{args.size}, Last {load:.1f}", flush=True)
    out = {"db": args.db, "size": args.size, "load_before": round(load, 1), "queries": []}
    if args.phase in ("all", "queries"):
        out["queries"] = measure_queries(bench, args.warmup, args.repeat)
    if args.phase == "all":
        base = [sys.executable, "-m", "bench.research", "--db", args.db, "--size", args.size, "--workdir",
                str(workdir)] + (["--pg-url", args.pg_url] if args.pg_url else [])  # reuses what this run loaded
        for phase in ("xlsx", "xlsx-plain"):
            done = subprocess.run(base + ["--phase", phase], capture_output=True, text=True, check=True,
                                  cwd=Path(__file__).resolve().parent.parent)
            out[phase] = json.loads(done.stdout.strip().splitlines()[-1])
    out["load_after"] = round(os.getloadavg()[0], 1)
    print("\n| Messung | Median ms | p95 ms | Referenz Median ms | Referenz p95 ms |\n|---|---:|---:|---:|---:|")
    for row in out["queries"]:
        print(f"| {row['name']} | {row['median_ms']} | {row['p95_ms']} | {row.get('ref_median_ms', '')} | "
              f"{row.get('ref_p95_ms', '')} |")
    for phase in ("xlsx", "xlsx-plain"):
        if phase in out:
            x = out[phase]
            print(f"\n{phase}: {x['rows']} Zeilen in {x['seconds']} s, Spitzenzuwachs {x['peak_growth_mb']} MB, "
                  f"Datei {x['file_mb']} MB")
    (workdir / "research.json").write_text(json.dumps(out, indent=2))
    ok = all(r["p95_ms"] <= TARGET_P95_MS for r in out["queries"] if r["name"].startswith("grouped ·"))
    if "xlsx" in out:
        ok = ok and out["xlsx"]["seconds"] <= TARGET_XLSX_S and out["xlsx"]["peak_growth_mb"] <= TARGET_XLSX_MB
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
