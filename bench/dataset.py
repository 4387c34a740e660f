"""The benchmark database: create it (SQLite file or own PostgreSQL database), set it up as
``fachstelle init`` does, load the demo data and pick the records the measurements use.

A loaded database is kept in the work directory (SQLite) or in ``fachstelle_bench`` (PostgreSQL);
``--reuse`` takes it as it is when its row counts match the requested size, so re-runs are cheap.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

SIZES = {"city": (200_000, 300_000), "small": (2_000, 3_000), "tiny": (200, 300)}
DEFAULT_PG_URL = "postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_bench"
CLERK = "bench_sb_nord"      # profile Sachbearbeitung, org unit "nord"
CLERK_PROFILE = "Sachbearbeitung"
CLERK_UNITS = ["nord"]
PASSWORD = "bench-pw"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Bench:
    """What a measurement needs: the app, the clerk, and the records it looks at."""
    app: object
    db: str
    size: str
    url: str
    workdir: Path
    load_seconds: float | None
    partners: int
    cases: int
    clerk_unit_id: int
    case_id: int          # a case of the clerk's unit, with its pages
    partner_id: int       # a partner of the clerk's unit
    duplicate_probe: tuple[str, str, object]  # surname, first name, birth date of a common name
    prefix: str           # the name prefix the filtered lists use
    case_prefix: str      # the file-number prefix the filtered case list uses


def database_url(db: str, workdir: Path, pg_url: str | None) -> str:
    if db == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    return pg_url or os.environ.get("FACHSTELLE_BENCH_DATABASE_URL", DEFAULT_PG_URL)


def _wipe(db: str, url: str, workdir: Path) -> None:
    shutil.rmtree(workdir / "versions", ignore_errors=True)
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(workdir / "bench.db") + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _counts(app) -> tuple[int, int]:
    from app.extensions import db
    registry = app.config["FACHSTELLE_REGISTRY"]
    try:
        partners = db.session.scalar(select(func.count()).select_from(registry.model("partner")))
        cases = db.session.scalar(select(func.count()).select_from(registry.model("case")))
    except Exception:  # noqa: BLE001 - no tables yet
        db.session.rollback()
        return 0, 0
    # End the read's transaction: on PostgreSQL it holds a lock on the tables, and the migration that
    # follows (another connection) waited for it forever when the schema had changed.
    db.session.rollback()
    return partners or 0, cases or 0


def make_app(db: str, url: str, workdir: Path, config_dir: Path | None = None):
    """The app as a web worker runs it (FAB_UPDATE_PERMS off), pointed at the benchmark database."""
    from app import create_app
    os.environ["FACHSTELLE_INSTANCE_DIR"] = str(workdir / "instance")
    os.environ["FACHSTELLE_MIGRATIONS_DIR"] = str(workdir)
    (workdir / "instance").mkdir(parents=True, exist_ok=True)
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench",
                       "FACHSTELLE_CITY": None, "FAB_UPDATE_PERMS": False,
                       "FACHSTELLE_CONFIG_DIR": str(config_dir or ROOT / "config")})


def _init(app, workdir: Path) -> bool:
    """What ``fachstelle init`` does: migrate, seed, sync roles; then the benchmark's clerk."""
    from flask_appbuilder import Model
    from flask_appbuilder.security.manager import BaseSecurityManager

    from app.extensions import db
    from app.web.build_roles import sync_roles
    from app.metamodel.migrate import migrate
    from app.services.seed import seed_catalogues, seed_org_units
    from app.services.users import ensure_user

    result = migrate(db.engine, Model.metadata, versions_dir=workdir / "versions")
    spec = app.config["FACHSTELLE_SPEC"]
    seed_catalogues(db.session, spec)
    seed_org_units(db.session, spec)
    db.session.commit()
    sm = app.appbuilder.sm
    BaseSecurityManager.create_db(sm)
    app.appbuilder.add_permissions(update_perms=True)
    sync_roles(sm, spec)
    ensure_user(sm, CLERK, PASSWORD, CLERK_PROFILE, CLERK_UNITS, check_policy=False)  # bench accounts only
    ensure_user(sm, "bench_admin", PASSWORD, "Admin", None, check_policy=False)
    return not result.plan.empty


