"""End-to-end timing of the indicator report on SQLite and PostgreSQL: query + compute, as the CLI does.

Twelve Berlin districts (the ``berlin`` overlay), two years, 60,000 notices of lawsuits and bailiffs with
their letters, contacts, home visits, evictions and attendances, plus one plain note per case that the
report has to skip; all written with bulk inserts. Measured per database in the same run:

- the report (``services.indicators.indicator_report`` + ``survey_of`` + JSON, what
  ``fachstelle indicators --format json`` does after start-up) for two years, one year, one quarter, and
  for one district over two years (as a district user sees it);
- references: the same event query alone (rows fetched, nothing computed) and QS 1.1 written by hand in
  SQL over a working-day table (ignores the "next notice" rule, so it is a reference, not a check).

Run (from the repository root):

    .venv/bin/python bench/indicators.py                       # both databases
    .venv/bin/python bench/indicators.py --db sqlite --runs 9

PostgreSQL: ``FACHSTELLE_BENCH_PG_URL`` (default: database ``fachstelle_bench_ind`` on 127.0.0.1; its
``public`` schema is dropped and recreated). SQLite: ``/tmp/fachstelle_bench_ind.sqlite`` (recreated).
Prints a Markdown table; exits 1 if a full report's median is 1 s or more. Not a test: timings on a
shared machine are too noisy for CI.
"""
from __future__ import annotations

import argparse
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
                        "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_bench_ind")
SQLITE_PATH = Path("/tmp/fachstelle_bench_ind.sqlite")
FROM, TO, AS_OF = date(2024, 1, 1), date(2025, 12, 31), date(2026, 1, 15)
NOTICES = 60_000
LIMIT_SECONDS = 1.0
CHUNK = 10_000


def build_spec():
    from app.metamodel.build_models import build_models
    from app.metamodel.loader import load_spec
    spec = load_spec(ROOT / "config", "berlin")
    build_models(spec)
    from app import core_models  # noqa: F401  (org units, catalogues, access standards)
    from app.letters import models  # noqa: F401  (letter tables: seed_all seeds the shipped templates)
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


def generate(rng: random.Random, days: int):
    """(case index, point, day offset, in pairs) events and the count of notices, as bench/indicators_domain."""
    cases: list[list[tuple[str, int, bool | None]]] = []
    notices = 0
    while notices < NOTICES:
        received = rng.randrange(days)
        events: list[tuple[str, int, bool | None]] = []
        if rng.random() < 0.75:  # lawsuit chain
            events.append(("klage_eingang", received, None))
            if rng.random() < 0.9:
                sent = received + rng.randrange(8)
                events.append(("klage_anschreiben", sent, None))
                if rng.random() < 0.4:
                    events.append(("kontakt", sent + rng.randrange(1, 20), None))
                if rng.random() < 0.5:
                    events.append(("hausbesuch", sent + rng.randrange(20), rng.random() < 0.6))
            if rng.random() < 0.1:  # a second lawsuit later in the same case
                notices += 1
                again = received + rng.randrange(60, 200)
                events += [("klage_eingang", again, None), ("klage_anschreiben", again + 2, None)]
        else:  # bailiff chain
            events.append(("zr_mitteilung_eingang", received, None))
            if rng.random() < 0.9:
                events.append(("zr_anschreiben", received + rng.randrange(8), None))
            eviction = received + rng.randrange(14, 60)
            events.append(("zr_termin", eviction, None))
            if rng.random() < 0.3:
                events.append(("kontakt", received + rng.randrange(1, 20), None))
            if rng.random() < 0.5:
                events.append(("zr_anwesenheit", eviction, rng.random() < 0.5))
        notices += 1
        cases.append(events)
    return cases


