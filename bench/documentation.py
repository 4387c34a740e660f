"""Benchmark of the documentation issue: the case's documentation list and the clerk's and team's
overview with 2,000,000 entries in the database, each beside a plain SQLAlchemy query with a minimal
Jinja template in the same run (same filter, order, limit and org-unit condition).

    python -m bench.documentation --db sqlite
    python -m bench.documentation --db postgresql
    python -m bench.documentation --db sqlite --entries 200000   # a quicker look

The database is kept in the work directory (SQLite) or in ``fachstelle_bench_doc`` (PostgreSQL); a
second run with ``--reuse`` measures without loading again.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from flask import Blueprint, render_template_string
from flask_login import current_user, login_required
from sqlalchemy import create_engine, func, insert, select, text

from .measure import StatementCounter, compare

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_bench_doc"
CLERK, PASSWORD = "bench_doc_sb", "bench-pw"
TARGET_MS, TARGET_RATIO = 100.0, 2.0
N_CASES, N_CLERKS = 20_000, 20

PLAIN = """<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Doku</title></head><body>
<table>{% for e in rows %}<tr><td>{{ e.entry_date.strftime('%d.%m.%Y') }}</td><td>{{ e.service.name }}</td>
<td>{{ e.info or '' }}</td><td>{{ (e.text or '')|truncate(160) }}</td><td>{{ e.provider or '' }}</td>
<td>{{ e.case.file_number }}</td><td>{{ e.case.client }}</td></tr>{% endfor %}</table></body></html>"""


def reference_blueprint():
    """The same three lists written by hand: one select, selectinload of what is shown, a bare template."""
    from sqlalchemy.orm import selectinload

    from app.extensions import db
    from app.metamodel.build_models import built_registry
    from app.scoping import scope_query
    bp = Blueprint("bench_doc_ref", __name__, url_prefix="/_bench_doc")

    def page(where):
        registry = built_registry()
        entry, case = registry.model("doc_entry"), registry.model("case")
        query = scope_query(select(entry).where(*where(entry)), entry)
        query = (query.order_by(entry.entry_date.desc(), entry.id.desc()).limit(51)
                 .options(selectinload(entry.service), selectinload(entry.provider),
                          selectinload(entry.case).selectinload(case.client)))
        return render_template_string(PLAIN, rows=list(db.session.scalars(query))[:50])

    @bp.get("/case/<int:case_id>")
    @login_required
    def case(case_id):
        return page(lambda e: [e.case_id == case_id])

    @bp.get("/mine")
    @login_required
    def mine():
        return page(lambda e: [e.provider_id == current_user.id])

    @bp.get("/team")
    @login_required
    def team():
        return page(lambda e: [])
    return bp


def make_app(url: str, workdir: Path):
    from app import create_app
    os.environ["FACHSTELLE_INSTANCE_DIR"] = str(workdir / "instance")
    (workdir / "instance").mkdir(parents=True, exist_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench",
                      "FACHSTELLE_CITY": None, "FAB_UPDATE_PERMS": False,
                      "FACHSTELLE_CONFIG_DIR": str(ROOT / "config")})
    app.register_blueprint(reference_blueprint())
    return app


def load(app, workdir: Path, n_entries: int, log) -> float:
    """Schema as ``init`` makes it, then partners, cases and entries in bulk (the rules are not needed)."""
    from flask_appbuilder import Model
    from flask_appbuilder.security.manager import BaseSecurityManager
    from flask_appbuilder.security.sqla.models import User

    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.web.build_roles import sync_roles
    from app.metamodel.migrate import migrate
    from app.services.seed import seed_all
    from app.services.sequences import reset_sequences
    from app.services.users import ensure_user

    started = time.perf_counter()
    migrate(db.engine, Model.metadata, versions_dir=workdir / "versions")
    spec, registry = app.config["FACHSTELLE_SPEC"], app.config["FACHSTELLE_REGISTRY"]
    seed_all(db.session, spec)
    db.session.commit()
    sm = app.appbuilder.sm
    BaseSecurityManager.create_db(sm)
    app.appbuilder.add_permissions(update_perms=True)
    sync_roles(sm, spec)
    units = list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
    for n in range(N_CLERKS):
        ensure_user(sm, CLERK if n == 0 else f"bench_doc_{n}", PASSWORD, "Sachbearbeitung",
                    [units[n % len(units)].code], check_policy=False)  # bench accounts only
    users = {u.username: u for u in db.session.scalars(select(User))}
    clerks = [users[CLERK if n == 0 else f"bench_doc_{n}"] for n in range(N_CLERKS)]
    value = {(v.catalogue, v.code): v.id for v in db.session.scalars(select(CatalogueValue))}
    services = list(db.session.scalars(select(registry.model("service"))))
    now = datetime.now(timezone.utc)
    stamp = {"created_at": now, "updated_at": now, "created_by": "bench", "updated_by": "bench"}
    partner, case, entry = (registry.model(n) for n in ("partner", "case", "doc_entry"))
    rnd = random.Random(7)
    db.session.execute(insert(partner), [
        {"id": i + 1, "kind_id": value[("partner_kind", "person")], "surname": f"Klient{i}", "surname_lc": f"klient{i}",
         "first_name": "Test", "first_name_lc": "test", "org_unit_id": units[i % len(units)].id, **stamp}
        for i in range(N_CASES)])
    db.session.execute(insert(case), [
        {"id": i + 1, "client_id": i + 1, "file_number": f"2025/{i + 1:06d}", "file_number_lc": f"2025/{i + 1:06d}",
         "opened_on": date(2024, 1, 1) + timedelta(days=i % 700), "status_id": value[("case_status", "open")],
         "org_unit_id": units[i % len(units)].id, **stamp} for i in range(N_CASES)])
    db.session.commit()
    batch, written = [], 0
    start_day = date(2023, 1, 1)
    for n in range(n_entries):
        case_id = rnd.randrange(N_CASES) + 1
        unit = units[(case_id - 1) % len(units)]
        provider = clerks[rnd.randrange(N_CLERKS // len(units)) * len(units) + (case_id - 1) % len(units)]
        service = services[rnd.randrange(len(services))]
        batch.append({"id": n + 1, "case_id": case_id, "org_unit_id": unit.id, "service_id": service.id,
                      "entry_date": start_day + timedelta(days=rnd.randrange(1400)), "info": f"Eintrag {n}",
                      "text": "Gespräch geführt, Unterlagen angefordert." if n % 3 == 0 else None,
                      "provider_id": provider.id, "in_pairs": False,
                      "measurement_point_id": service.measurement_point_id,
                      "counts_as_contact": bool(service.counts_as_contact), **stamp})
        if len(batch) == 20_000:
            db.session.execute(insert(entry), batch)
            db.session.commit()
            written += len(batch)
            batch = []
            if written % 200_000 == 0:
                log(f"  {written:,} Einträge …")
    if batch:
        db.session.execute(insert(entry), batch)
    reset_sequences(db.session, [partner, case, entry])  # the rows above carry their own ids
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.documentation", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--entries", type=int, default=2_000_000)
    p.add_argument("--reuse", action="store_true")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeat", type=int, default=40)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/bench-doc"))
    args = p.parse_args(argv)
    workdir = args.workdir / args.db
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'doc.db'}" if args.db == "sqlite" else os.environ.get("FACHSTELLE_BENCH_DOC_URL", PG_URL)
    if not args.reuse:
        if args.db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(workdir / "doc.db") + suffix).unlink(missing_ok=True)
        else:
            engine = create_engine(url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        import shutil
        shutil.rmtree(workdir / "versions", ignore_errors=True)
    app = make_app(url, workdir)
    from app.extensions import db
    with app.app_context():
        loaded = None
        entry_model = app.config["FACHSTELLE_REGISTRY"].model("doc_entry")
        try:
            count = db.session.scalar(select(func.count()).select_from(entry_model))
        except Exception:  # noqa: BLE001 - no tables yet
            db.session.rollback()
            count = 0
        if count != args.entries:
            if count:
                sys.exit(f"Datenbank hat {count} Einträge, erwartet {args.entries}: ohne --reuse neu laden.")
            print(f"Lade {args.entries:,} Doku-Einträge in {args.db} …", file=sys.stderr)
            loaded = load(app, workdir, args.entries, lambda m: print(m, file=sys.stderr))
        counter = StatementCounter(db.engine)
        from flask_appbuilder.security.sqla.models import User
        clerk = db.session.scalars(select(User).where(User.username == CLERK)).one()
        unit_ids = [u.id for u in clerk.org_units]
        registry = app.config["FACHSTELLE_REGISTRY"]
        case_model = registry.model("case")
        busiest = db.session.execute(
            select(entry_model.case_id, func.count()).join(case_model, case_model.id == entry_model.case_id)
            .where(case_model.org_unit_id.in_(unit_ids)).group_by(entry_model.case_id)
            .order_by(func.count().desc()).limit(1)).first()
        mine_count = db.session.scalar(select(func.count()).select_from(entry_model)
                                       .where(entry_model.provider_id == clerk.id))
        db.session.remove()
    client = app.test_client()
    response = client.post("/login/", data={"username": CLERK, "password": PASSWORD})
    assert response.status_code in (200, 302), response.status_code

    def get(url):
        def call():
            r = client.get(url)
            if r.status_code != 200:
                raise SystemExit(f"{url}: {r.status_code}")
            return r
        return call

    case_id, per_case = busiest
    pages = [
        ("case", f"Falldokumentation einer Fallakte ({per_case} Einträge), Seite 1 (50)", f"/documentation/case/{case_id}",
         f"/_bench_doc/case/{case_id}"),
        ("case_filtered", "… gefiltert: ab 01.01.2025, eine Leistungsgruppe", None, None),
        ("mine", f"Meine Dokumentation ({mine_count:,} Einträge), Seite 1", "/documentation/", "/_bench_doc/mine"),
        ("team", "Dokumentation des Teams (Dienststelle), Seite 1", "/documentation/?scope=team", "/_bench_doc/team"),
    ]
    with app.app_context():
        from app.core_models import CatalogueValue
        group = db.session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "service_group",
                                                                CatalogueValue.code == "beratung")).one()
        db.session.remove()
    pages[1] = (pages[1][0], pages[1][1], f"/documentation/case/{case_id}?from=01.01.2025&group={group.id}", None)
    rows = []
    for name, label, url, ref in pages:
        app_series, ref_series = compare(get(url), get(ref) if ref else None, counter, args.warmup, args.repeat)
        ratio = app_series.median_ms / ref_series.median_ms if ref_series else None
        met = app_series.p95_ms <= TARGET_MS and (ratio is None or ratio <= TARGET_RATIO)
        rows.append((label, app_series, ref_series, ratio, met))
    print(f"\n#### Dokumentation · {args.db} · {args.entries:,} Doku-Einträge · {datetime.now():%Y-%m-%d %H:%M}\n")
    if loaded:
        print(f"Laden: {loaded:.0f} s\n")
    print("| Messung | App Median | App p95 | Referenz Median | Referenz p95 | Verhältnis | SQL (Ref.) | erfüllt |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for label, a, r, ratio, met in rows:
        print(f"| {label} | {a.median_ms:.1f} ms | {a.p95_ms:.1f} ms | {f'{r.median_ms:.1f} ms' if r else '–'} | "
              f"{f'{r.p95_ms:.1f} ms' if r else '–'} | {f'{ratio:.2f}' if ratio else '–'} | {a.queries_per_call}"
              f"{f' ({r.queries_per_call})' if r else ''} | {'ja' if met else '**nein**'} |")
    print(f"\nBefehl: `python -m bench.documentation --db {args.db} --reuse`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
