"""Loans and treasury speed (#13): payment import of 100,000 bookings with matching, the second import of the
same file, and the loans report over 20,000 loans.

    python -m bench.loans --db sqlite
    python -m bench.loans --db postgresql --pg-url postgresql+psycopg://…/fachstelle_x

A fresh database (as ``fachstelle init``), 20,000 loans (10,000 clients, 2 loans each, 13 instalments of
100 € each, a Kassenzeichen each) written in bulk, then a payment CSV of 100,000 rows (seed 13): 60 % with the
Kassenzeichen column, 30 % with the Kassenzeichen only in the purpose text (with dots and a dash), 10 % unknown
(Klärfälle). Measured: the import with matching and booking (commit included), the same file again (nothing
booked), ``report_json`` as of a day (every loan's figures), and as the plain reference in the same run a bare
``csv.reader`` plus Core executemany of the same 100,000 rows into ``treasury_payment``.
Targets (issue #13): import ≤ 30 s, second import ≤ 10 s, report ≤ 2 s. Wall and CPU seconds are both
printed: on a shared machine (load above the core count) the wall time is mostly waiting for a core. The report
is measured after the import, so it sums 90,000 bookings too.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2027, 6, 30)


def _fresh(db: str, url: str, workdir: Path) -> str:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if db == "postgresql":
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{workdir / 'bench.db'}"


def seed_loans(session, registry, n_loans: int) -> list[str]:
    """``n_loans`` running loans in bulk (two per client); returns their Kassenzeichen (normalised)."""
    from app.domain import kassenzeichen as kz
    from app.integrations.pipeline import batches, insert_rows, record_values
    from app.services.seed import catalogue_value
    from app.treasury_models import KassenzeichenEntry, LoanEvent
    now = datetime.now(timezone.utc)
    unit = session.execute(text("SELECT id FROM org_unit ORDER BY id LIMIT 1")).scalar()
    partner, case, loan = (registry.model(n) for n in ("partner", "case", "loan"))
    pspec, cspec, lspec = (registry.spec.entity(n) for n in ("partner", "case", "loan"))
    person = catalogue_value(session, "partner_kind", "person").id
    status = catalogue_value(session, "case_status", "open").id
    kind = catalogue_value(session, "loan_kind", "darlehen").id
    basis = catalogue_value(session, "loan_legal_basis", "sgb2_22_8").id
    state = catalogue_value(session, "loan_state", "tilgung").id
    clients = n_loans // 2
    partner_ids = []
    for chunk in batches([record_values(pspec, {"surname": f"Muster{i}", "first_name": "Erika", "kind_id": person,
                                                "org_unit_id": unit}, "bench", now) for i in range(clients)]):
        partner_ids += insert_rows(session, partner.__table__, chunk)
    case_ids = []
    for chunk in batches([record_values(cspec, {"client_id": pid, "opened_on": date(2026, 1, 1), "status_id": status,
                                                "org_unit_id": unit, "file_number": f"B/{i}"}, "bench", now)
                          for i, pid in enumerate(partner_ids)]):
        case_ids += insert_rows(session, case.__table__, chunk)
    numbers = [kz.compose("52", i + 1, 6, "mod11") for i in range(n_loans)]
    loan_rows = [record_values(lspec, {"case_id": case_ids[i // 2], "borrower_id": partner_ids[i // 2],
                                       "kassenzeichen": numbers[i], "kind_id": kind, "legal_basis_id": basis,
                                       "state_id": state, "applied_on": date(2026, 11, 1), "amount_rent": Decimal("1300.00"),
                                       "amount": Decimal("1300.00"), "rate": Decimal("100.00"),
                                       "first_due": date(2027, 1, 1), "org_unit_id": unit}, "bench", now)
                 for i in range(n_loans)]
    loan_ids = []
    for chunk in batches(loan_rows):
        loan_ids += insert_rows(session, loan.__table__, chunk)
    for chunk in batches([{"value": numbers[i], "source_kind": "loan", "source_id": lid, "org_unit_id": unit,
                           "created_by": "bench", "created_at": now} for i, lid in enumerate(loan_ids)]):
        insert_rows(session, KassenzeichenEntry.__table__, chunk, returning=False)
    for chunk in batches([{"loan_id": lid, "kind": "plan", "day": date(2026, 12, 1), "amount": Decimal("100.00"),
                           "date_from": date(2027, 1, 1), "pending": False, "created_by": "bench", "created_at": now}
                          for lid in loan_ids]):
        insert_rows(session, LoanEvent.__table__, chunk, returning=False)
    return numbers


def write_payments(path: Path, numbers: list[str], rows: int, seed: int = 13) -> None:
    from app.domain.kassenzeichen import display
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["buchungs_id", "kassenzeichen", "betrag", "buchungstag", "verwendungszweck"])
        for i in range(rows):
            number = numbers[rnd.randrange(len(numbers))]
            day = date(2027, 1 + rnd.randrange(6), 1 + rnd.randrange(28)).strftime("%d.%m.%Y")
            pick = rnd.random()
            if pick < 0.6:
                out.writerow([f"KB{i:08d}", display(number, "##.######-#"), "100,00", day, "Rate Darlehen"])
            elif pick < 0.9:
                out.writerow([f"KB{i:08d}", "", "100,00", day, f"Darlehen KZ {display(number, '##.######-#')} Rate"])
            else:
                out.writerow([f"KB{i:08d}", "", "25,00", day, f"Miete Wohnung {rnd.randrange(10**6)}"])


def child(db: str, url: str, payments: int, loans: int, workdir: Path) -> dict:
    url = _fresh(db, url, workdir)
    os.environ["FACHSTELLE_INSTANCE_DIR"] = str(workdir / "instance")
    (workdir / "instance").mkdir()
    from flask_appbuilder import Model

    from app import create_app
    from app.actor import Actor
    from app.extensions import db as fdb
    from app.integrations.treasury.payments import import_payments
    from app.metamodel.migrate import migrate
    from app.services.loan_reports import report_json
    from app.services.seed import seed_all
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "FACHSTELLE_CITY": None,
                      "FAB_UPDATE_PERMS": False, "FACHSTELLE_CONFIG_DIR": str(ROOT / "config")})
    actor = Actor.system("bench")
    with app.app_context():
        migrate(fdb.engine, Model.metadata, versions_dir=workdir / "versions")
        seed_all(fdb.session, app.config["FACHSTELLE_SPEC"])
        numbers = seed_loans(fdb.session, app.config["FACHSTELLE_REGISTRY"], loans)
        fdb.session.commit()
        if db == "postgresql":
            fdb.session.execute(text("ANALYZE"))
            fdb.session.commit()
        path = workdir / "zahlungen.csv"
        write_payments(path, numbers, payments)
        started, cpu = time.perf_counter(), time.process_time()
        first = import_payments(fdb.session, path, actor)
        fdb.session.commit()
        first_s, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        second = import_payments(fdb.session, path, actor)
        fdb.session.commit()
        second_s, second_cpu = time.perf_counter() - started, time.process_time() - cpu
        if db == "postgresql":
            fdb.session.execute(text("ANALYZE"))
            fdb.session.commit()
        started, cpu = time.perf_counter(), time.process_time()
        report = report_json(fdb.session, actor, AS_OF)
        report_s, report_cpu = time.perf_counter() - started, time.process_time() - cpu
        reference = _reference(fdb, path)
    return {"payments": payments, "loans": loans, "first": first_s, "second": second_s, "first_cpu": first_cpu, "second_cpu": second_cpu, "report": report_s, "report_cpu": report_cpu,
            "booked": first.booked, "to_clear": first.to_clear, "again_booked": second.booked,
            "skipped": second.skipped, "reported": len(report["darlehen"]), "reference": reference}


def _reference(fdb, path: Path) -> float:
    """The floor: csv.reader + Core executemany of the same rows into treasury_payment (no checks, no matching)."""
    from sqlalchemy import insert

    from app.treasury_models import TreasuryPayment
    fdb.session.execute(text("DELETE FROM loan_booking"))
    fdb.session.execute(text("DELETE FROM treasury_payment"))
    fdb.session.commit()
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        next(reader)
        batch = []
        for ref, number, amount, day, purpose in reader:
            d, m, y = day.split(".")
            batch.append({"buchungs_id": ref, "kassenzeichen": number or None, "betrag": Decimal(amount.replace(",", ".")),
                          "buchungstag": date(int(y), int(m), int(d)), "verwendungszweck": purpose, "state": "gebucht"})
            if len(batch) == 2000:
                fdb.session.execute(insert(TreasuryPayment.__table__), batch)
                batch = []
        if batch:
            fdb.session.execute(insert(TreasuryPayment.__table__), batch)
    fdb.session.commit()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.loans", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--payments", type=int, default=100_000)
    p.add_argument("--loans", type=int, default=20_000)
    p.add_argument("--pg-url", default=os.environ.get("FACHSTELLE_BENCH_DATABASE_URL"))
    p.add_argument("--workdir", type=Path, default=Path("/tmp/bench-loans"))
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.db == "postgresql" and not args.pg_url:
        p.error("--pg-url (a database of its own: its schema is dropped)")
    url = args.pg_url or "sqlite://"
    if args.child:
        print(json.dumps(child(args.db, url, args.payments, args.loans, args.workdir / args.db)))
        return 0
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, "-m", "bench.loans", "--db", args.db, "--child", "--payments",
                          str(args.payments), "--loans", str(args.loans), "--workdir", str(args.workdir),
                          *(["--pg-url", args.pg_url] if args.pg_url else [])],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return 1
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print("| DB | Zahlungen | Import (Ziel ≤ 30 s) | gleiche Datei nochmal (≤ 10 s) | Referenz csv + executemany "
          "| Darlehen | Bericht (≤ 2 s) | Last vorher → nachher |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.db} | {r['payments']:,} ({r['booked']:,} gebucht, {r['to_clear']:,} Klärfälle) | {r['first']:.1f} s "
          f"(CPU {r['first_cpu']:.1f} s) | {r['second']:.1f} s (CPU {r['second_cpu']:.1f} s; {r['again_booked']} gebucht, "
          f"{r['skipped']:,} übersprungen) | {r['reference']:.1f} s | {r['loans']:,} | {r['report']:.2f} s (CPU "
          f"{r['report_cpu']:.2f} s; {r['reported']:,} im Bericht) | {load:.1f} → {os.getloadavg()[0]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