def load_data(engine, spec) -> dict:
    from flask_appbuilder import Model

    from app.core_models import CatalogueValue, OrgUnit
    from app.domain.indicators import ACCESS_STANDARDS
    from app.metamodel.build_models import built_registry
    from app.services.seed import seed_all
    from app.services.sequences import reset_sequences
    registry = built_registry()
    started = time.perf_counter()
    Model.metadata.create_all(engine)
    with Session(engine) as session:
        seed_all(session, spec)
        session.commit()
        units = list(session.query(OrgUnit).order_by(OrgUnit.id))
        values = {(v.catalogue, v.code): v.id for v in session.query(CatalogueValue)}
        service = registry.model("service")
        services = {s.code: (s.id, s.measurement_point_id, bool(s.counts_as_contact)) for s in session.query(service)}
    by_point = {"klage_eingang": "klage_eingang", "klage_anschreiben": "einladung_raeumungsklage",
                "kontakt": "beratung_persoenlich", "hausbesuch": "hausbesuch", "zr_mitteilung_eingang": "zr_eingang",
                "zr_anschreiben": "anschreiben_zwangsraeumung", "zr_termin": "zr_termin",
                "zr_anwesenheit": "zr_begleitung"}
    rng = random.Random(2025)
    chains = generate(rng, (TO - FROM).days)
    partner_t, case_t = registry.model("partner").__table__, registry.model("case").__table__
    entry_t = registry.model("doc_entry").__table__
    person, open_ = values[("partner_kind", "person")], values[("case_status", "open")]
    partners, cases, entries = [], [], []
    note = services["notiz"]
    for i, events in enumerate(chains, start=1):
        unit = units[rng.randrange(len(units))].id
        opened = FROM + timedelta(days=min(e[1] for e in events))
        partners.append({"id": i, "kind_id": person, "surname": f"Klient{i}", "surname_lc": f"klient{i}",
                         "org_unit_id": unit})
        cases.append({"id": i, "client_id": i, "file_number": f"B-{i:06d}", "file_number_lc": f"b-{i:06d}",
                      "opened_on": opened, "status_id": open_, "org_unit_id": unit})
        for point, offset, pairs in events:
            service_id, point_id, contact = services[by_point[point]]
            entries.append({"case_id": i, "entry_date": FROM + timedelta(days=offset), "service_id": service_id,
                            "measurement_point_id": point_id, "counts_as_contact": contact, "in_pairs": pairs,
                            "org_unit_id": unit})
        entries.append({"case_id": i, "entry_date": opened, "service_id": note[0], "measurement_point_id": None,
                        "counts_as_contact": False, "in_pairs": None, "org_unit_id": unit})
    confirmations = [{"org_unit_id": u.id, "standard": s, "fulfilled": rng.random() < 0.7,
                      "confirmed_on": date(2025, 11, 1), "confirmed_by": "bench"}
                     for u in units for s in ACCESS_STANDARDS]
    from app.prevention_models import AccessStandard
    with engine.begin() as conn:
        for table, rows in ((partner_t, partners), (case_t, cases), (entry_t, entries),
                            (AccessStandard.__table__, confirmations)):
            for k in range(0, len(rows), CHUNK):
                conn.execute(table.insert(), rows[k:k + CHUNK])
        reset_sequences(conn, [partner_t, case_t, entry_t])  # partners and cases carry their own ids
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return {"cases": len(cases), "entries": len(entries), "events": len(entries) - len(cases),
            "notices": NOTICES, "units": len(units), "seconds": time.perf_counter() - started}


QS11_SQL = """
WITH notices AS (
  SELECT DISTINCT e.case_id, c.org_unit_id, e.entry_date AS received
  FROM doc_entry e JOIN "case" c ON c.id = e.case_id
  WHERE e.measurement_point_id = :klage AND e.entry_date >= :from_ AND e.entry_date <= :seen_to),
letters AS (
  SELECT n.org_unit_id, n.received,
         (SELECT MIN(l.entry_date) FROM doc_entry l
          WHERE l.case_id = n.case_id AND l.measurement_point_id = :letter
            AND l.entry_date >= n.received AND l.entry_date <= :as_of) AS sent
  FROM notices n)
SELECT l.org_unit_id,
       SUM(CASE WHEN l.sent IS NOT NULL AND ws.ord - wr.ord <= 3 THEN 1 ELSE 0 END) AS met,
       SUM(CASE WHEN l.sent IS NULL AND :as_of_ord - wr.ord < 3 THEN 1 ELSE 0 END) AS pending,
       COUNT(*) AS notices
FROM letters l JOIN bench_workday wr ON wr.day = l.received LEFT JOIN bench_workday ws ON ws.day = l.sent
GROUP BY l.org_unit_id
"""


def workday_table(engine, calendar) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_workday"))
        conn.execute(text("CREATE TABLE bench_workday (day DATE PRIMARY KEY, ord INTEGER NOT NULL)"))
        days = calendar.ordinals(FROM - timedelta(days=10), AS_OF + timedelta(days=400))
        conn.execute(text("INSERT INTO bench_workday (day, ord) VALUES (:day, :ord)"),
                     [{"day": d, "ord": o} for d, o in days.items()])


def timed(fn, runs: int) -> tuple[float, float, object]:
    fn()  # warm-up: connection, statement cache, holiday table
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, result


