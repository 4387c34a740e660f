"""Accommodation at city size (#12 §8): occupancy board, matching and the occupancy report for a year.

Data: 3,000 places in 120 shelters (8 rooms of 2–4 places each, random offer attributes), 2,500 current
occupants and 100,000 historic occupancies (back-to-back stays of 5–120 days per place since 2019), each with
its person and case; written with bulk inserts (the exclusion constraint checks every row on PostgreSQL).
Measured in the same run, after warm-up, alternating with a plain reference:

- board: ``services.accommodation.board`` for tonight over all 120 shelters (what the page renders from),
  reference: one hand-written SQL query of places with tonight's occupant, fetched into tuples;
- board page: the whole HTTP request ``/accommodation/board`` as a signed-in admin (for information);
- matching: ``services.accommodation.match_need`` (the matching page's default call: the suitable rooms,
  hard requirements in the database, with the attribute labels) for a family of four needing
  two wheelchair rooms without pets from tomorrow on (none fits in the generated city), and for one woman
  needing a wheelchair room (many fit: ranking and reasons measured too); reference: one SQL query of free places (NOT EXISTS
  on occupancy and reservation) in rooms with the attribute;
- occupancy report for 2025 (``services.accommodation.utilisation`` + JSON), reference: one SQL
  aggregate of the nights per shelter.

Run (from the repository root):

    .venv/bin/python bench/accommodation.py --db postgresql     # FACHSTELLE_BENCH_PG_URL or fachstelle_bench_acc
    .venv/bin/python bench/accommodation.py --db sqlite

Targets: board and matching p95 ≤ 100 ms and ≤ 2.0 × the reference; the report for a year ≤ 2 s.
Exits 1 when a target is missed. Not a test: timings on a shared machine are too noisy for CI.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from bench.measure import compare  # noqa: E402

PG_URL = os.environ.get("FACHSTELLE_BENCH_PG_URL",
                        "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_bench_acc")
SQLITE_PATH = Path(os.environ.get("FACHSTELLE_BENCH_SQLITE", "/tmp/fachstelle_bench_acc.sqlite"))
SHELTERS, ROOM_PLACES = 120, (4, 4, 3, 3, 3, 3, 3, 2)  # 25 places per shelter: 3,000
CURRENT, HISTORIC = 2_500, 100_000
TODAY = date(2026, 3, 15)
START = date(2019, 1, 1)


def reset(url: str) -> None:
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(url: str, workdir: Path):
    from app import create_app
    os.environ["FACHSTELLE_INSTANCE_DIR"] = str(workdir / "instance")
    (workdir / "instance").mkdir(parents=True, exist_ok=True)
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench",
                       "FACHSTELLE_CITY": None, "FAB_UPDATE_PERMS": False,
                       "FACHSTELLE_CONFIG_DIR": str(ROOT / "config")})


def init(app, workdir: Path) -> None:
    from flask_appbuilder import Model
    from flask_appbuilder.security.manager import BaseSecurityManager

    from app.extensions import db
    from app.metamodel.migrate import migrate
    from app.services.seed import seed_catalogues, seed_org_units
    from app.services.users import ensure_user
    from app.web.build_roles import sync_roles
    migrate(db.engine, Model.metadata, versions_dir=workdir / "versions")
    spec = app.config["FACHSTELLE_SPEC"]
    seed_catalogues(db.session, spec)
    seed_org_units(db.session, spec)
    db.session.commit()
    sm = app.appbuilder.sm
    BaseSecurityManager.create_db(sm)
    app.appbuilder.add_permissions(update_perms=True)
    sync_roles(sm, spec)
    ensure_user(sm, "bench_admin", "bench-pw", "Admin", None, check_policy=False)


def load(app, log) -> None:
    """Shelters, rooms, places (ids given), then persons, cases and occupancies in bulk."""
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.sequences import reset_sequences
    session = db.session
    reg = app.config["FACHSTELLE_REGISTRY"]
    rng = random.Random(12)
    cats: dict[str, dict[str, int]] = {}
    for v in session.scalars(select(CatalogueValue)):
        cats.setdefault(v.catalogue, {})[v.code] = v.id
    units = [u.id for u in session.scalars(select(OrgUnit).order_by(OrgUnit.id))]
    stamp = {"version": 1, "created_by": "bench", "updated_by": "bench"}
    Shelter, Room, Place, Partner, Case, Occ = (reg.model(n) for n in ("shelter", "room", "place", "partner",
                                                                        "case", "occupancy"))
    link = Room.attributes.property.secondary
    shelters, rooms, places, attrs = [], [], [], []
    attr_codes = list(cats["offer_attribute"])
    place_id = room_id = 0
    place_meta = []  # (place id, shelter id, unit)
    for s in range(1, SHELTERS + 1):
        unit = units[s % len(units)]
        shelters.append({"id": s, "name": f"Unterkunft {s:03d}", "shelter_type_id": rng.choice(list(cats["shelter_type"].values())),
                         "provider_type_id": rng.choice(list(cats["provider_type"].values())), "capacity": sum(ROOM_PLACES),
                         "district": f"Bezirk {s % 12}", "org_unit_id": unit, **stamp})
        for n, count in enumerate(ROOM_PLACES, start=1):
            room_id += 1
            rooms.append({"id": room_id, "shelter_id": s, "label": f"R{n}", "places": count, "org_unit_id": unit, **stamp})
            for code in rng.sample(attr_codes, rng.randint(1, 4)):
                attrs.append({"record_id": room_id, "value_id": cats["offer_attribute"][code]})
            for k in range(1, count + 1):
                place_id += 1
                places.append({"id": place_id, "room_id": room_id, "shelter_id": s, "label": str(k),
                               "org_unit_id": unit, **stamp})
                place_meta.append((place_id, s, unit))
    for model, rows in ((Shelter, shelters), (Room, rooms), (Place, places)):
        session.execute(insert(model.__table__), rows)
    session.execute(insert(link), attrs)
    # Stays per place: back-to-back history since 2019, then (for 2,500 places) a current open one.
    stays = []
    per_place = HISTORIC // len(place_meta) + 1
    for pid, sid, unit in place_meta:
        day = START + timedelta(days=rng.randint(0, 60))
        for _ in range(per_place):
            length = rng.randint(5, 60)
            if day + timedelta(days=length) >= TODAY - timedelta(days=2):
                break
            stays.append((pid, sid, unit, day, day + timedelta(days=length)))
            day += timedelta(days=length + rng.randint(0, 3))
    stays = stays[:HISTORIC]
    last_end: dict[int, date] = {}
    for pid, _sid, _unit, _a, b in stays:
        last_end[pid] = max(last_end.get(pid, START), b)
    for pid, sid, unit in rng.sample(place_meta, CURRENT):
        stays.append((pid, sid, unit, max(last_end.get(pid, START), TODAY - timedelta(days=rng.randint(1, 90))), None))
    log(f"  {len(shelters)} Unterkünfte, {len(places)} Plätze, {len(stays)} Belegungen …")
    obg, person = cats["accommodation_basis"]["obg"], cats["partner_kind"]["person"]
    status = cats["case_status"]["open"]
    batch = 10_000
    for start in range(0, len(stays), batch):
        chunk = stays[start:start + batch]
        base = start + 1
        session.execute(insert(Partner.__table__), [
            {"id": base + i, "kind_id": person, "surname": f"Person{base + i}", "first_name": "Bench",
             "org_unit_id": unit, **stamp} for i, (_p, _s, unit, _a, _b) in enumerate(chunk)])
        session.execute(insert(Case.__table__), [
            {"id": base + i, "client_id": base + i, "opened_on": a, "status_id": status, "org_unit_id": unit,
             "file_number": f"{a.year}/{base + i:06d}", **stamp} for i, (_p, _s, unit, a, _b) in enumerate(chunk)])
        session.execute(insert(Occ.__table__), [
            {"id": base + i, "case_id": base + i, "person_id": base + i, "place_id": p, "shelter_id": s,
             "move_in": a, "move_out": b, "legal_basis_id": obg, "org_unit_id": unit, **stamp}
            for i, (p, s, unit, a, b) in enumerate(chunk)])
        session.commit()
    reset_sequences(session)
    session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


BOARD_REF = """
SELECT pl.id, pl.label, r.label, s.name, pa.surname, pa.first_name, o.move_out
FROM place pl JOIN room r ON r.id = pl.room_id JOIN shelter s ON s.id = pl.shelter_id
LEFT JOIN occupancy o ON o.place_id = pl.id AND o.move_in <= :d AND (o.move_out IS NULL OR o.move_out > :d)
LEFT JOIN partner pa ON pa.id = o.person_id
ORDER BY s.name, r.label, pl.label
"""
MATCH_REF = """
SELECT pl.id, r.id, s.name FROM place pl JOIN room r ON r.id = pl.room_id JOIN shelter s ON s.id = pl.shelter_id
WHERE EXISTS (SELECT 1 FROM room__attributes ra WHERE ra.record_id = r.id AND ra.value_id = :attr)
AND NOT EXISTS (SELECT 1 FROM occupancy o WHERE o.place_id = pl.id AND (o.move_out IS NULL OR o.move_out > :d))
AND NOT EXISTS (SELECT 1 FROM reservation x WHERE x.place_id = pl.id AND x.state_id = :active
                AND x.expires_on >= :d AND (x.reserved_to IS NULL OR x.reserved_to > :d))
