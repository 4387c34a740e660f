"""Retention (#15): find what is due (``--dry-run``) and erase or anonymise it (``--apply``), with a protocol.

Rules come from the YAML (``retention:`` of an entity, see ``app/domain/retention.py``), so an entity added
later (a loan, an accommodation) gets its period by configuration alone. What a run does:
1. a record is due when its period has run, no legal hold stops it, and every child page with a rule of its
   own (a loan of the case: 10 years after settlement) is due as well;
2. erasing a record erases its pages (children, grandchildren …), their multi-choice links, letters,
   documents (files after the commit) and history; other records that merely point at it lose the pointer;
3. persons named in the erased records are erased too, unless another live record still names them
   (another case, a relationship, a loan); institutions (courts, landlords as institutions) stay;
4. before erasing, the counts per entity, unit, year and status are frozen (``retention_aggregate``), so
   statistics of past years keep their numbers;
5. every record erased, anonymised or kept by a hold is one protocol row (ids only, no personal data).
6. ledgers (#13, #12 §4): a loan's rule may count from its settlement (``kind: settlement``): the run first
   stamps each loan's settlement date derived from its bookings and events; a loan not settled, or settled
   less than its period ago, keeps its case. A record whose treasury postings (loan postings, fee lines) are
   not yet delivered to the treasury is not due either. Such records are listed as blocked, with the reason.
   When a record is erased, its loan bookings and events go with it; what the treasury holds too (postings,
   Kassenzeichen, payments, fee lines) stays as an accounting record but is detached and anonymised
   (no name, IBAN or text; no case, loan or person id). See docs/datenschutz.md.
The dry run reads only (a few queries per rule; the benchmark runs it over 300,000 cases); the settlement
stamps it writes are rolled back with it.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, delete, exists, false, func, not_, or_, select, true, update
from sqlalchemy.orm import Session

from ..actor import Actor
from ..core_models import Attachment, CatalogueValue, ChangeLog, utcnow
from ..domain import retention as rules
from ..letters.models import Letter
from ..letters.storage import remove_after_commit
from ..metamodel.build_models import built_registry, column_name
from ..metamodel.kinds import is_kind, kind_of, points_to
from ..fee_models import FeeLine
from ..privacy_models import RetentionAggregate, RetentionProtocol, RetentionRun
from ..treasury_models import KassenzeichenEntry, LoanBooking, LoanEvent, TreasuryPayment, TreasuryPosting

from .fee_treasury import FEE_KIND

CHUNK = 500


@dataclass(frozen=True)
class Due:
    entity: str
    record_id: int
    org_unit_id: int | None
    start: date
    action: str
    period: str


@dataclass(frozen=True)
class Blocked:
    entity: str
    record_id: int
    reasons: tuple[str, ...]


@dataclass
class Report:
    as_of: date
    due: list[Due] = field(default_factory=list)
    held: Counter = field(default_factory=Counter)  # entity -> records due but on hold
    partners_erased: list[int] = field(default_factory=list)
    partners_kept: list[int] = field(default_factory=list)
    erased: Counter = field(default_factory=Counter)  # entity -> rows erased (with children)
    blocked: list[Blocked] = field(default_factory=list)  # period run, but a ledger or a ruled page keeps it
    run_id: int | None = None

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(),
                "due": [{"entity": d.entity, "id": d.record_id, "org_unit_id": d.org_unit_id,
                         "start": d.start.isoformat(), "period": d.period, "action": d.action} for d in self.due],
                "due_count": dict(Counter(d.entity for d in self.due)), "held": dict(self.held),
                "partners_erased": len(self.partners_erased), "partners_kept": len(self.partners_kept),
                "erased": dict(self.erased), "run_id": self.run_id,
                "blocked": [{"entity": b.entity, "id": b.record_id, "reasons": list(b.reasons)} for b in self.blocked],
                "blocked_count": dict(Counter(b.entity for b in self.blocked))}


def ruled_entities(spec) -> list:
    return [e for e in spec.entities if e.retention is not None]


def _children(spec, entity_name: str) -> list:
    return [e for e in spec.entities if e.parent == entity_name]


def _parent_column(registry, child):
    f = child.field(child.parent_field or child.parent)
    return getattr(registry.model(child.name), column_name(f))


def _value_ids(session: Session, entity, name: str, value: str) -> list:
    f = entity.field(name)
    if f.catalogue:
        return list(session.scalars(select(CatalogueValue.id).where(CatalogueValue.catalogue == f.catalogue,
                                                                    CatalogueValue.code == value)))
    return [value]


def _ledger_open(registry, entity_name: str, model):
    """SQL condition: the row has ledger entries the treasury has not received yet (None: no ledger)."""
    undelivered = select(TreasuryPosting.id).where(TreasuryPosting.batch_id.is_(None))
    if entity_name == "loan":
        return exists().where(TreasuryPosting.source_kind == "loan", TreasuryPosting.source_id == model.id,
                              TreasuryPosting.batch_id.is_(None))
    if entity_name == "case":
        return exists().where(FeeLine.case_id == model.id,
                              or_(FeeLine.posting_id.is_(None), FeeLine.posting_id.in_(undelivered)))
    return None


def due_condition(session: Session, registry, entity, today: date, *, with_hold: bool = True, own: bool = False):
    """SQL condition: a row of ``entity`` is due today (its own rule, its ledger delivered and every ruled
    child due); ``own``: by its own rule alone."""
    rule = rules.rule_from_spec(entity.name, entity.retention)
    model = registry.model(entity.name)
    after = getattr(model, column_name(entity.field(rule.after)))
    matches = []
    parts = []
    for override in rule.overrides:
        match = and_(*[getattr(model, column_name(entity.field(name))).in_(_value_ids(session, entity, name, value))
                       for name, value in override.when])
        parts.append(and_(match, after <= rules.latest_due_start(today, override.period)))
        matches.append(match)
    base = after <= rules.latest_due_start(today, rule.period)
    parts.append(and_(not_(or_(*matches)), base) if matches else base)
    condition = and_(after.isnot(None), or_(*parts))
    if with_hold and rule.hold:
        hold = getattr(model, column_name(entity.field(rule.hold)))
        condition = and_(condition, or_(hold.is_(None), hold == false()))
    if own:
        return condition
    ledger = _ledger_open(registry, entity.name, model)
    if ledger is not None:
        condition = and_(condition, not_(ledger))
    for child in _children(registry.spec, entity.name):
        inner = _subtree_not_due(session, registry, child, today)
        if inner is not None:
            child_model = registry.model(child.name)
            condition = and_(condition, not_(exists().where(_parent_column(registry, child) == model.id, inner)))
    return condition


def _subtree_not_due(session: Session, registry, entity, today: date):
    """Condition on rows of ``entity``: the row (or a ruled descendant) is not due; None if nothing is ruled."""
    if entity.retention is not None:
        return not_(due_condition(session, registry, entity, today))
    conditions = []
    model = registry.model(entity.name)
    for child in _children(registry.spec, entity.name):
        inner = _subtree_not_due(session, registry, child, today)
        if inner is not None:
            conditions.append(exists().where(_parent_column(registry, child) == model.id, inner))
    return or_(*conditions) if conditions else None


def _top_level(spec) -> list:
    """Ruled entities whose parent chain has no rule: a child with its own rule goes with its parent."""
    ruled = {e.name for e in ruled_entities(spec)}
    out = []
    for entity in ruled_entities(spec):
        parent, nested = entity.parent, False
        while parent:
            if parent in ruled:
                nested = True
                break
            parent = spec.entity(parent).parent if spec.entity(parent) else None
        if not nested:
            out.append(entity)
    return out


def find_due(session: Session, today: date, actor: Actor | None = None) -> Report:
    """The dry run: every record due today, and how many are held back by a legal hold."""
    registry = built_registry()
    report = Report(as_of=today)
    refresh_settlements(session, registry, today)
    for entity in _top_level(registry.spec):
        rule = rules.rule_from_spec(entity.name, entity.retention)
        model = registry.model(entity.name)
        after = getattr(model, column_name(entity.field(rule.after)))
        unit = getattr(model, "org_unit_id", None)
        cols = [model.id, unit if unit is not None else model.id.label("u"), after]
        query = select(*cols).where(due_condition(session, registry, entity, today)).order_by(model.id)
        if actor is not None and not actor.sees_all and unit is not None:
            query = query.where(unit.in_(actor.units or [-1]))
        for record_id, unit_id, start in session.execute(query):
            report.due.append(Due(entity.name, record_id, unit_id if unit is not None else None, start, rule.action,
                                  str(rule.period)))
        if rule.hold:
            held = session.scalar(select(func.count()).select_from(model).where(
                due_condition(session, registry, entity, today, with_hold=False),
                getattr(model, column_name(entity.field(rule.hold))) == true()))
            report.held[entity.name] = held or 0
        blocked = select(model.id).where(due_condition(session, registry, entity, today, own=True),
                                         not_(due_condition(session, registry, entity, today))).order_by(model.id)
        if actor is not None and not actor.sees_all and unit is not None:
            blocked = blocked.where(unit.in_(actor.units or [-1]))
        ids = list(session.scalars(blocked))
        for record_id, reasons in _block_reasons(session, registry, entity, ids, today).items():
            report.blocked.append(Blocked(entity.name, record_id, tuple(reasons)))
    return report


# Entities whose rule may count from a settlement (``kind: settlement``): the function that stamps the date.
def _settle_loans(session: Session, today: date, field_name: str) -> None:
    from . import loans
    loans.refresh_settlement(session, today, field_name)


SETTLEMENT_SOURCES = {"loan": _settle_loans}


def refresh_settlements(session: Session, registry, today: date) -> None:
    for entity in ruled_entities(registry.spec):
        if getattr(entity.retention, "kind", "date") == "settlement" and entity.name in SETTLEMENT_SOURCES:
            SETTLEMENT_SOURCES[entity.name](session, today, entity.retention.after)
    session.flush()


def _block_reasons(session: Session, registry, entity, ids: list[int], today: date) -> dict[int, list[str]]:
    """Why each record of ``ids`` (due by its own period) stays: open ledgers and ruled pages not yet due."""
    out: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    model = registry.model(entity.name)
    ledger = _ledger_open(registry, entity.name, model)
    if ledger is not None:
        for chunk in _chunks(ids):
            for record_id in session.scalars(select(model.id).where(model.id.in_(chunk), ledger)):
                out[record_id].append("Buchungen (Gebühren) noch nicht an die Kasse übergeben")
    for child in _children(registry.spec, entity.name):
        if child.retention is None and _subtree_not_due(session, registry, child, today) is None:
            continue
        child_model, parent_col = registry.model(child.name), _parent_column(registry, child)
        inner = _subtree_not_due(session, registry, child, today)
        for chunk in _chunks(ids):
            rows = session.execute(select(parent_col, child_model.id).where(parent_col.in_(chunk), inner)).all()
            for parent_id, child_id in rows:
                out[parent_id].append(_child_reason(session, registry, child, child_id, today))
    return out


def _child_reason(session: Session, registry, child, child_id: int, today: date) -> str:
    label = f"{child.label} {child_id}"
    if child.retention is None:
        return f"{label}: eine Seite darunter ist noch nicht fällig"
    model = registry.model(child.name)
    rule = rules.rule_from_spec(child.name, child.retention)
    start = session.scalar(select(getattr(model, column_name(child.field(rule.after)))).where(model.id == child_id))
    ledger = _ledger_open(registry, child.name, model)
    if ledger is not None and session.scalar(select(func.count()).select_from(model).where(model.id == child_id, ledger)):
        return f"{label}: Kassenbuchungen noch nicht an die Kasse übergeben"
    if start is None:
        return f"{label}: noch nicht abgeschlossen" + (" (nicht getilgt/erlassen)" if rule.kind == "settlement" else "")
    return f"{label}: {rule.period} nach {start:%d.%m.%Y} laufen noch (fällig ab {rules.due_on(start, rule.period):%d.%m.%Y})"


# --- applying --------------------------------------------------------------------------------------------

def _chunks(ids):
    ids = sorted(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _tree(session: Session, registry, entity_name: str, ids: set[int], out: dict[str, set[int]]) -> None:
    """Every descendant row of ``ids`` of ``entity_name`` into ``out`` (entity -> ids)."""
    if not ids:
        return
    out.setdefault(entity_name, set()).update(ids)
    for child in _children(registry.spec, entity_name):
        column = _parent_column(registry, child)
        model = registry.model(child.name)
        found: set[int] = set()
        for chunk in _chunks(ids):
            found.update(session.scalars(select(model.id).where(column.in_(chunk))))
        _tree(session, registry, child.name, found, out)


def _person_refs(session: Session, registry, tree: dict[str, set[int]]) -> set[int]:
    """Partners named in the rows of ``tree`` (clients, household members, persons of pages)."""
    found: set[int] = set()
    for name, ids in tree.items():
        entity, model = registry.entity(name), registry.model(name)
        cols = [getattr(model, column_name(f)) for f in entity.fields if points_to(f, "partner")]
        if name == "partner":
            found.update(ids)
        for col in cols:
            for chunk in _chunks(ids):
                found.update(v for v in session.scalars(select(col).where(model.id.in_(chunk))) if v is not None)
    return found


def _live_refs(session: Session, registry, partner_id: int, tree: dict[str, set[int]]) -> int:
    """Rows outside the erased tree that still name this partner (its own address book aside)."""
    count = 0
    for em in registry:
        entity = em.spec
        own_child = entity.parent == "partner"
        for f in entity.fields:
            if not points_to(f, "partner"):
                continue
            if own_child and f.name == (entity.parent_field or entity.parent):
                continue
            col = getattr(em.model, column_name(f))
            query = select(em.model.id).where(col == partner_id)
            excluded = tree.get(entity.name)
            rows = [r for r in session.scalars(query) if not excluded or r not in excluded]
            count += len(rows)
    return count


def _is_person(session: Session, registry, partner_id: int) -> bool:
    model = registry.model("partner")
    kind = session.scalar(select(CatalogueValue.code).join(model, model.kind_id == CatalogueValue.id)
                          .where(model.id == partner_id)) if hasattr(model, "kind_id") else "person"
    return kind != "institution"


def _freeze(session: Session, registry, run_id: int, due: list[Due]) -> None:
    by_key: Counter = Counter()
    status: dict[int, str | None] = {}
    for d in due:
        entity = registry.entity(d.entity)
        if entity.field("status") is not None and entity.field("status").catalogue:
            model = registry.model(d.entity)
            status[d.record_id] = session.scalar(select(CatalogueValue.code).join(
                model, model.status_id == CatalogueValue.id).where(model.id == d.record_id))
        by_key[(d.entity, d.org_unit_id, d.start.year, status.get(d.record_id))] += 1
    for (entity, unit, year, result), count in sorted(by_key.items(), key=str):
        session.add(RetentionAggregate(run_id=run_id, entity=entity, org_unit_id=unit, year=year, result=result,
                                       count=count))


def _erase_rows(session: Session, registry, tree: dict[str, set[int]], report: Report) -> None:
    """Delete letters, documents, links, history and rows of ``tree``, leaves first."""
    if "case" in tree or "doc_entry" in tree:
        letter_filter = []
        if tree.get("case"):
            letter_filter.append(Letter.case_id.in_(sorted(tree["case"])))
        if tree.get("doc_entry"):
            letter_filter.append(Letter.doc_entry_id.in_(sorted(tree["doc_entry"])))
        for letter in session.execute(select(Letter.id, Letter.path, Letter.pdf_path).where(or_(*letter_filter))):
            for path in (letter.path, letter.pdf_path):
                if path:
                    remove_after_commit(session, path)
            session.execute(delete(Letter.__table__).where(Letter.__table__.c.id == letter.id))
            report.erased["letter"] += 1
    if tree.get("doc_entry"):
        for chunk in _chunks(tree["doc_entry"]):
            for att in session.execute(select(Attachment.id, Attachment.path).where(Attachment.doc_entry_id.in_(chunk))):
                remove_after_commit(session, att.path)
                report.erased["attachment"] += 1
            session.execute(delete(Attachment.__table__).where(Attachment.__table__.c.doc_entry_id.in_(chunk)))
    # Pointers from rows that stay (a relationship's case, a plan's print entry) are cleared first.
    for em in registry:
        for f in em.spec.fields:
            if kind_of(f).refers_to_record and f.ref in tree and not f.required:
                col = getattr(em.model, column_name(f))
                for chunk in _chunks(tree[f.ref]):
                    session.execute(update(em.model.__table__).where(col.in_(chunk)).values({col.key: None}))
    order = _delete_order(registry, tree)
    for name in order:
        em = registry.entities[name]
        ids = tree[name]
        for chunk in _chunks(ids):
            for table in em.multichoice_tables.values():
                session.execute(delete(table).where(table.c.record_id.in_(chunk)))
            session.execute(delete(ChangeLog.__table__).where(ChangeLog.__table__.c.entity == name,
                                                              ChangeLog.__table__.c.record_id.in_(chunk)))
            session.execute(delete(em.model.__table__).where(em.model.__table__.c.id.in_(chunk)))
        report.erased[name] += len(ids)


def _freeze_report_figures(session: Session, registry, run_id: int, tree: dict[str, set[int]]) -> None:
    """What the success measures (``app/services/success_measures.py``) count of the records about to go,
    by the day each figure counts on, so a report over a past period keeps its numbers (no personal data):

    - ``housing_emergency``: closed pages per unit, closing day and result code;
    - ``doc_entry``: entries per unit, day, product number (``result``), service (``detail``) and case id;
    - ``loan``: each decided loan: unit, decision day, kind (``detail``), amount, prevented loss (``extra``);
    - ``indicator_event``: each measurement-point event of the indicators (``app/services/indicators.py``).
    """
    from .indicators import freeze_events
    from .success_measures import frozen_rows
    rows = frozen_rows(session, registry, tree)
    if tree.get("doc_entry"):
        rows += freeze_events(session, registry, tree["doc_entry"])  # the indicators QS 1.1–1.4
    for row in rows:
        session.add(RetentionAggregate(run_id=run_id, **row))


ANONYMISED = "anonymisiert"


def _anonymise_postings(session: Session, condition) -> int:
    """Postings stay (the treasury holds them too; amounts, dates, Kassenzeichen for its audit) without a
    name, IBAN or text and without the id of the erased record."""
    table = TreasuryPosting.__table__
    result = session.execute(update(table).where(condition).values(
        name=ANONYMISED, vorname=None, iban=None, buchungstext=None, source_id=0))
    return result.rowcount or 0


def _detach_ledgers(session: Session, tree: dict[str, set[int]], persons: set[int], report: Report) -> None:
    """The ledgers of erased records (see the module text, point 6): loan bookings and events are erased with
    their loan; postings, Kassenzeichen, payments and fee lines stay, detached and anonymised."""
    loan_ids = sorted(tree.get("loan", ()))
    for chunk in _chunks(loan_ids):
        payments = [p for p in session.scalars(select(LoanBooking.payment_id).where(
            LoanBooking.loan_id.in_(chunk), LoanBooking.payment_id.isnot(None)))]
        for part in _chunks(set(payments)):
            session.execute(update(TreasuryPayment.__table__).where(TreasuryPayment.__table__.c.id.in_(part))
                            .values(verwendungszweck=None, given_kassenzeichen=None))
        report.erased["loan_booking"] += session.execute(
            delete(LoanBooking.__table__).where(LoanBooking.__table__.c.loan_id.in_(chunk))).rowcount or 0
        report.erased["loan_event"] += session.execute(
            delete(LoanEvent.__table__).where(LoanEvent.__table__.c.loan_id.in_(chunk))).rowcount or 0
        report.erased["treasury_posting (anonymisiert)"] += _anonymise_postings(
            session, and_(TreasuryPosting.__table__.c.source_kind == "loan", TreasuryPosting.__table__.c.source_id.in_(chunk)))
        session.execute(update(KassenzeichenEntry.__table__).where(
            KassenzeichenEntry.__table__.c.source_kind == "loan", KassenzeichenEntry.__table__.c.source_id.in_(chunk))
            .values(source_id=None))
    lines = FeeLine.__table__
    for chunk in _chunks(tree.get("case", ())):
        report.erased["fee_line (anonymisiert)"] += session.execute(update(lines).where(lines.c.case_id.in_(chunk)).values(
            case_id=None, occupancy_id=None, subscription_id=None, person_id=0)).rowcount or 0
    for chunk in _chunks(persons):
        session.execute(update(lines).where(lines.c.payer_id.in_(chunk)).values(payer_id=0))
        session.execute(update(lines).where(lines.c.person_id.in_(chunk)).values(person_id=0))
        report.erased["treasury_posting (anonymisiert)"] += _anonymise_postings(
            session, and_(TreasuryPosting.__table__.c.source_kind == FEE_KIND, TreasuryPosting.__table__.c.source_id.in_(chunk)))
        session.execute(update(KassenzeichenEntry.__table__).where(
            KassenzeichenEntry.__table__.c.source_kind == FEE_KIND, KassenzeichenEntry.__table__.c.source_id.in_(chunk))
            .values(source_id=None))


def _delete_order(registry, tree: dict[str, set[int]]) -> list[str]:
    """Children before parents (a page's rows before its case's)."""
    depth = {}
    for name in tree:
        d, entity = 0, registry.entity(name)
        while entity.parent:
            d += 1
            entity = registry.entity(entity.parent)
        depth[name] = d
    return sorted(tree, key=lambda n: -depth[n])


def apply(session: Session, today: date, actor: Actor) -> Report:
    """Erase or anonymise every due record; one run with its protocol and frozen counts. The caller commits."""
    registry = built_registry()
    report = find_due(session, today, actor)
    run = RetentionRun(run_by=actor.name[:64], as_of=today.isoformat(), applied=True, started_at=utcnow())
    session.add(run)
    session.flush()
    report.run_id = run.id
    _freeze(session, registry, run.id, report.due)
    by_entity: dict[str, set[int]] = defaultdict(set)
    for d in report.due:
        by_entity[d.entity].add(d.record_id)
        session.add(RetentionProtocol(run_id=run.id, entity=d.entity, record_id=d.record_id,
                                      action=d.action, org_unit_id=d.org_unit_id,
                                      reason=f"{d.period} nach {d.start:%d.%m.%Y} abgelaufen"))
    for b in report.blocked:
        session.add(RetentionProtocol(run_id=run.id, entity=b.entity, record_id=b.record_id, action="blocked",
                                      reason="; ".join(b.reasons)[:200]))
    tree: dict[str, set[int]] = {}
    anonymise: dict[str, set[int]] = {}
    for name, ids in by_entity.items():
        if registry.entity(name).retention.action == "anonymise":
            anonymise[name] = ids
        else:
            _tree(session, registry, name, ids, tree)
    persons = {p for p in _person_refs(session, registry, tree) if _is_person(session, registry, p)}
    for partner_id in sorted(persons):
        if rules.partner_fate(other_live_records=_live_refs(session, registry, partner_id, tree), action="erase") == "keep":
            report.partners_kept.append(partner_id)
            session.add(RetentionProtocol(run_id=run.id, entity="partner", record_id=partner_id, action="keep",
                                          reason="weitere lebende Datensätze nennen die Person"))
        else:
            report.partners_erased.append(partner_id)
            session.add(RetentionProtocol(run_id=run.id, entity="partner", record_id=partner_id, action="erase",
                                          reason="keine weiteren Datensätze"))
    partner_tree: dict[str, set[int]] = {}
    _tree(session, registry, "partner", set(report.partners_erased), partner_tree)
    session.flush()
    _freeze_report_figures(session, registry, run.id, tree)
    _detach_ledgers(session, tree, set(report.partners_erased), report)
    _erase_rows(session, registry, tree, report)  # the cases first: they point at their clients
    _erase_rows(session, registry, partner_tree, report)
    for name, ids in anonymise.items():
        anonymise_rows(session, registry, name, ids)
        report.erased[f"{name} (anonymisiert)"] += len(ids)
    run.summary = ", ".join(f"{k}: {v}" for k, v in sorted(report.erased.items())) or "nichts fällig"
    session.flush()
    return report


def anonymise_rows(session: Session, registry, entity_name: str, ids: set[int]) -> None:
    """Keep the rows (dates, catalogue values, amounts: what statistics count) but clear every free text and
    every pointer to a person; required texts read "anonymisiert"."""
    entity, model = registry.entity(entity_name), registry.model(entity_name)
    values = {}
    for f in entity.fields:
        kind = kind_of(f)
        col = column_name(f)
        if is_kind(f, "string", "text"):
            values[col] = "anonymisiert" if f.required else None
        elif points_to(f, "partner") and not f.required:
            values[col] = None
    if not values:
        return
    for chunk in _chunks(ids):
        session.execute(update(model.__table__).where(model.__table__.c.id.in_(chunk)).values(values))
        session.execute(delete(ChangeLog.__table__).where(ChangeLog.__table__.c.entity == entity_name,
                                                          ChangeLog.__table__.c.record_id.in_(chunk)))