def bench(name: str, url: str, spec, runs: int) -> tuple[list[tuple], dict, bool]:
    from app.core_models import CatalogueValue, OrgUnit
    from app.domain.calendar import working_calendar
    from app.integrations.survey_form import survey_of, write_json
    from app.services.indicators import event_query, fetch_rows, indicator_report, report_units
    engine = reset(url)
    info = load_data(engine, spec)
    calendar = working_calendar(spec.settings.holiday_subdivision, spec.settings.closure_days)
    workday_table(engine, calendar)
    rows: list[tuple] = []
    slow = False
    with Session(engine) as session:
        units = report_units(session)
        ids = {c: i for i, c in session.query(CatalogueValue.id, CatalogueValue.code)
               .filter(CatalogueValue.catalogue == "measurement_point")}

        def report(start, end, only=None):
            return lambda: write_json(survey_of(indicator_report(session, start, end, AS_OF, only or units).report))

        mitte = [u for u in units if u.code == "mitte"]
        cases = [
            ("Bericht 2 Jahre, 12 Bezirke (CLI-Weg: Abfrage + Berechnung + JSON)", report(FROM, TO), True),
            ("Bericht 1 Jahr (2025), 12 Bezirke", report(date(2025, 1, 1), TO), True),
            ("Bericht 1 Quartal (IV/2025), 12 Bezirke", report(date(2025, 10, 1), TO), True),
            ("Bericht 2 Jahre, 1 Bezirk (Mitte)", report(FROM, TO, mitte), True),
            ("Referenz: dieselbe Ereignis-Abfrage allein (2 Jahre, Zeilen vom Treiber holen)",
             lambda: len(fetch_rows(session, event_query(session, FROM, AS_OF, [u.id for u in units]))), False),
            ("Referenz: QS 1.1 von Hand in SQL (2 Jahre, Arbeitstag-Tabelle)",
             lambda: session.execute(text(QS11_SQL), {
                 "klage": ids["klage_eingang"], "letter": ids["klage_anschreiben"], "from_": FROM,
                 "seen_to": min(TO, AS_OF), "as_of": AS_OF, "as_of_ord": calendar.ordinal(AS_OF)}).all(), False),
        ]
        for label, fn, is_report in cases:
            median, p95, _ = timed(fn, runs)
            rows.append((name, label, median, p95))
            slow |= is_report and median >= LIMIT_SECONDS
        # The split of the two-year report: loading (query + grouping) vs computing.
        from app.services.indicators import load_cases, paused_cyclic_gc

        def load():
            with paused_cyclic_gc():
                return load_cases(session, FROM, TO, AS_OF, units)
        median, p95, _ = timed(load, runs)
        rows.append((name, "davon: Ereignisse laden und je Fall gruppieren (2 Jahre)", median, p95))
        full = indicator_report(session, FROM, TO, AS_OF, units).report
        sql = session.execute(text(QS11_SQL), {
            "klage": ids["klage_eingang"], "letter": ids["klage_anschreiben"], "from_": FROM,
            "seen_to": min(TO, AS_OF), "as_of": AS_OF, "as_of_ord": calendar.ordinal(AS_OF)}).all()
        info["qs11_report"] = (full.total["1.1"].numerator, full.total["1.1"].denominator)
        info["qs11_sql"] = (sum(r.met for r in sql), sum(r.notices - r.pending for r in sql))
        info["n_units"] = session.query(OrgUnit).count()
    engine.dispose()
    return rows, info, slow


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    spec = build_spec()
    targets = {"sqlite": f"sqlite:///{SQLITE_PATH}", "postgresql": PG_URL}
    chosen = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    all_rows, slow = [], False
    for name in chosen:
        rows, info, too_slow = bench(name, targets[name], spec, args.runs)
        slow |= too_slow
        all_rows += rows
        print(f"{name}: {info['units']} Bezirke, {info['notices']:,} Mitteilungen, {info['cases']:,} Fallakten, "
              f"{info['entries']:,} Doku-Einträge ({info['events']:,} an Messpunkten); geladen in "
              f"{info['seconds']:.1f} s. QS 1.1 gesamt: Bericht {info['qs11_report'][0]} von {info['qs11_report'][1]}, "
              f"SQL-Referenz {info['qs11_sql'][0]} von {info['qs11_sql'][1]}.", file=sys.stderr)
    print(f"\nIndikatorenbericht, Median und p95 aus {args.runs} Läufen (nach einem Aufwärmlauf):\n")
    print("| Datenbank | Messung | Median | p95 |")
    print("| --- | --- | ---: | ---: |")
    for name, label, median, p95 in all_rows:
        print(f"| {name} | {label} | {median * 1000:.0f} ms | {p95 * 1000:.0f} ms |")
    print(f"\nBefehl: .venv/bin/python bench/indicators.py --db {args.db} --runs {args.runs}")
    print(f"Ziel: Bericht ≤ {LIMIT_SECONDS:.0f} s – {'VERFEHLT' if slow else 'erreicht'}.")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