"""
REPORT_REF = """
SELECT o.shelter_id, SUM({nights}) FROM occupancy o
WHERE o.move_in <= :e AND (o.move_out IS NULL OR o.move_out > :s) GROUP BY o.shelter_id
"""


def measure(app, db_name: str, runs: int, log) -> list[tuple[str, float, float, float | None]]:
    from app.actor import Actor
    from app.core_models import CatalogueValue
    from app.domain import matching
    from app.extensions import db
    from app.services import accommodation as acc
    from app.services.accommodation import utilisation, utilisation_json
    session = db.session
    actor = Actor.system("bench")
    tomorrow = TODAY + timedelta(days=1)
    attr = session.scalar(select(CatalogueValue.id).where(CatalogueValue.catalogue == "offer_attribute",
                                                          CatalogueValue.code == "rollstuhl"))
    active = session.scalar(select(CatalogueValue.id).where(CatalogueValue.catalogue == "reservation_state",
                                                            CatalogueValue.code == "aktiv"))
    need = matching.Need((matching.Member("female", 40), matching.Member("male", 41), matching.Member("female", 8),
                          matching.Member("male", 5)), 4, 2, frozenset({"rollstuhl"}), frozenset({"haustiere"}),
                         "Bezirk 3")

    def board():
        session.expire_all()
        return acc.board(session, actor, TODAY, today=TODAY)

    def board_ref():
        return session.execute(text(BOARD_REF), {"d": TODAY}).all()

    def match():
        session.expire_all()
        # the page's default call (match_profile → match_need): suitable rooms only, hard rules in the database
        return acc.match_need(session, actor, need, tomorrow, None, TODAY)

    single = matching.Need((matching.Member("female", 40),), 1, 1, frozenset({"rollstuhl"}))

    def match_single():  # a need with many suitable rooms: ranking and reasons are measured too
        session.expire_all()
        return acc.match_need(session, actor, single, tomorrow, None, TODAY)

    def match_ref():
        return session.execute(text(MATCH_REF), {"attr": attr, "d": tomorrow, "active": active}).all()

    start, end = date(2025, 1, 1), date(2025, 12, 31)
    nights = ("(MIN(COALESCE(o.move_out, :e1), :e1) - MAX(o.move_in, :s))" if db_name == "sqlite" else
              "(LEAST(COALESCE(o.move_out, :e1), :e1) - GREATEST(o.move_in, :s))")
    if db_name == "sqlite":
        nights = "(julianday(MIN(COALESCE(o.move_out, :e1), :e1)) - julianday(MAX(o.move_in, :s)))"

    def report():
        return json.dumps(utilisation_json(utilisation(session, actor, start, end)))

    def report_ref():
        return session.execute(text(REPORT_REF.format(nights=nights)),
                               {"s": start, "e": end, "e1": end + timedelta(days=1)}).all()

    client = app.test_client()
    client.post("/login/", data={"username": "bench_admin", "password": "bench-pw"})

    def page():
        response = client.get(f"/accommodation/board?date={TODAY:%d.%m.%Y}")
        assert response.status_code == 200, response.status_code
        return response

    results = []
    for name, call, ref, n in (("Belegungsübersicht (Daten, 120 Unterkünfte, 3.000 Plätze)", board, board_ref, runs),
                               ("Matching (4 Personen, 2 Räume, rollstuhlgerecht)", match, match_ref, runs),
                               ("Matching (1 Person, rollstuhlgerecht)", match_single, match_ref, runs),
                               ("Belegungsübersicht als Seite (HTTP, zur Information)", page, board_ref, max(runs // 2, 5)),
                               ("Auslastungsbericht 2025 (JSON)", report, report_ref, max(runs // 4, 5))):
        mine, reference = compare(call, ref, None, warmup=2, repeat=n)
        results.append((name, mine.median_ms, mine.p95_ms, reference.p95_ms if reference else None))
        log(f"  {name}: median {mine.median_ms:.1f} ms, p95 {mine.p95_ms:.1f} ms, Referenz p95 "
            f"{reference.p95_ms:.1f} ms")
    fits = [r for r in match() if r.fits]
    log(f"  (Matching: {len(fits)} / {len(match_single())} passende Angebote; Tafel: {sum(s.free for s in board())} freie Plätze heute)")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="die Daten eines früheren Laufs weiterverwenden")
    args = parser.parse_args()
    url = f"sqlite:///{SQLITE_PATH}" if args.db == "sqlite" else PG_URL
    workdir = Path(tempfile.mkdtemp(prefix="bench_acc_"))
    if not args.reuse:
        reset(url)
    app = make_app(url, workdir)
    started = time.perf_counter()
    if not args.reuse:
        with app.app_context():
            init(app, workdir)
            load(app, print)
        print(f"Daten in {time.perf_counter() - started:.0f} s")
    with app.app_context():
        rows = measure(app, args.db, args.runs, print)
    print(f"\n| {args.db} | Median | p95 | Referenz p95 | Faktor (p95) |\n|---|---:|---:|---:|---:|")
    ok = True
    for name, median, p95, ref in rows:
        factor = p95 / ref if ref else None
        print(f"| {name} | {median:.1f} ms | {p95:.1f} ms | {ref:.1f} ms | {factor:.2f}× |")
        if name.startswith(("Belegungsübersicht (Daten", "Matching")) and (p95 > 100 or (factor or 0) > 2.0):
            ok = False
        if name.startswith("Auslastungsbericht") and p95 > 2000:
            ok = False
    print("Ziele erreicht." if ok else "Ziel verfehlt.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