def _load(app, n_partners: int, n_cases: int, log) -> float:
    from app.core_models import OrgUnit
    from app.extensions import db
    from app.services.demo import generate

    started = time.perf_counter()
    units = list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
    generate(db.session, app.config["FACHSTELLE_REGISTRY"], units, n_partners, n_cases, seed=42)
    db.session.commit()
    log(f"  Daten geschrieben in {time.perf_counter() - started:.0f} s, ANALYZE …")
    _analyze(db)
    return time.perf_counter() - started


def _analyze(db) -> None:
    # PostgreSQL's autovacuum would analyse the fresh tables within minutes; SQLite needs it asked
    # once (sqlite_stat1), as `PRAGMA optimize` on a long-running installation would do.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def prepare(db: str, size: str, workdir: Path, pg_url: str | None = None, reuse: bool = False,
            log=print, analyze: bool = False) -> Bench:
    """Create (or reuse) the benchmark database of ``size`` and return what the measurements need."""
    from app.extensions import db as fsdb

    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url(db, workdir, pg_url)
    n_partners, n_cases = SIZES[size]
    if not reuse:
        _wipe(db, url, workdir)
    app = make_app(db, url, workdir)
    load_seconds = None
    with app.app_context():
        counts = _counts(app)
        if reuse and counts not in ((0, 0), (n_partners + 4, n_cases)):
            log(f"  vorhandene Datenbank hat {counts[0]} Partner/{counts[1]} Fallakten – wird neu angelegt")
            fsdb.session.remove()
            fsdb.engine.dispose()
            _wipe(db, url, workdir)
            counts = (0, 0)
        schema_changed = _init(app, workdir)
        if counts == (0, 0):
            log(f"  lade {n_partners} Partner, {n_cases} Fallakten ({db}) …")
            load_seconds = _load(app, n_partners, n_cases, log)
        elif analyze or schema_changed:
            log("  Schema geändert (neue Indizes): ANALYZE …")
            _analyze(fsdb)
        picks = _pick(app)
    return Bench(app=app, db=db, size=size, url=url, workdir=workdir, load_seconds=load_seconds,
                 partners=n_partners + 4, cases=n_cases, **picks)


def _pick(app) -> dict:
    """Deterministic records of the clerk's unit: a case with its pages, a partner, a common name."""
    from app.core_models import OrgUnit
    from app.extensions import db

    registry = app.config["FACHSTELLE_REGISTRY"]
    partner, case = registry.model("partner"), registry.model("case")
    unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == CLERK_UNITS[0]))
    n = db.session.scalar(select(func.count()).select_from(case).where(case.org_unit_id == unit_id))
    case_id = db.session.scalar(select(case.id).where(case.org_unit_id == unit_id).order_by(case.id)
                                .offset(n // 2).limit(1))
    n_partners = db.session.scalar(select(func.count()).select_from(partner).where(partner.org_unit_id == unit_id))
    partner_id = db.session.scalar(select(partner.id).where(partner.org_unit_id == unit_id)
                                   .order_by(partner.id).offset(n_partners // 3).limit(1))
    file_number = db.session.scalar(select(case.file_number).where(case.id == case_id))
    # The worst case for the duplicate check: the most frequent phonetic code of a surname.
    code = db.session.execute(select(partner.surname_phon, func.count()).where(partner.surname_phon.is_not(None))
                              .group_by(partner.surname_phon).order_by(func.count().desc(), partner.surname_phon)
                              .limit(1)).first()[0]
    probe = db.session.execute(select(partner.surname, partner.first_name, partner.birth_date)
                               .where(partner.surname_phon == code, partner.org_unit_id == unit_id)
                               .order_by(partner.id).limit(1)).first()
    return {"clerk_unit_id": unit_id, "case_id": case_id, "partner_id": partner_id,
            "duplicate_probe": tuple(probe), "prefix": "mü",
            # "2025/01…": the year and the first digits of the number, a few thousand cases at city size.
            "case_prefix": file_number[:7]}
