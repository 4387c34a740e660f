"""Shelter fees (#12 §4): the tariff catalogue in the database, fee lines that follow the occupancy, the run.

1. Tariffs are the entities ``fee_tariff`` / ``fee_component``, seeded from ``config/fees.yaml`` (a city's
   ``config/cities/<city>/fees.yaml`` replaces it) and edited by admins afterwards; ``catalogue`` turns them
   into the domain's ``Catalogue``.
2. ``month_plan`` computes what a month should bill: the domain's lines for every occupancy that touches the
   month, plus the Leistungsabos entered by hand (``fee_subscription``).
3. ``run_month`` compares that with the live lines already written (``fee_line``) and appends only the
   difference: a missing line is added, a line no longer right is reversed (``storno``). A second run adds
   nothing. A dry run computes the same figures and writes nothing.
4. The new lines go to the treasury as postings per payer (``app.services.fee_treasury``).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import yaml
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from .. import settings
from ..actor import Actor
from ..core_models import CatalogueValue, utcnow
from ..domain import fees as rules
from ..domain.money import quantize
from ..errors import DomainError
from ..fee_models import FeeLine, FeeRun
from ..metamodel.build_models import built_registry
from .history import acting_as


def _model(name: str):
    return built_registry().model(name)


# --- 1. the tariff catalogue -----------------------------------------------------------------------------

def tariff_file() -> Path:
    """The tariff YAML of this installation: the city's ``fees.yaml`` if it has one, else the base one."""
    base = settings.config_dir()
    city = settings.city()
    if city and (base / "cities" / city / "fees.yaml").exists():
        return base / "cities" / city / "fees.yaml"
    return base / "fees.yaml"


def catalogue_from_yaml(path: Path | None = None) -> rules.Catalogue:
    path = path or tariff_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return rules.Catalogue([])
    except yaml.YAMLError as exc:
        raise DomainError(f"{path.name}: kein gültiges YAML ({exc.__class__.__name__}).") from None
    try:
        return rules.catalogue_from_data(data, path.name)
    except rules.FeeError as exc:
        raise DomainError(str(exc)) from None


def seed_fee_tariffs(session: Session, path: Path | None = None) -> int:
    """Tariffs from the YAML whose code is not in the database yet (admins' changes are never overwritten)."""
    registry = built_registry()
    if registry is None or "fee_tariff" not in registry.entities:
        return 0
    tariff_model, component_model = _model("fee_tariff"), _model("fee_component")
    existing = set(session.scalars(select(tariff_model.code)))
    values = {(v.catalogue, v.code): v for v in session.scalars(select(CatalogueValue))}
    shelter_model = _model("shelter")
    added = 0
    for t in catalogue_from_yaml(path).tariffs:
        if t.code in existing:
            continue
        shelter = None
        if t.shelters:
            shelter = session.scalars(select(shelter_model).where(shelter_model.name.in_(sorted(t.shelters)))).first()
        record = tariff_model(
            code=t.code, label=t.label, satzung=t.satzung, valid_from=t.valid_from, valid_to=t.valid_to,
            part_month=values.get(("fee_part_month", t.part_month)),
            counted_days=values.get(("fee_counted_days", t.counted_days)),
            legal_bases=[values[("accommodation_basis", c)] for c in sorted(t.legal_bases)
                         if ("accommodation_basis", c) in values],
            provider_types=[values[("provider_type", c)] for c in sorted(t.provider_types)
                            if ("provider_type", c) in values],
            shelter=shelter, produkt=t.produkt, kostenstelle=t.kostenstelle)
        with acting_as("system"):
            session.add(record)
            session.flush()
            for c in t.components:
                session.add(component_model(
                    tariff=record, code=c.code, label=c.label, amount=c.amount,
                    basis=values.get(("fee_basis", c.basis)), unit=values.get(("fee_unit", c.unit)),
                    sachkonto=c.sachkonto))
            session.flush()
        added += 1
    return added


