"""Official housing statistics (#14) from the database: occupancies → facts → NRW form / federal records,
frozen snapshots per Stichtag with versions and comparison, the delivery deadline.

One query reads the occupancies accommodated on the Stichtag night (``move_in <= D`` and (no move-out or
``move_out > D``), the rule of ``app/domain/occupancy.py``) with their legal basis in scope, joined with the
shelter (type, provider, Verband, AGS), the person (sex, birth date, nationality, Zuwanderungsgeschichte) and
the person's household role on D (``household_member`` of the case file with ``moved_in_on <= D`` and
(no ``moved_out_on`` or ``moved_out_on > D``); the case's client without such a row is its Bezugsperson).
Everything the statistics decide is decided in ``app/domain/housing_stats.py``.

Every read goes through ``scope_query`` on occupancy and case with the caller's actor: a web user's figures
and drill-down cover their own org units; the CLI passes ``Actor.system()`` and reports on all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..core_models import CatalogueValue, OrgUnit
from ..domain import housing_stats as hs
from ..domain.calendar import working_calendar
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..scoping import scope_query, visible_org_unit_ids
from ..statistics_models import StatisticSnapshot

NEEDED = ("occupancy", "shelter", "partner", "case", "household_member")
KINDS = {"nrw": "NRW-Statistik (Stichtag 30.06.)", "bund": "Bundesstatistik WoBerichtsG (Stichtag 31.01.)"}


def check_stichtag(kind: str, stichtag: date) -> None:
    """The NRW form is taken on 30 June, the federal statistic on 31 January; another day is refused."""
    if kind == "nrw" and (stichtag.month, stichtag.day) != (6, 30):
        raise DomainError(f"Die NRW-Statistik hat den Stichtag 30.06.; {stichtag:%d.%m.%Y} ist keiner.")
    if kind == "bund" and (stichtag.month, stichtag.day) != (1, 31):
        raise DomainError(f"Die Bundesstatistik (WoBerichtsG) hat den Stichtag 31.01.; {stichtag:%d.%m.%Y} ist keiner.")


def _codes(session: Session) -> dict[int, str]:
    wanted = ("sex", "accommodation_basis", "shelter_type", "provider_type", "welfare_association", "yes_no",
              "household_role")
    rows = session.execute(select(CatalogueValue.id, CatalogueValue.code)
                           .where(CatalogueValue.catalogue.in_(wanted)))
    return dict(rows.all())


def load_facts(session: Session, stichtag: date, bases: frozenset[str], *, actor: Actor | None = None
               ) -> list[hs.StayFact]:
    """The occupancies of the Stichtag night with a legal basis in ``bases``, as facts (one per occupancy).

    Four small queries instead of one join: the night's occupancies (a few thousand of 100,000) with their
    shelter, then their cases (scoped, with the client), persons and household roles by id. One join made the
    planner hash the whole case and household tables (0.5 s at city size on PostgreSQL)."""
    reg = built_registry()
    missing = [name for name in NEEDED if name not in reg.entities]
    if missing:
        raise DomainError("Die amtliche Statistik wird aus der Unterbringung abgeleitet; in der Konfiguration "
                          f"fehlen die Seiten {', '.join(missing)} (docs/unterbringung.md).")
    occ, shelter, partner, case = (reg.model("occupancy"), reg.model("shelter"), reg.model("partner"),
                                   reg.model("case"))
    member = reg.model("household_member")
    codes = _codes(session)
    basis_ids = list(session.scalars(select(CatalogueValue.id).where(
        CatalogueValue.catalogue == "accommodation_basis", CatalogueValue.code.in_(sorted(bases)))))
    query = (select(occ.id, occ.person_id, occ.case_id, occ.move_in, occ.move_out, occ.legal_basis_id,
                    shelter.id, shelter.shelter_type_id, shelter.provider_type_id, shelter.association_id, shelter.ags)
             .join(shelter, shelter.id == occ.shelter_id, isouter=True)
             .where(occ.move_in <= stichtag, or_(occ.move_out.is_(None), occ.move_out > stichtag),
                    occ.legal_basis_id.in_(basis_ids or [-1])))
    stays = session.execute(scope_query(query, occ, actor=actor)).all()
    case_ids = sorted({row[2] for row in stays})
    person_ids = sorted({row[1] for row in stays})
    clients: dict[int, int] = {}
    for chunk in _chunks(case_ids):
        q = scope_query(select(case.id, case.client_id).where(case.id.in_(chunk)), case, actor=actor)
        clients.update(session.execute(q).all())
    people = {}
    for chunk in _chunks(person_ids):
        q = select(partner.id, partner.sex_id, partner.birth_date, partner.nationality_code, partner.nationality,
                   partner.migration_background_id).where(partner.id.in_(chunk))
        people.update((row[0], row[1:]) for row in session.execute(q))
    roles: dict[tuple[int, int], int] = {}
    for chunk in _chunks(case_ids):
        q = (select(member.case_id, member.member_id, member.household_role_id)
             .where(member.case_id.in_(chunk), member.household_role_id.is_not(None),
                    or_(member.moved_in_on.is_(None), member.moved_in_on <= stichtag),
                    or_(member.moved_out_on.is_(None), member.moved_out_on > stichtag))
             .order_by(member.id))
        for cid, pid, role in session.execute(q):
            roles.setdefault((cid, pid), role)   # two rows for one person: the first holds
    facts = []
    for oid, pid, cid, move_in, move_out, basis, sid, stype, provider, assoc, ags in stays:
        if cid not in clients:
            continue   # the case belongs to a unit the actor does not see
        sex, birth, nat_code, nat_text, mig = people[pid]
        role = roles.get((cid, pid))
        role_code = codes.get(role) if role else ("bezugsperson" if clients[cid] == pid else None)
        facts.append(hs.StayFact(
            person_id=pid, household_id=cid, move_in=move_in, move_out=move_out, legal_basis=codes.get(basis),
            role=role_code, sex=codes.get(sex), birth_date=birth, nationality=nat_code or nat_text,
            migration_background=codes.get(mig), shelter_type=codes.get(stype), provider_type=codes.get(provider),
            association=codes.get(assoc), ags=ags, occupancy_id=oid, shelter_id=sid))
    return facts


def _chunks(ids: list[int], size: int = 900):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def art_map() -> dict[str, str]:
    """Shelter type → Art der Überlassung: the defaults, overridden per type by settings.yaml."""
    return {**hs.DEFAULT_ART_DER_UEBERLASSUNG, **built_registry().spec.settings.art_der_ueberlassung}


def nrw(session: Session, stichtag: date, *, actor: Actor | None = None) -> hs.NrwResult:
    check_stichtag("nrw", stichtag)
    return hs.nrw_report(load_facts(session, stichtag, hs.NRW_BASES, actor=actor), stichtag)


def bund(session: Session, stichtag: date, key: bytes, *, actor: Actor | None = None) -> hs.BundResult:
    check_stichtag("bund", stichtag)
    return hs.bund_records(load_facts(session, stichtag, hs.BUND_BASES, actor=actor), stichtag, key, art_map())


def deadline(stichtag: date) -> date:
    """Delivery deadline of the federal statistic: the 30th working day after the Stichtag (city's calendar)."""
    settings = built_registry().spec.settings
    return hs.bund_deadline(stichtag, working_calendar(settings.holiday_subdivision, settings.closure_days))


# --- snapshots --------------------------------------------------------------------------------------------

def unit_ids_or_all(session: Session, actor: Actor | None) -> list[int] | None:
    """The actor's unit ids, or None when they cover every org unit (the CLI, admins, the city controller)."""
    ids = visible_org_unit_ids(actor)
    if ids is None or set(ids) >= set(session.scalars(select(OrgUnit.id))):
        return None
    return ids


def scope_of(session: Session, actor: Actor | None) -> str:
    ids = unit_ids_or_all(session, actor)
    return "" if ids is None else ",".join(str(i) for i in sorted(ids))


def scope_label(session: Session, actor: Actor | None) -> str:
    ids = unit_ids_or_all(session, actor)
    if ids is None:
        return "alle Dienststellen"
    names = session.scalars(select(OrgUnit.name).where(OrgUnit.id.in_(ids or [-1])).order_by(OrgUnit.name))
    return ", ".join(names) or "keine Dienststelle"


def freeze(session: Session, kind: str, stichtag: date, key: bytes, *, actor: Actor, note: str | None = None
           ) -> StatisticSnapshot:
    """Compute the statistic now and store it as the next version of this Stichtag (never changed after)."""
    if kind == "nrw":
        res = nrw(session, stichtag, actor=actor)
        report, persons = res.report, res.cells
        problems = [_finding(w) for w in res.warnings]
    elif kind == "bund":
        res = bund(session, stichtag, key, actor=actor)
        report, persons = {"rows": res.rows}, {"rows": res.person_ids}
        problems = [_finding(w) for w in res.problems]
    else:
        raise DomainError(f"Statistik „{kind}“ gibt es nicht (nrw oder bund).")
    scope = scope_of(session, actor)
    latest = session.scalar(select(StatisticSnapshot.version).where(
        StatisticSnapshot.kind == kind, StatisticSnapshot.stichtag == stichtag, StatisticSnapshot.scope == scope)
        .order_by(StatisticSnapshot.version.desc()).limit(1))
    snap = StatisticSnapshot(kind=kind, stichtag=stichtag, version=(latest or 0) + 1, scope=scope,
                             scope_label=scope_label(session, actor), created_by=actor.name, note=note,
                             report=report, persons=persons, problems=problems)
    session.add(snap)
    session.flush()
    record_change(snap, "frozen", actor, f"{KINDS[kind]}, Stichtag {stichtag:%d.%m.%Y}, Version {snap.version}, "
                  f"{snap.scope_label}")
    return snap


def record_change(snap: StatisticSnapshot, action: str, actor: Actor, text: str) -> None:
    """Freezing, delivering and exporting a statistic are in the history (entity ``statistic_snapshot``)."""
    from sqlalchemy.orm import object_session

    from ..core_models import ChangeLog, utcnow
    from .history import change_row
    object_session(snap).add(ChangeLog(**change_row("statistic_snapshot", snap.id, action, actor.name, utcnow(),
                                                    "statistik", None, text[:500])))


def _finding(w: hs.Finding) -> dict:
    return {"code": w.code, "text": w.text, "persons": list(w.person_ids)}


def snapshots(session: Session, kind: str, stichtag: date | None = None, *, actor: Actor | None = None
              ) -> list[StatisticSnapshot]:
    """The snapshots the actor may see: those taken over their own units (or a part of them)."""
    query = select(StatisticSnapshot).where(StatisticSnapshot.kind == kind)
    if stichtag is not None:
        query = query.where(StatisticSnapshot.stichtag == stichtag)
    rows = session.scalars(query.order_by(StatisticSnapshot.stichtag.desc(), StatisticSnapshot.version.desc()))
    ids = unit_ids_or_all(session, actor)
    return [s for s in rows if visible_snapshot(s, ids)]


def visible_snapshot(snap: StatisticSnapshot, ids: list[int] | None) -> bool:
    """A version is shown to whoever sees every unit it covers (``ids``: the user's units, None = all)."""
    if ids is None:
        return True
    if snap.scope == "":
        return False
    return set(int(i) for i in snap.scope.split(",")) <= set(ids)


@dataclass(frozen=True)
class Difference:
    where: str       # cell label (NRW) or person pseudonym (Bund)
    old: str
    new: str


def compare(a: StatisticSnapshot, b: StatisticSnapshot) -> list[Difference]:
    """What changed from version ``a`` to ``b``: the NRW cells whose count differs, or the federal records
    added, removed or changed (matched by person pseudonym, stable within a Stichtag)."""
    if a.kind != b.kind or a.stichtag != b.stichtag:
        raise DomainError("Verglichen werden nur Versionen derselben Statistik und desselben Stichtags.")
    out = []
    if a.kind == "nrw":
        from ..domain.housing_stats_form import form_rows, value_at
        for _kind, label, total, female in form_rows(a.report):
            for path, suffix in ((total, ""), (female, " (weiblich)")):
                if path and value_at(a.report, path) != value_at(b.report, path):
                    out.append(Difference(label + suffix, str(value_at(a.report, path)), str(value_at(b.report, path))))
        return out
    old = {r["person"]: r for r in a.report["rows"]}
    new = {r["person"]: r for r in b.report["rows"]}
    for p in sorted(old.keys() | new.keys()):
        if p not in new:
            out.append(Difference(p, "gemeldet", "entfällt"))
        elif p not in old:
            out.append(Difference(p, "—", "neu"))
        else:
            changed = [c for c in hs.BUND_COLUMNS if old[p][c] != new[p][c]]
            for c in changed:
                out.append(Difference(f"{p}: {c}", old[p][c] or "leer", new[p][c] or "leer"))
    return out


def pseudonym_key(secret: str) -> bytes:
    """The key of the person and household pseudonyms, derived from the installation's secret key (so the
    pseudonyms are stable per installation and Stichtag, and nobody without the server's key recomputes them)."""
    import hashlib
    return hashlib.sha256(f"fachstelle-statistik|{secret}".encode()).digest()


def delivery_reminder(session: Session, today: date, *, actor: Actor | None = None) -> dict | None:
    """The federal statistic's delivery for the worklist: Stichtag, deadline, and the latest frozen version."""
    settings = built_registry().spec.settings
    calendar = working_calendar(settings.holiday_subdivision, settings.closure_days)
    delivered = {s.stichtag for s in snapshots(session, "bund", actor=actor) if s.submitted_on is not None}
    found = hs.due_delivery(today, calendar, delivered)
    if found is None:
        return None
    stichtag, due = found
    versions = snapshots(session, "bund", stichtag, actor=actor)
    return {"stichtag": stichtag, "due": due, "versions": len(versions), "label": KINDS["bund"]}
