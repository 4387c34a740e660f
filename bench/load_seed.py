"""Fill a freshly initialised database for the load benchmark (``bench/load.py``) and name what it needs.

Run by ``bench/load.py`` as a script, with the Python of the code under test and in its tree (HEAD or the
reference commit's worktree), after ``fachstelle init`` of that tree:

    <venv>/bin/python /path/to/bench/load_seed.py --partners 20000 --cases 30000 --clerks 50

It imports only the ``app`` of that interpreter, and only functions both the reference and HEAD have
(``create_app``, ``services.demo``, ``services.users.ensure_user``), so the same seed runs against both.
Prints one JSON object on its last line: the clerks (user, password, unit), per unit a sample of its open
cases, and the surname prefixes the searches use.
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
import time

PASSWORD = "load-pw"
PROFILES = ("Sachbearbeitung", "Sozialarbeit")   # both may write documentation entries
CASES_PER_UNIT = 400
PREFIXES_PER_UNIT = 40


def clerk_accounts(unit_codes: list[str], n: int) -> list[dict]:
    """``n`` clerk accounts spread round-robin over the units, alternating the two writing profiles."""
    accounts = []
    for i in range(n):
        unit = unit_codes[i % len(unit_codes)]
        accounts.append({"username": f"load_{unit}_{i + 1:02d}", "password": PASSWORD, "unit": unit,
                         "profile": PROFILES[(i // len(unit_codes)) % len(PROFILES)]})
    return accounts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--partners", type=int, required=True)
    p.add_argument("--cases", type=int, required=True)
    p.add_argument("--clerks", type=int, required=True)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)

    from sqlalchemy import func, select, text

    from app import create_app
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.services import demo
    from app.services.users import ensure_user

    app = create_app({"FAB_UPDATE_PERMS": False})
    started = time.perf_counter()
    with app.app_context():
        session = db.session
        registry = app.config["FACHSTELLE_REGISTRY"]
        units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
        demo.demo_users(app, units)
        partner, case = registry.model("partner"), registry.model("case")
        if not session.scalar(select(func.count()).select_from(partner)):
            demo.generate(session, registry, units, args.partners, args.cases, args.seed)
            session.commit()
            demo.demo_letterheads(session, app.config["FACHSTELLE_SPEC"])
            demo.document_recent_cases(session, registry, args.seed)
            session.commit()
        accounts = clerk_accounts([u.code for u in units], args.clerks)
        # Bench accounts only: exempt from the password policy where the code under test has one (#11);
        # the reference commit's ensure_user does not know the argument.
        exempt = {"check_policy": False} if "check_policy" in inspect.signature(ensure_user).parameters else {}
        for account in accounts:
            ensure_user(app.appbuilder.sm, account["username"], account["password"], account["profile"],
                        [account["unit"]], first_name="Last", last_name=account["username"], **exempt)
        cases, prefixes = {}, {}
        for unit in units:
            ids = session.scalars(select(case.id).where(case.org_unit_id == unit.id, case.closed_on.is_(None))
                                  .order_by(case.id))
            ids = list(ids)
            step = max(len(ids) // CASES_PER_UNIT, 1)
            cases[unit.code] = ids[::step][:CASES_PER_UNIT]
            # Two-letter surname prefixes that the unit's clerks find (the most frequent ones first).
            first = func.lower(func.substr(partner.surname, 1, 2))
            rows = session.execute(select(first, func.count()).where(partner.org_unit_id == unit.id)
                                   .group_by(first).order_by(func.count().desc(), first).limit(PREFIXES_PER_UNIT))
            prefixes[unit.code] = [row[0] for row in rows]
        session.commit()
        counts = {name: session.scalar(select(func.count()).select_from(registry.model(name)))
                  for name in ("partner", "case", "doc_entry")}
        session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    print(json.dumps({"clerks": accounts, "cases": cases, "prefixes": prefixes, "counts": counts,
                      "seconds": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.path.pop(0)   # bench/ itself: its modules must not shadow anything the app imports
    sys.exit(main())