def catalogue(session: Session) -> rules.Catalogue:
    """The domain catalogue from the tariff entities (with their components)."""
    tariff_model, component_model = _model("fee_tariff"), _model("fee_component")
    code_of = dict(session.execute(select(CatalogueValue.id, CatalogueValue.code)).all())
    shelter_model = _model("shelter")
    shelter_names = dict(session.execute(select(shelter_model.id, shelter_model.name)).all())
    comps: dict[int, list] = defaultdict(list)
    for c in session.scalars(select(component_model).order_by(component_model.id)):
        comps[c.tariff_id].append(rules.Component(
            code=c.code, label=c.label, amount=c.amount, basis=code_of.get(c.basis_id, "person"),
            unit=code_of.get(c.unit_id, "month"), sachkonto=c.sachkonto or ""))
    tariffs = []
    for t in session.scalars(select(tariff_model).order_by(tariff_model.valid_from)):
        tariffs.append(rules.Tariff(
            code=t.code, label=t.label, components=tuple(comps.get(t.id, ())), valid_from=t.valid_from,
            valid_to=t.valid_to, part_month=code_of.get(t.part_month_id, "thirtieth"),
            counted_days=code_of.get(t.counted_days_id, "move_in_and_out"),
            legal_bases=frozenset(v.code for v in t.legal_bases),
            provider_types=frozenset(v.code for v in t.provider_types),
            shelters=frozenset({shelter_names[t.shelter_id]}) if t.shelter_id in shelter_names else frozenset(),
            satzung=t.satzung or "", produkt=t.produkt or "", kostenstelle=t.kostenstelle or ""))
    return rules.Catalogue(tariffs)


# --- 2. what a month should bill -------------------------------------------------------------------------

@dataclass(frozen=True)
class Occ:
    """What the run needs of one occupancy row (the ``occupancy`` of ``rules.Stay``)."""
    id: int
    case_id: int | None
    org_unit_id: int | None
    payer_id: int
    shelter_id: int | None


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str
    line: rules.FeeLine
    occ: Occ
    subscription_id: int | None = None

    def signature(self) -> tuple:
        return (self.key, self.line.first_day, self.line.last_day, quantize(self.line.amount))


def stays_touching(session: Session, first: date, last: date, person_ids: Iterable[int] | None = None,
                   ) -> list[rules.Stay]:
    """Every occupancy with a counted day possible in [first, last] (move-out on the 1st counts)."""
    occupancy, place, room, shelter = _model("occupancy"), _model("place"), _model("room"), _model("shelter")
    code_of = dict(session.execute(select(CatalogueValue.id, CatalogueValue.code)).all())
    query = (select(occupancy.id, occupancy.person_id, occupancy.place_id, occupancy.shelter_id, occupancy.case_id,
                    occupancy.org_unit_id, occupancy.move_in, occupancy.move_out, occupancy.legal_basis_id,
                    occupancy.payer_id, shelter.name, shelter.provider_type_id, room.area_m2, room.places)
             .join(place, place.id == occupancy.place_id).join(room, room.id == place.room_id)
             .join(shelter, shelter.id == room.shelter_id)
             .where(occupancy.move_in <= last, or_(occupancy.move_out.is_(None), occupancy.move_out >= first)))
    if person_ids is not None:
        query = query.where(occupancy.person_id.in_(list(person_ids)))
    stays = []
    for row in session.execute(query):
        area = Decimal(str(row.area_m2)) if row.area_m2 is not None else Decimal(0)
        share = (area / row.places) if row.places else area
        occ = Occ(row.id, row.case_id, row.org_unit_id, row.payer_id or row.person_id, row.shelter_id)
        stays.append(rules.Stay(
            occupancy=occ, person=row.person_id, place=row.place_id, shelter=row.name, move_in=row.move_in,
            move_out=row.move_out, legal_basis=code_of.get(row.legal_basis_id, ""),
            provider_type=code_of.get(row.provider_type_id, ""), area_m2=share))
    return stays


