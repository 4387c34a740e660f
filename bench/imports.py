"""Import speed and memory (issue #10): ``fachstelle import-events`` with N generated rows.

    python -m bench.imports --db sqlite --rows 10000,100000
    python -m bench.imports --db postgresql --pg-url postgresql+psycopg://…/fachstelle_x --rows 10000,100000

For each size, a child process (so that its peak RSS is its own) makes a fresh database as ``fachstelle
init`` does, writes the CSV deterministically (seed 10: one case per five rows, both org units, the eight
events, dates over the last three years, some recent enough for follow-ups), imports it and commits. Then,
as the plain reference in the same run, a bare ``csv.reader`` and Core executemany of the same rows into
the same table (doc_entry, one case, no checks, no rules, no history) into the same database.
Reported: seconds, rows/s and peak RSS (``resource.getrusage``), before and after the import.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ("klage_eingang", "klage_anschreiben", "kontakt", "hausbesuch", "zr_mitteilung_eingang",
          "zr_anschreiben", "zr_termin", "zr_anwesenheit")
TODAY = date(2026, 11, 20)


def write_csv(path: Path, rows: int, seed: int = 10) -> None:
    """N valid rows: a case per five rows, both units, dates in the three years before TODAY."""
    rnd = random.Random(seed)
    units = ("nord", "Fachstelle Süd")
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["fall_id", "bezirk", "ereignis", "datum", "zu_zweit"])
        for i in range(rows):
            case = i // 5
            event = EVENTS[rnd.randrange(len(EVENTS))]
            on = TODAY - timedelta(days=rnd.randrange(3 * 365))
            pairs = "ja" if event in ("hausbesuch", "zr_anwesenheit") and rnd.random() < 0.3 else ""
            out.writerow([f"B-{case:07d}", units[case % 2], event, on.strftime("%d.%m.%Y"), pairs])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _fresh(db: str, url: str, workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if db == "postgresql":
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def child(db: str, url: str, rows: int, workdir: Path) -> dict:
    """One measurement in this process: fresh database, import, reference."""
    _fresh(db, url, workdir)
    if db == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    os.environ["FACHSTELLE_INSTANCE_DIR"] = str(workdir / "instance")
    (workdir / "instance").mkdir()
    from flask_appbuilder import Model

    from app import create_app
    from app.extensions import db as fdb
    from app.integrations.events_import import import_events
    from app.metamodel.migrate import migrate
    from app.services.seed import seed_all
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "FACHSTELLE_CITY": None,
                      "FAB_UPDATE_PERMS": False, "FACHSTELLE_CONFIG_DIR": str(ROOT / "config")})
    path = workdir / "ereignisse.csv"
    write_csv(path, rows)
    with app.app_context():
        migrate(fdb.engine, Model.metadata, versions_dir=workdir / "versions")
        seed_all(fdb.session, app.config["FACHSTELLE_SPEC"])
        fdb.session.commit()
        rss_before = _rss_mb()
        started = time.perf_counter()
        result = import_events(fdb.session, path, today=TODAY)
        fdb.session.commit()
        seconds = time.perf_counter() - started
        rss_after = _rss_mb()
        reference = _reference(fdb, app, path)
    return {"rows": rows, "seconds": seconds, "rss_before": rss_before, "rss_after": rss_after,
            "entries": result.entries_created, "cases": result.cases_created, "tasks": result.follow_ups_created,
            "reference": reference}


def _reference(fdb, app, path: Path) -> float:
    """The floor: csv.reader + Core executemany of the same rows into doc_entry (one case, one service)."""
    from sqlalchemy import insert, select
    registry = app.config["FACHSTELLE_REGISTRY"]
    Entry, Case, Service = (registry.model(n) for n in ("doc_entry", "case", "service"))
    case_id, unit_id = fdb.session.execute(select(Case.id, Case.org_unit_id).limit(1)).one()
    service_id = fdb.session.scalar(select(Service.id).limit(1))
    table = Entry.__table__
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        next(reader)
        batch = []
        for _ref, _unit, _event, on, pairs in reader:
            day, month, year = on.split(".")
            batch.append({"case_id": case_id, "service_id": service_id, "entry_date": date(int(year), int(month),
                                                                                            int(day)),
                          "in_pairs": pairs == "ja", "info": "Referenz", "org_unit_id": unit_id})
            if len(batch) == 2000:
                fdb.session.execute(insert(table), batch)
                batch = []
        if batch:
            fdb.session.execute(insert(table), batch)
    fdb.session.commit()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--rows", default="10000,100000")
    p.add_argument("--pg-url", default=os.environ.get("FACHSTELLE_BENCH_DATABASE_URL"))
    p.add_argument("--workdir", type=Path, default=Path("/tmp/bench-imports"))
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.db == "postgresql" and not args.pg_url:
        p.error("--pg-url (a database of its own: its schema is dropped)")
    url = args.pg_url or "sqlite://"
    if args.child is not None:
        print(json.dumps(child(args.db, url, args.child, args.workdir / f"{args.db}-{args.child}")))
        return 0
    print(f"| {args.db} | Zeilen | Import | Zeilen/s | Peak-RSS vorher → nachher | Referenz (csv + executemany) "
          "| Import ÷ Referenz | Last vorher → nachher |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for rows in (int(r) for r in args.rows.split(",")):
        load = os.getloadavg()[0]
        out = subprocess.run([sys.executable, "-m", "bench.imports", "--db", args.db, "--child", str(rows),
                              "--workdir", str(args.workdir), *(["--pg-url", args.pg_url] if args.pg_url else [])],
                             cwd=ROOT, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {args.db} | {r['rows']:,} | {r['seconds']:.1f} s | {r['rows'] / r['seconds']:,.0f} | "
              f"{r['rss_before']:.0f} → {r['rss_after']:.0f} MB (+{r['rss_after'] - r['rss_before']:.0f}) | "
              f"{r['reference']:.1f} s ({r['rows'] / r['reference']:,.0f}/s) | {r['seconds'] / r['reference']:.1f} | "
              f"{load:.1f} → {os.getloadavg()[0]:.1f} |"
              + f" <!-- {r['entries']} Einträge, {r['cases']} Fallakten, {r['tasks']} Wiedervorlagen -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
