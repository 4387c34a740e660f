"""The monthly fee run for a whole city (#12 §8: ≤ 5 s), on SQLite and PostgreSQL.

City size as the issue sets it: 3,000 places in 120 shelters (600 rooms of 5 places), 2,500 current
occupants (of them 300 move out in June and 100 are moved to another place mid-June), 100,000 historic
occupancies (ended before June, chained back on every place), Musterhausen's tariff (Heiligenhaus Satzung).
All written with bulk inserts. Measured per database in the same run:

- the run as ``fachstelle fees run --month 2025-06`` does it after start-up: plan, compare, write the lines,
  draw a Kassenzeichen per new payer and write the treasury postings, commit — on an empty month each time
  (the month's lines, postings and Kassenzeichen are deleted before every sample);
- the second run of the same month (nothing new: ``"neu": 0``) and the dry run;
- reference: the month's occupancy query alone (rows fetched, nothing computed).

Run (from the repository root):

    .venv/bin/python bench/fees.py                 # both databases
    .venv/bin/python bench/fees.py --db sqlite --runs 5

PostgreSQL: ``FACHSTELLE_BENCH_PG_URL`` (default: database ``fachstelle_bench_fees`` on 127.0.0.1; its
``public`` schema is dropped and recreated). SQLite: ``/tmp/fachstelle_bench_fees.sqlite``. Prints a Markdown
table; exits 1 if the run's median is 5 s or more. Not a test: a shared machine is too noisy for CI.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

PG_URL = os.environ.get("FACHSTELLE_BENCH_PG_URL",
                        "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_bench_fees")
SQLITE_PATH = Path(os.environ.get("FACHSTELLE_BENCH_SQLITE", "/tmp/fachstelle_bench_fees.sqlite"))
MONTH = "2025-06"
FIRST, LAST = date(2025, 6, 1), date(2025, 6, 30)
SHELTERS, ROOMS_PER_SHELTER, PLACES_PER_ROOM = 120, 5, 5
CURRENT, MOVING_OUT, TRANSFERS, HISTORIC = 2_500, 300, 100, 100_000
LIMIT_SECONDS = 5.0
CHUNK = 10_000


def build_spec():
    os.environ["FACHSTELLE_CITY"] = "musterhausen"
    from app.metamodel.build_models import build_models
    from app.metamodel.loader import load_spec
    spec = load_spec(ROOT / "config", "musterhausen")
    build_models(spec)
    from app import core_models, fee_models, treasury_models  # noqa: F401  (hand-written tables)
    from app.letters import models  # noqa: F401  (seed_all seeds the shipped templates)
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


def load_data(engine, spec) -> dict:
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
        unit = session.scalars(select(OrgUnit.id).where(OrgUnit.code == "obdach")).first() or \
            session.scalars(select(OrgUnit.id)).first()
        v = {(c.catalogue, c.code): c.id for c in session.scalars(select(CatalogueValue))}
    rng = random.Random(2025)
    tables = {name: registry.model(name).__table__ for name in ("shelter", "room", "place", "partner", "case",
                                                                 "occupancy")}
    shelters, rooms, places = [], [], []
    for s in range(1, SHELTERS + 1):
        provider = "freier_traeger" if s % 6 == 0 else ("gewerblich" if s % 5 == 0 else "gemeinde")
        shelters.append({"id": s, "name": f"Unterkunft {s:03d}", "name_lc": f"unterkunft {s:03d}",
                         "shelter_type_id": v[("shelter_type", "notunterkunft")],
                         "provider_type_id": v[("provider_type", provider)], "capacity": 25, "org_unit_id": unit, "version": 1})
        for r in range(ROOMS_PER_SHELTER):
            room_id = len(rooms) + 1
            rooms.append({"id": room_id, "shelter_id": s, "label": f"R{r + 1}", "label_lc": f"r{r + 1}",
                          "places": PLACES_PER_ROOM, "area_m2": Decimal("30.00"), "org_unit_id": unit, "version": 1})
            for p in range(PLACES_PER_ROOM):
                places.append({"id": len(places) + 1, "room_id": room_id, "shelter_id": s, "label": str(p + 1),
                               "org_unit_id": unit, "version": 1})
    shelter_of = {p["id"]: p["shelter_id"] for p in places}
    partners, cases, occupancies = [], [], []
    obg, sgb = v[("accommodation_basis", "obg")], v[("accommodation_basis", "sgb12_67")]

    def person() -> int:
        i = len(partners) + 1
        partners.append({"id": i, "kind_id": v[("partner_kind", "person")], "surname": f"Person{i}",
                         "surname_lc": f"person{i}", "first_name": "Anna", "first_name_lc": "anna", "org_unit_id": unit,
                         "version": 1})
        cases.append({"id": i, "client_id": i, "file_number": f"U-{i:06d}", "file_number_lc": f"u-{i:06d}",
                      "opened_on": date(2015, 1, 1), "status_id": v[("case_status", "open")], "org_unit_id": unit,
                      "version": 1})
        return i

    def occupancy(pid, place, move_in, move_out, legal=None):
        occupancies.append({"id": len(occupancies) + 1, "case_id": pid, "person_id": pid, "place_id": place,
                            "shelter_id": shelter_of[place], "move_in": move_in, "move_out": move_out,
                            "legal_basis_id": legal or (obg if rng.random() < 0.9 else sgb), "org_unit_id": unit,
                            "version": 1})

    free_from = {}
    for k in range(CURRENT):
        place = k + 1
        pid = person()
        move_in = date(2023, 1, 1) + timedelta(days=rng.randrange(900))
        move_in = min(move_in, date(2025, 6, 20))
        move_out = None
        if k < MOVING_OUT:
            move_out = FIRST + timedelta(days=rng.randrange(30))
            move_out = max(move_out, move_in + timedelta(days=1))
        if MOVING_OUT <= k < MOVING_OUT + TRANSFERS:  # moved mid-June to one of the free places
            new_place = CURRENT + (k - MOVING_OUT) + 1
            occupancy(pid, place, move_in if move_in < date(2025, 6, 15) else date(2025, 5, 1), date(2025, 6, 16),
                      legal=obg)
            occupancy(pid, new_place, date(2025, 6, 16), None, legal=obg)
        else:
            occupancy(pid, place, move_in, move_out)
        free_from[place] = min(move_in, date(2025, 5, 1))
    total_places = len(places)
    per_place = HISTORIC // total_places + 1
    made = 0
    for place in range(1, total_places + 1):
        end = free_from.get(place, date(2025, 5, 31))
        for _ in range(per_place):
            if made >= HISTORIC:
                break
            length = rng.randrange(20, 90)
            start = end - timedelta(days=length)
            occupancy(person(), place, start, end)
            end = start
            made += 1
    with engine.begin() as conn:
        for name, rows in (("shelter", shelters), ("room", rooms), ("place", places), ("partner", partners),
                           ("case", cases), ("occupancy", occupancies)):
            for k in range(0, len(rows), CHUNK):
                conn.execute(tables[name].insert(), rows[k:k + CHUNK])
        reset_sequences(conn, list(tables.values()))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return {"shelters": len(shelters), "places": len(places), "occupancies": len(occupancies),
            "historic": made, "seconds": time.perf_counter() - started}


def timed(fn, runs: int, before=None) -> tuple[float, float, object]:
    if before:
        before()
    fn()  # warm-up
    samples, result = [], None
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, result


def bench(name: str, url: str, spec, runs: int) -> tuple[list[tuple], dict, bool]:
    from flask import Flask

    from app.actor import Actor
    from app.fee_models import FeeLine, FeeRun
    from app.services.fees import run_month, stays_touching
    from app.treasury_models import KassenzeichenCounter, KassenzeichenEntry, TreasuryPosting
    engine = reset(url)
    info = load_data(engine, spec)
    actor = Actor.system("bench")
    rows, slow = [], False
    app = Flask("bench")  # the services read the registry and spec only; an app context for the clock is enough
    with app.app_context(), Session(engine) as session:
        def clear(numbers_too=True):
            models = (TreasuryPosting, FeeLine, FeeRun) + ((KassenzeichenEntry, KassenzeichenCounter)
                                                           if numbers_too else ())
            for model in models:
                session.execute(delete(model))
            session.commit()

        def full_run():
            result = run_month(session, actor, MONTH)
            session.commit()
            return result.as_json()

        def dry_run():
            result = run_month(session, actor, MONTH, dry_run=True)
            session.rollback()
            return result.as_json()

        median, p95, result = timed(full_run, runs, before=lambda: clear(numbers_too=False))
        rows.append((name, f"Gebührenlauf {MONTH}, ganze Stadt: {result['neu']} Zeilen, Kassenbuchungen je "
                           f"Zahlungspflichtigem und Sachkonto (Kassenzeichen aus den Vormonaten bekannt)",
                     median, p95))
        slow |= median >= LIMIT_SECONDS
        info["json"] = result
        median, p95, result = timed(full_run, runs, before=clear)
        rows.append((name, "derselbe Lauf als allererster der Stadt (zieht zusätzlich "
                           f"{info.get('payers', 'alle')} Kassenzeichen)", median, p95))
        median, p95, again = timed(full_run, runs)
        rows.append((name, f"zweiter Lauf desselben Monats (neu = {again['neu']})", median, p95))
        slow |= median >= LIMIT_SECONDS
        median, p95, _ = timed(dry_run, runs)
        rows.append((name, "Probelauf (--dry-run)", median, p95))
        median, p95, n = timed(lambda: len(stays_touching(session, FIRST, LAST)), runs)
        rows.append((name, f"Referenz: Belegungen des Monats abfragen ({n} Zeilen, nichts berechnet)", median, p95))
        info["postings"] = session.scalar(select(text("count(*)")).select_from(TreasuryPosting))
    engine.dispose()
    return rows, info, slow


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    spec = build_spec()
    targets = [("SQLite", f"sqlite:///{SQLITE_PATH}")] if args.db in ("sqlite", "both") else []
    if args.db in ("postgresql", "both"):
        targets.append(("PostgreSQL", PG_URL))
    table, slow_any = [], False
    for name, url in targets:
        rows, info, slow = bench(name, url, spec, args.runs)
        print(f"{name}: {info['shelters']} Unterkünfte, {info['places']} Plätze, {info['occupancies']} Belegungen "
              f"({info['historic']} beendet), geladen in {info['seconds']:.1f} s; Lauf: {info['json']['neu']} Zeilen, "
              f"Summe {info['json']['summe']} €, {info['postings']} Kassenbuchungen", file=sys.stderr)
        table += rows
        slow_any |= slow
    print("| Datenbank | Messung | Median | p95 |")
    print("|---|---|---:|---:|")
    for name, label, median, p95 in table:
        print(f"| {name} | {label} | {median * 1000:.0f} ms | {p95 * 1000:.0f} ms |")
    return 1 if slow_any else 0


if __name__ == "__main__":
    sys.exit(main())