def _subscription_lines(session: Session, first: date, last: date) -> list[Planned]:
    sub, place, shelter, case = (_model("fee_subscription"), _model("place"), _model("shelter"), _model("case"))
    code_of = dict(session.execute(select(CatalogueValue.id, CatalogueValue.code)).all())
    rows = session.execute(
        select(sub, shelter.name, place.shelter_id)
        .outerjoin(place, place.id == sub.place_id).outerjoin(shelter, shelter.id == place.shelter_id)
        .where(sub.first_day <= last, or_(sub.last_day.is_(None), sub.last_day >= first)))
    case_units = {}
    out = []
    for s, shelter_name, shelter_id in rows:
        if s.case_id not in case_units:
            case_units[s.case_id] = session.get(case, s.case_id).org_unit_id
        tariff = rules.Tariff(
            code="leistungsabo", label="Leistungsabo", valid_from=s.first_day, valid_to=s.last_day,
            part_month="calendar_days", counted_days="move_in_and_out",
            components=(rules.Component(code=f"abo{s.id}", label=s.label, amount=s.amount, basis="unit",
                                        unit=code_of.get(s.unit_id, "month"), sachkonto=s.sachkonto or ""),))
        occ = Occ(0, s.case_id, case_units[s.case_id], s.payer_id or s.person_id, shelter_id)
        stay = rules.Stay(occupancy=occ, person=("abo", s.id), place=s.place_id, shelter=shelter_name or "",
                          move_in=s.first_day, move_out=s.last_day, units=Decimal(str(s.units or 1)))
        for line in rules.month_lines([stay], rules.Catalogue([tariff]), first.year, first.month):
            line = replace(line, person=s.person_id)
            out.append(Planned(f"s:{s.id}", "hand", line, occ, s.id))
    return out


def month_plan(session: Session, year: int, month: int, cat: rules.Catalogue | None = None) -> list[Planned]:
    first, last = rules.month_bounds(year, month)
    cat = cat if cat is not None else catalogue(session)
    stays = stays_touching(session, first, last)
    try:
        lines = rules.month_lines(stays, cat, year, month)
    except rules.FeeError as exc:
        raise DomainError(str(exc)) from None
    planned = [Planned(f"o:{ln.occupancy.id}:{ln.tariff}:{ln.component}", "auto", ln, ln.occupancy)
               for ln in lines]
    return _split_by_payer(session, planned) + _subscription_lines(session, first, last)


def share_total(session: Session, occupancy_id: int) -> Decimal | None:
    """The sum of an occupancy's cost shares in percent; None when it has none (the payer of the occupancy pays)."""
    shares = payer_shares(session, [occupancy_id]).get(occupancy_id)
    return sum((percent for _, percent in shares), Decimal(0)) if shares else None


def payer_shares(session: Session, occupancy_ids: Iterable[int]) -> dict[int, list[tuple[int | None, Decimal]]]:
    """The cost shares of the occupancies that have any (``occupancy_payer_share``): [(payer or None, percent)],
    largest share first."""
    registry = built_registry()
    if "occupancy_payer_share" not in registry.entities:
        return {}
    share = registry.model("occupancy_payer_share")
    ids = list(occupancy_ids)
    merged: dict[int, dict] = defaultdict(dict)  # two rows of one payer are one share
    for occ_id, payer_id, percent in session.execute(
            select(share.occupancy_id, share.payer_id, share.percent)
            .where(share.occupancy_id.in_(ids or [0])).order_by(share.occupancy_id, share.id)):
        merged[occ_id][payer_id] = merged[occ_id].get(payer_id, Decimal(0)) + Decimal(str(percent))
    return {occ_id: sorted(payers.items(), key=lambda kv: -kv[1]) for occ_id, payers in merged.items()}


