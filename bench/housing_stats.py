"""End-to-end timing of the official housing statistics (#14) at city size, on SQLite and PostgreSQL.

The city database of ``bench/dataset.py`` (200,000 partners, 300,000 cases, built by the demo generator) plus
the accommodation data of ten years (2016–2025): 300 shelters of every type and provider, 2,400 rooms of eight
places, filled from 2016 to 2025 with about 100,000 occupancies in households of one to eight persons (the client as Bezugsperson, the others
as household members with the roles partner / kind / sonstige), legal bases obg 70 %, § 67 SGB XII 10 %,
Kältehilfe 5 %, AsylbLG 10 %, sonstige 5 %; stays of 2 days to 2 years, back to back per room, the last ones
open. All written with bulk inserts (the database's no-overbooking constraints check them).

Measured per database in the same run, what ``fachstelle statistics`` does after start-up:
- NRW form at 30.06.2025 (query + domain + JSON), for all units (CLI) and for one unit (a district user);
- federal records at 31.01.2026 (query + domain + pseudonyms + CSV);
- reference: the Stichtag query alone (rows fetched, nothing computed).

Run (from the repository root):

    .venv/bin/python -m bench.housing_stats --db both --runs 9

PostgreSQL: ``--pg-url`` (default database ``fachstelle_bench_stats``; its ``public`` schema is dropped and
recreated unless ``--reuse``); SQLite under ``--workdir`` (default ``/tmp/fachstelle_bench_stats``).
Prints a Markdown table; exits 1 if a statistic's p95 is 2 s or more. Not a test.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

PG_URL = "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_bench_stats"
OCCUPANCIES = 100_000
SHELTERS, ROOMS_PER_SHELTER, PLACES_PER_ROOM = 300, 8, 8   # 2,400 rooms of 8 places
FIRST, LAST = date(2016, 1, 1), date(2025, 12, 31)
LIMIT_SECONDS = 2.0
NRW_DAY, BUND_DAY = date(2025, 6, 30), date(2026, 1, 31)
BASES = [("obg", 70), ("sgb12_67", 10), ("kaeltehilfe", 5), ("asylblg", 10), ("sonstige", 5)]
TYPES = [("notunterkunft", "gemeinde", None), ("notschlafstelle", "gemeinde", None),
         ("gemeinschaftsunterkunft", "gemeinde", None), ("wohnung", "gemeinde", None),
         ("hotel", "gewerblich", None), ("betreutes_wohnen", "freier_traeger", "caritas"),
         ("stationaer", "freier_traeger", "diakonie"), ("betreutes_wohnen", "freier_traeger", "awo")]


def _pick(rng, weighted):
    r = rng.randrange(sum(w for _, w in weighted))
    for value, w in weighted:
        if r < w:
            return value
        r -= w
    raise AssertionError


def load_accommodation(app, log, fresh: bool = False) -> int:
    """Shelters, rooms, places, occupancies and household roles on top of the city data (once)."""
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.demo import _derived, _insert, _stamp, reset_sequences

    reg = app.config["FACHSTELLE_REGISTRY"]
    S, R, P, O, HM, Case = (reg.model(n) for n in ("shelter", "room", "place", "occupancy", "household_member",
                                                   "case"))
    have = db.session.scalar(select(func.count()).select_from(O))
    if have >= OCCUPANCIES * 0.9 and not fresh:
        return have
    if have:
        from sqlalchemy import delete
        db.session.execute(delete(O))
        db.session.execute(delete(HM).where(HM.household_role_id.is_not(None)))
        for model in (P, R, S):
            db.session.execute(delete(model))
        db.session.commit()
    started = time.perf_counter()
    rng = random.Random(14)
    cats: dict[str, dict[str, int]] = {}
    for cid, cat, code in db.session.execute(select(CatalogueValue.id, CatalogueValue.catalogue, CatalogueValue.code)):
        cats.setdefault(cat, {})[code] = cid
    units = list(db.session.scalars(select(OrgUnit.id).order_by(OrgUnit.id)))
    from app import clock
    now = clock.utcnow()
    shelters, rooms, places = [], [], []
    sid = rid = pid = 1
    room_places: list[tuple[int, int, int, list[int]]] = []   # room id, shelter id, unit, place ids
    for s in range(SHELTERS):
        stype, provider, assoc = TYPES[s % len(TYPES)]
        unit = units[s % len(units)]
        shelters.append(_derived(reg.entity("shelter"), {
            "id": sid, "name": f"Unterkunft {s + 1:03d}", "shelter_type_id": cats["shelter_type"][stype],
            "provider_type_id": cats["provider_type"][provider],
            "association_id": cats["welfare_association"][assoc] if assoc else None,
            "ags": "05162024" if s % 50 else "0516202", "capacity": ROOMS_PER_SHELTER * PLACES_PER_ROOM,
            "org_unit_id": unit}, now))
        for r in range(ROOMS_PER_SHELTER):
            rooms.append(_derived(reg.entity("room"), {"id": rid, "shelter_id": sid, "label": f"R{r + 1}",
                                                       "places": PLACES_PER_ROOM, "org_unit_id": unit}, now))
            ids = []
            for p in range(PLACES_PER_ROOM):
                places.append(_derived(reg.entity("place"), {"id": pid, "room_id": rid, "shelter_id": sid,
                                                             "label": str(p + 1), "org_unit_id": unit}, now))
                ids.append(pid)
                pid += 1
            room_places.append((rid, sid, unit, ids))
            rid += 1
        sid += 1
    _insert(db.session, S, shelters)
    _insert(db.session, R, rooms)
    _insert(db.session, P, places)
    # Every person is accommodated once (the database refuses a person twice a night): a case whose client
    # is taken already is skipped; the other members come from the partners nobody has taken.
    cases = db.session.execute(select(Case.id, Case.client_id, Case.org_unit_id).order_by(Case.id)).all()
    rng.shuffle(cases)
    partner_ids = list(db.session.scalars(select(reg.model("partner").id).order_by(reg.model("partner").id)))
    rng.shuffle(partner_ids)
    used: set[int] = set()

    def next_case():
        while True:
            case_id, client, unit = cases.pop()
            if client not in used:
                used.add(client)
                return case_id, client, unit

    def next_person():
        while True:
            person = partner_ids.pop()
            if person not in used:
                used.add(person)
                return person

    occupancies, members = [], []
    oid = (db.session.scalar(select(func.max(O.id))) or 0) + 1
    hid = (db.session.scalar(select(func.max(HM.id))) or 0) + 1
    cursor = {rp[0]: FIRST + timedelta(days=rng.randrange(60)) for rp in room_places}
    open_rooms = list(room_places)
    n = 0
    # Every room is filled from 2016 to the end of 2025 (the last stay stays open), so each Stichtag sees a
    # steady occupancy; the sizes are chosen so that this makes about 100,000 occupancies.
    while open_rooms and n < OCCUPANCIES * 1.2:
        k_room = rng.randrange(len(open_rooms))
        room_id, shelter_id, _unit, place_ids = open_rooms[k_room]
        start = cursor[room_id]
        size = _pick(rng, [(1, 55), (2, 15), (3, 12), (4, 9), (5, 5), (6, 2), (8, 2)])
        stay = rng.choice([2, 7, 14, 30, 90, 180, 365, 600])
        end = start + timedelta(days=stay)
        move_out = None if end > LAST else end
        if move_out is None:
            open_rooms.pop(k_room)   # the last stay of this room is still running
        else:
            cursor[room_id] = end + timedelta(days=rng.randrange(0, 20))
        case_id, client, unit = next_case()
        basis = cats["accommodation_basis"][_pick(rng, BASES)]
        people = [client] + [next_person() for _ in range(size - 1)]
        roles = ["bezugsperson"] + (["partner"] if size > 1 and rng.random() < 0.6 else [])
        roles += ["kind"] * (size - len(roles))
        if size > 2 and rng.random() < 0.1:
            roles[-1] = "sonstige"
        for k, person in enumerate(people):
            occupancies.append({"id": oid, "case_id": case_id, "person_id": person, "place_id": place_ids[k],
                                "shelter_id": shelter_id, "move_in": start, "move_out": move_out,
                                "legal_basis_id": basis, "org_unit_id": unit, **_stamp(now)})
            oid += 1
            if k:
                members.append({"id": hid, "case_id": case_id, "member_id": person, "org_unit_id": unit,
                                "household_role_id": cats["household_role"][roles[k]], "moved_in_on": start,
                                **_stamp(now)})
                hid += 1
        n += size
    log(f"  {len(occupancies)} Belegungen, {len(members)} Haushaltsmitglieder schreiben …")
    _insert(db.session, O, occupancies)
    _insert(db.session, HM, members)
    reset_sequences(db.session)
    db.session.commit()
    from bench.dataset import _analyze
    _analyze(db)
    log(f"  Unterbringung geladen in {time.perf_counter() - started:.0f} s")
    return len(occupancies)


def timed(fn, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], result


def measure(db_name: str, args, log) -> list[tuple]:
    from bench.dataset import prepare
    from app.actor import Actor
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.integrations import housing_stats_files as files
    from app.services import housing_stats as svc

    global OCCUPANCIES
    if args.size != "city":
        OCCUPANCIES = 1_000   # a quick trial of the script
    bench = prepare(db_name, args.size, Path(args.workdir) / db_name / args.size, args.pg_url, reuse=args.reuse,
                    log=log)
    rows = []
    with bench.app.app_context():
        n_occ = load_accommodation(bench.app, log, fresh=args.reload)
        system = Actor.system("bench")
        unit = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "nord"))
        district = Actor(name="bench_nord", units=(unit,))
        key = svc.pseudonym_key("bench")

        def nrw(actor):
            def run():
                res = svc.nrw(db.session, NRW_DAY, actor=actor)
                files.write_nrw_json(res.report)
                db.session.rollback()
                return res.report["personen"]["gesamt"]["insgesamt"]
            return run

        def bund():
            res = svc.bund(db.session, BUND_DAY, key, actor=system)
            files.write_bund_csv(res.rows)
            db.session.rollback()
            return len(res.rows)

        def query_only():
            facts = svc.load_facts(db.session, NRW_DAY, frozenset({"obg"}), actor=system)
            db.session.rollback()
            return len(facts)

        for label, fn in (("NRW 30.06.2025, alle Dienststellen", nrw(system)),
                          ("NRW 30.06.2025, eine Dienststelle", nrw(district)),
                          ("Bund 31.01.2026 (CSV), alle Dienststellen", bund),
                          ("Referenz: nur die Stichtagsabfrage (NRW)", query_only)):
            fn()  # warm-up
            median, p95, count = timed(fn, args.runs)
            rows.append((db_name, label, count, median, p95, n_occ))
            log(f"  {label}: {count} → Median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--workdir", default="/tmp/fachstelle_bench_stats")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--reuse", action="store_true", help="vorhandene Datenbanken weiterverwenden")
    parser.add_argument("--size", choices=("city", "small"), default="city")
    parser.add_argument("--reload", action="store_true", help="Unterbringungsdaten neu erzeugen")
    args = parser.parse_args()
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    rows = []
    for name in dbs:
        print(f"{name}:", file=sys.stderr)
        rows += measure(name, args, lambda m: print(m, file=sys.stderr, flush=True))
    print("| Datenbank | Messung | Personen/Datensätze | Median | p95 | Ziel | erfüllt |")
    print("|---|---|---:|---:|---:|---|---|")
    failed = False
    for db_name, label, count, median, p95, _n in rows:
        target = "–" if label.startswith("Referenz") else f"≤ {LIMIT_SECONDS:.0f} s"
        ok = label.startswith("Referenz") or p95 < LIMIT_SECONDS
        failed |= not ok
        print(f"| {db_name} | {label} | {count} | {median * 1000:.0f} ms | {p95 * 1000:.0f} ms | {target} | "
              f"{'ja' if ok else '**nein**'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
