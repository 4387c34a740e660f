"""Retention dry run (#15) over 300,000 cases on SQLite and PostgreSQL: what ``fachstelle retention --dry-run
--format json`` does after start-up (``services.retention.find_due`` + the JSON report).

Data: 300,000 clients and cases in the default configuration's units, 80 % closed between 2012 and 2026,
1 % of them with a legal hold; written with bulk inserts. Measured per database in the same run:
- the dry run as of 30.06.2026 (every due case listed with unit, start and period, holds counted);
- reference: the same rows fetched with a hand-written SQL query (closing date before the cut-off, no hold).

Run (from the repository root):

    .venv/bin/python bench/retention.py                 # both databases
    .venv/bin/python bench/retention.py --db sqlite --runs 3

PostgreSQL: ``FACHSTELLE_BENCH_PG_URL`` (default: database ``fachstelle_bench_ret`` on 127.0.0.1; its ``public``
schema is dropped and recreated). SQLite: ``/tmp/fachstelle_bench_ret.sqlite`` (recreated). Prints a Markdown
table; exits 1 if a dry run's median is 30 s or more. Not a test: a shared machine is too noisy for CI.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

PG_URL = os.environ.get("FACHSTELLE_BENCH_PG_URL",
                        "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_bench_ret")
SQLITE_PATH = Path("/tmp/fachstelle_bench_ret.sqlite")
CASES = 300_000
AS_OF = date(2026, 6, 30)
LIMIT_SECONDS = 30.0
CHUNK = 10_000


def build_spec():
    from app.metamodel.build_models import build_models
    from app.metamodel.loader import load_spec
    spec = load_spec(ROOT / "config", None)
    build_models(spec)
    from app import core_models  # noqa: F401
    from app.letters import models  # noqa: F401
    return spec


def reset(url: str):
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    else:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    return create_engine(url)


def load_data(engine, spec) -> float:
    from flask_appbuilder import Model

    from app.core_models import CatalogueValue, OrgUnit
    from app.metamodel.build_models import built_registry
    from app.services.seed import seed_all
    from app.services.sequences import reset_sequences
    registry = built_registry()
    started = time.perf_counter()
    Model.metadata.create_all(engine)
    with Session(engine) as session:
        seed_all(session, spec)
        session.commit()
        units = [u.id for u in session.query(OrgUnit).order_by(OrgUnit.id)]
        values = {(v.catalogue, v.code): v.id for v in session.query(CatalogueValue)}
    rng = random.Random(15)
    partners, cases = [], []
    person = values[("partner_kind", "person")]
    status = {True: values[("case_status", "closed")], False: values[("case_status", "open")]}
    for i in range(1, CASES + 1):
        unit = units[rng.randrange(len(units))]
        opened = date(2010, 1, 1) + timedelta(days=rng.randrange(16 * 365))
        closed = opened + timedelta(days=rng.randrange(30, 900)) if rng.random() < 0.8 else None
        if closed is not None and closed > AS_OF:
            closed = None
        partners.append({"id": i, "kind_id": person, "surname": f"Klient{i}", "surname_lc": f"klient{i}",
                         "org_unit_id": unit})
        cases.append({"id": i, "client_id": i, "file_number": f"R-{i:06d}", "file_number_lc": f"r-{i:06d}",
                      "opened_on": opened, "closed_on": closed, "status_id": status[closed is not None],
                      "legal_hold": rng.random() < 0.01, "org_unit_id": unit})
    partner_t, case_t = registry.model("partner").__table__, registry.model("case").__table__
    with engine.begin() as conn:
        for table, rows in ((partner_t, partners), (case_t, cases)):
            for k in range(0, len(rows), CHUNK):
                conn.execute(table.insert(), rows[k:k + CHUNK])
        reset_sequences(conn, [partner_t, case_t])
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return time.perf_counter() - started


def timed(fn, runs: int):
    fn()
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), max(samples), result


def measure(db: str, runs: int) -> dict:
    from app.domain.retention import Period, latest_due_start
    from app.services.retention import find_due
    url = f"sqlite:///{SQLITE_PATH}" if db == "sqlite" else PG_URL
    spec = build_spec()
    engine = reset(url)
    load_seconds = load_data(engine, spec)

    def dry_run():
        with Session(engine) as session:
            report = find_due(session, AS_OF)
            text_out = json.dumps(report.as_dict(), ensure_ascii=False)
            session.rollback()
        return len(report.due), len(text_out)

    cutoff = latest_due_start(AS_OF, Period(5))

    def reference():
        with engine.connect() as conn:
            rows = conn.execute(text('SELECT id, org_unit_id, closed_on FROM "case" WHERE closed_on <= :cut '
                                     "AND (legal_hold IS NULL OR legal_hold = :no) ORDER BY id"),
                                {"cut": cutoff, "no": False}).all()
        return len(rows)

    median, worst, (due, size) = timed(dry_run, runs)
    ref_median, _, ref_rows = timed(reference, runs)
    assert ref_rows == due, (ref_rows, due)
    engine.dispose()
    return {"db": db, "load": load_seconds, "median": median, "max": worst, "due": due, "json_kb": size // 1024,
            "ref": ref_median}


def main() -> int:
    parser = argparse.ArgumentParser(description="Retention dry run over 300,000 cases")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [measure(db, args.runs) for db in dbs]
    print(f"| database | cases | due | dry run median | max | JSON | reference SQL (same rows) | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['db']} | {CASES:,} | {r['due']:,} | {r['median']:.2f} s | {r['max']:.2f} s | {r['json_kb']:,} KB "
              f"| {r['ref']:.2f} s | {r['load']:.0f} s |")
    return 1 if any(r["median"] >= LIMIT_SECONDS for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