def _split_by_payer(session: Session, planned: list[Planned]) -> list[Planned]:
    """Rule of the split payer: a line of an occupancy with cost shares becomes one line per payer
    (``rules.split_amount``: half-up per part, the left-over cent on the largest share), key ``…:z<payer>``."""
    shares = payer_shares(session, {p.occ.id for p in planned})
    if not shares:
        return planned
    out = []
    for item in planned:
        own = shares.get(item.occ.id)
        if not own:
            out.append(item)
            continue
        person = item.line.person
        percent: dict = {}  # "no payer" is the person: one share with a row naming the person
        for payer, pct in own:
            percent[payer or person] = percent.get(payer or person, Decimal(0)) + pct
        try:
            parts = rules.split_amount(quantize(item.line.amount), list(percent.items()))
        except rules.FeeError as exc:
            raise DomainError(f"Belegung Nr. {item.occ.id}, Kostenaufteilung: {exc}") from None
        for payer, amount in parts:
            line = replace(item.line, amount=amount,
                           calculation=f"{item.line.calculation}; Anteil {percent[payer].normalize():f} %"[:200])
            out.append(Planned(f"{item.key}:z{payer}", item.kind, line, replace(item.occ, payer_id=payer)))
    return out


# --- 3. the run ------------------------------------------------------------------------------------------

@dataclass
class RunResult:
    monat: str
    neu: int
    summe: Decimal
    unterkuenfte: dict[str, Decimal]
    dry_run: bool = False
    added: list = field(default_factory=list)
    reversed: list = field(default_factory=list)
    postings: int = 0
    payouts: int = 0

    def as_json(self) -> dict:
        """Exactly the issue's JSON: amounts as strings with a decimal point."""
        return {"monat": self.monat, "neu": self.neu, "summe": f"{self.summe:.2f}",
                "unterkuenfte": {name: f"{amount:.2f}" for name, amount in sorted(self.unterkuenfte.items())}}


def live_lines(session: Session, month_text: str) -> list[SimpleNamespace]:
    """The month's lines that are not reversed and not a reversal themselves (plain rows, not ORM objects:
    thousands of objects in the session would make every later flush slow)."""
    reversed_ids = select(FeeLine.reverses_id).where(FeeLine.month == month_text, FeeLine.reverses_id.is_not(None))
    rows = session.execute(select(FeeLine.__table__).where(
        FeeLine.month == month_text, FeeLine.kind != "storno", FeeLine.id.not_in(reversed_ids)))
    return [SimpleNamespace(**row._mapping) for row in rows]


def _sums(lines: Iterable[tuple[str, Decimal]]) -> tuple[Decimal, dict[str, Decimal]]:
    total, per = Decimal("0.00"), defaultdict(lambda: Decimal("0.00"))
    for shelter, amount in lines:
        total += amount
        per[shelter] += amount
    return total, dict(per)


def run_month(session: Session, actor: Actor, month_text: str, dry_run: bool = False,
              treasury: bool = True) -> RunResult:
    """The month's fee debits (see the module text); the caller commits."""
    if not actor.sees_all:
        raise DomainError("Den Gebührenlauf für die ganze Stadt darf nur ein Auftrag mit Sicht auf alle "
                          "Dienststellen starten.")
    try:
        year, month = rules.parse_month(month_text)
    except rules.FeeError as exc:
        raise DomainError(str(exc)) from None
    month_text = f"{year:04d}-{month:02d}"
    plan = month_plan(session, year, month)
    existing = live_lines(session, month_text)
    wanted: dict[tuple, list[Planned]] = defaultdict(list)
    for item in plan:
        wanted[item.signature()].append(item)
    to_reverse = []
    for line in existing:
        sig = (line.key, line.first_day, line.last_day, quantize(line.amount))
        if wanted.get(sig):
            wanted[sig].pop()
        else:
            to_reverse.append(line)
    to_add = [item for items in wanted.values() for item in items]

    all_lines = session.execute(select(FeeLine.shelter_name, FeeLine.amount).where(FeeLine.month == month_text)).all()
    projected = list(all_lines) + [(ln.shelter_name, -ln.amount) for ln in to_reverse] + \
        [(item.line.shelter, quantize(item.line.amount)) for item in to_add]
    total, per_shelter = _sums(projected)
    result = RunResult(month_text, len(to_add) + len(to_reverse), total, per_shelter, dry_run=dry_run)
    if dry_run:
        result.added = to_add
        result.reversed = to_reverse
        return result

    run = FeeRun(month=month_text, new_lines=result.neu, total=total, run_by=actor.name)
    session.add(run)
    session.flush()
    new_rows: list[dict] = []
    for line in to_reverse:
        new_rows.append(dict(
            month=month_text, key=line.key, kind="storno", reverses_id=line.id, occupancy_id=line.occupancy_id,
            subscription_id=line.subscription_id, case_id=line.case_id, person_id=line.person_id,
            place_id=line.place_id, shelter_id=line.shelter_id, shelter_name=line.shelter_name,
            org_unit_id=line.org_unit_id, tariff=line.tariff, component=line.component,
            label=f"Storno: {line.label}"[:200], first_day=line.first_day, last_day=line.last_day, days=-line.days,
            amount=-line.amount, calculation=f"Storno der Zeile {line.id}", payer_id=line.payer_id,
            kassenzeichen=line.kassenzeichen, sachkonto=line.sachkonto, kostenstelle=line.kostenstelle,
            produkt=line.produkt, run_id=run.id, posting_id=None, created_by=actor.name))
    for item in to_add:
        ln, occ = item.line, item.occ
        new_rows.append(dict(
            month=month_text, key=item.key, kind=item.kind, reverses_id=None, occupancy_id=occ.id or None,
            subscription_id=item.subscription_id, case_id=occ.case_id, person_id=ln.person, place_id=ln.place,
            shelter_id=occ.shelter_id, shelter_name=ln.shelter or "", org_unit_id=occ.org_unit_id,
            tariff=ln.tariff, component=ln.component, label=ln.label[:200], first_day=ln.first_day,
            last_day=ln.last_day, days=ln.days, amount=quantize(ln.amount), calculation=ln.calculation[:200],
            payer_id=occ.payer_id, kassenzeichen=None, sachkonto=ln.sachkonto or None,
            kostenstelle=ln.kostenstelle or None, produkt=ln.produkt or None, run_id=run.id, posting_id=None,
            created_by=actor.name))
    if treasury:
        from .fee_treasury import hand_over
        # Kassenzeichen and posting ids go onto the rows before they are written (one bulk insert).
        result.postings, result.payouts = hand_over(session, actor, run, new_rows, year, month)
        run.postings = result.postings
    if new_rows:
        from .bulk import copy_rows
        stamp = utcnow()
        for row in new_rows:
            row["created_at"] = stamp
        copy_rows(session, FeeLine.__table__, new_rows)  # COPY on PostgreSQL: no multi-row VALUES to parse
    result.added = [r for r in new_rows if r["kind"] != "storno"]
    result.reversed = [r for r in new_rows if r["kind"] == "storno"]
    return result


def month_summary(session: Session, month_text: str) -> RunResult:
    """The month's figures as they stand (no run): all lines, per shelter."""
    year, month = rules.parse_month(month_text)
    month_text = f"{year:04d}-{month:02d}"
    total, per = _sums(session.execute(select(FeeLine.shelter_name, FeeLine.amount)
                                       .where(FeeLine.month == month_text)).all())
    return RunResult(month_text, 0, total, per)


def lines_for(session: Session, actor: Actor, *, occupancy_ids: Iterable[int] = (), case_id: int | None = None,
              month_text: str | None = None) -> list[FeeLine]:
    """Fee lines a clerk may see (their units), newest month first."""
    query = select(FeeLine).order_by(FeeLine.month.desc(), FeeLine.id)
    conds = []
    ids = list(occupancy_ids)
    if ids:
        conds.append(FeeLine.occupancy_id.in_(ids))
    if case_id is not None:
        conds.append(FeeLine.case_id == case_id)
    if month_text:
        conds.append(FeeLine.month == month_text)
    if conds:
        query = query.where(and_(*conds))
    units = actor.visible_units
    if units is not None:
        query = query.where(FeeLine.org_unit_id.in_(units))
    return list(session.scalars(query))
