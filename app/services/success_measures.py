"""Success measures for the follow-up agreement (Zielvereinbarung 2.2 and Maßnahme 13), exported as XLSX.

1. Evictions averted: housing-emergency pages closed in the period (``closed_on``) whose result is one of
   the ``erhalt_*`` codes of the catalogue ``case_result`` (Wohnraumerhalt), against all closed pages,
   per district, with the count per result.
2. Services per product number and cost centre (KLR): documentation entries dated in the period, per
   district, per product number of their service (``service.product_number``) and per service.
   The cost centre is the org unit (Berlin, Maßnahme 6: one cost centre "Fachstelle Soziale Wohnhilfen"
   per district); its key is the org unit's code, since org units have no cost-centre field.

Both go through ``scope_query``: a web user counts only their own org units.

Records erased by retention (#15) leave their figures in ``retention_aggregate`` (``frozen_rows`` writes
them before the erasure); every section adds them, so a report over a past period gives the same numbers
before and after ``fachstelle retention --apply``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core_models import CatalogueValue, OrgUnit
from ..domain.indicators import percent
from ..domain.periods import Period, describe
from ..metamodel.build_models import built_registry
from ..actor import Actor
from ..scoping import scope_query

AVERTED_PREFIX = "erhalt_"  # case_result codes that mean the home was kept
NO_RESULT = "(ohne Ergebnis)"
NO_PRODUCT = "(ohne Produktnummer)"


@dataclass
class UnitOutcome:
    closed: int = 0
    averted: int = 0
    by_result: dict[str, int] = field(default_factory=dict)  # result label -> count

    @property
    def percent(self):
        return percent(self.averted, self.closed)


@dataclass
class SuccessMeasures:
    period: Period
    units: list[OrgUnit]
    outcomes: dict[str, UnitOutcome]                   # org unit name -> outcome
    result_labels: list[str]                           # catalogue order, "averted" ones marked by codes
    averted_labels: set[str]
    products: list[tuple[OrgUnit, str, int, int]]       # unit, product number, entries, cases
    services: list[tuple[OrgUnit, str, str, int]]       # unit, product number, service, entries
    # Loans and grants approved in the period (#13): unit, kind label, count, sum, of which "Wohnungsverlust
    # dadurch verhindert" (prevented housing losses by loan).
    loans: list[tuple[OrgUnit, str, int, object, int]] = field(default_factory=list)


def success_measures(session: Session, period: Period, units: list[OrgUnit],
                     actor: Actor | None = None) -> SuccessMeasures:
    registry = built_registry()
    case, emergency = registry.model("case"), registry.model("housing_emergency")
    entry, service = registry.model("doc_entry"), registry.model("service")
    by_id = {u.id: u for u in units}
    unit_ids = list(by_id) or [-1]
    results = list(session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "case_result")
                                   .order_by(CatalogueValue.sort, CatalogueValue.id)))
    label = {v.id: v.label for v in results}
    averted_ids = {v.id for v in results if v.code.startswith(AVERTED_PREFIX)}

    closed = (select(case.org_unit_id, emergency.result_id, func.count(emergency.id))
              .join(case, case.id == emergency.case_id)
              .where(emergency.closed_on >= period.start, emergency.closed_on <= period.end,
                     case.org_unit_id.in_(unit_ids))
              .group_by(case.org_unit_id, emergency.result_id))
    outcomes = {u.name: UnitOutcome() for u in units}
    for unit_id, result_id, count in session.execute(scope_query(scope_query(closed, case, actor=actor), emergency, actor=actor)):
        outcome = outcomes[by_id[unit_id].name]
        outcome.closed += count
        outcome.averted += count if result_id in averted_ids else 0
        key = label.get(result_id, NO_RESULT)
        outcome.by_result[key] = outcome.by_result.get(key, 0) + count

    product_rows = session.execute(
        scope_query(scope_query(
            select(case.org_unit_id, service.product_number, func.count(entry.id), func.count(func.distinct(entry.case_id)))
            .join(case, case.id == entry.case_id).join(service, service.id == entry.service_id)
            .where(entry.entry_date >= period.start, entry.entry_date <= period.end, case.org_unit_id.in_(unit_ids))
            .group_by(case.org_unit_id, service.product_number), case, actor=actor), entry, actor=actor))
    products = sorted(((by_id[u], p or NO_PRODUCT, n, c) for u, p, n, c in product_rows),
                      key=lambda r: (r[0].id, r[1]))
    service_rows = session.execute(
        scope_query(scope_query(
            select(case.org_unit_id, service.product_number, service.name, func.count(entry.id))
            .join(case, case.id == entry.case_id).join(service, service.id == entry.service_id)
            .where(entry.entry_date >= period.start, entry.entry_date <= period.end, case.org_unit_id.in_(unit_ids))
            .group_by(case.org_unit_id, service.product_number, service.name), case, actor=actor), entry, actor=actor))
    services = sorted(((by_id[u], p or NO_PRODUCT, name, n) for u, p, name, n in service_rows),
                      key=lambda r: (r[0].id, r[1], r[2]))
    frozen = _frozen(session, period, unit_ids, actor)
    code_label = {v.code: v.label for v in results}
    for a in frozen.get("housing_emergency", ()):
        outcome = outcomes[by_id[a.org_unit_id].name]
        outcome.closed += a.count
        outcome.averted += a.count if (a.result or "").startswith(AVERTED_PREFIX) else 0
        key = code_label.get(a.result, NO_RESULT)
        outcome.by_result[key] = outcome.by_result.get(key, 0) + a.count
    if frozen.get("doc_entry"):
        per_product: dict = {}
        for u, p, n, c in products:
            per_product[(u.id, p)] = [n, c]
        per_service: dict = {(u.id, p, name): n for u, p, name, n in services}
        erased_cases: dict = {}
        for a in frozen["doc_entry"]:
            key = (a.org_unit_id, a.result or NO_PRODUCT)
            per_product.setdefault(key, [0, 0])[0] += a.count
            erased_cases.setdefault(key, set()).add((a.run_id, a.record_id))
            skey = (a.org_unit_id, a.result or NO_PRODUCT, a.detail)
            per_service[skey] = per_service.get(skey, 0) + a.count
        for key, ids in erased_cases.items():
            per_product[key][1] += len(ids)
        products = sorted(((by_id[u], p, n, c) for (u, p), (n, c) in per_product.items()), key=lambda r: (r[0].id, r[1]))
        services = sorted(((by_id[u], p, name, n) for (u, p, name), n in per_service.items()),
                          key=lambda r: (r[0].id, r[1], r[2]))
    labels = [v.label for v in results]
    if any(NO_RESULT in o.by_result for o in outcomes.values()):
        labels.append(NO_RESULT)
    return SuccessMeasures(period, units, outcomes, labels, {label[i] for i in averted_ids}, products, services,
                           _loans(session, period, by_id, actor, frozen.get("loan", ())))


def _frozen(session: Session, period: Period, unit_ids: list[int], actor: Actor | None) -> dict[str, list]:
    """The frozen figures of erased records (retention, #15) whose day lies in the period, per entity."""
    from ..privacy_models import RetentionAggregate as A
    query = select(A).where(A.day >= period.start, A.day <= period.end, A.org_unit_id.in_(unit_ids),
                            A.entity.in_(("housing_emergency", "doc_entry", "loan")))
    if actor is not None and not actor.sees_all:
        query = query.where(A.org_unit_id.in_(actor.units or [-1]))
    out: dict[str, list] = {}
    for row in session.scalars(query.order_by(A.id)):
        out.setdefault(row.entity, []).append(row)
    return out


def frozen_rows(session: Session, registry, tree: dict[str, set[int]]) -> list[dict]:
    """What this report counts of the records in ``tree`` (entity -> ids about to be erased), as rows of
    ``retention_aggregate`` (without ``run_id``); see ``app/services/retention.py``."""
    from .retention import _chunks
    case = registry.model("case")
    rows: list[dict] = []
    if tree.get("housing_emergency"):
        emergency = registry.model("housing_emergency")
        for chunk in _chunks(tree["housing_emergency"]):
            for unit, day, code, n in session.execute(
                    select(case.org_unit_id, emergency.closed_on, CatalogueValue.code, func.count(emergency.id))
                    .join(case, case.id == emergency.case_id)
                    .join(CatalogueValue, CatalogueValue.id == emergency.result_id, isouter=True)
                    .where(emergency.id.in_(chunk), emergency.closed_on.isnot(None))
                    .group_by(case.org_unit_id, emergency.closed_on, CatalogueValue.code)):
                rows.append(dict(entity="housing_emergency", org_unit_id=unit, day=day, year=day.year, result=code,
                                 count=n))
    if tree.get("doc_entry"):
        entry, service = registry.model("doc_entry"), registry.model("service")
        for chunk in _chunks(tree["doc_entry"]):
            for unit, day, product, name, case_id, n in session.execute(
                    select(case.org_unit_id, entry.entry_date, service.product_number, service.name, entry.case_id,
                           func.count(entry.id))
                    .join(case, case.id == entry.case_id).join(service, service.id == entry.service_id)
                    .where(entry.id.in_(chunk), entry.entry_date.isnot(None))
                    .group_by(case.org_unit_id, entry.entry_date, service.product_number, service.name, entry.case_id)):
                rows.append(dict(entity="doc_entry", org_unit_id=unit, day=day, year=day.year, result=product,
                                 detail=name, record_id=case_id, count=n))
    if tree.get("loan") and registry.spec.entity("loan") is not None:
        loan = registry.model("loan")
        for chunk in _chunks(tree["loan"]):
            for unit, day, kind, amount, prevented in session.execute(
                    select(loan.org_unit_id, loan.decided_on, CatalogueValue.label, loan.amount, loan.prevented_loss)
                    .join(CatalogueValue, CatalogueValue.id == loan.kind_id)
                    .where(loan.id.in_(chunk), loan.decided_on.isnot(None))):
                rows.append(dict(entity="loan", org_unit_id=unit, day=day, year=day.year, detail=kind, count=1,
                                 amount=amount or 0, extra=1 if prevented else 0))
    return rows


def _loans(session: Session, period: Period, by_id: dict, actor: Actor | None, frozen=()) -> list:
    """Loans approved in the period per unit and kind, with the prevented housing losses (#13)."""
    registry = built_registry()
    if registry.spec.entity("loan") is None:
        return []
    loan = registry.model("loan")
    kind = CatalogueValue
    rows = session.execute(scope_query(
        select(loan.org_unit_id, kind.label, func.count(loan.id), func.sum(loan.amount),
               func.count(loan.id).filter(loan.prevented_loss.is_(True)))
        .join(kind, kind.id == loan.kind_id)
        .where(loan.decided_on >= period.start, loan.decided_on <= period.end, loan.org_unit_id.in_(list(by_id) or [-1]))
        .group_by(loan.org_unit_id, kind.label), loan, actor=actor))
    from ..domain.money import quantize
    sums: dict = {}
    for u, label, n, total, prevented in list(rows) + [(a.org_unit_id, a.detail, a.count, a.amount, a.extra or 0)
                                                       for a in frozen]:
        s = sums.setdefault((u, label), [0, quantize(0), 0])
        s[0] += n
        s[1] += quantize(str(total or 0))
        s[2] += prevented
    return sorted(((by_id[u], label, n, total, prevented) for (u, label), (n, total, prevented) in sums.items()),
                  key=lambda r: (r[0].id, r[1]))


def write_xlsx(measures: SuccessMeasures, target, created: datetime) -> None:
    """Four sheets: evictions averted per district, services per product number and per service, loans.

    Written with the app's one XLSX writer (``xlsx_export``, #14); ``target`` a path or a binary file."""
    from .xlsx_export import XlsxColumn, XlsxSheet, write_sheets

    subtitle = (f"Zeitraum: {describe(measures.period)} ({measures.period.start:%d.%m.%Y} – "
                f"{measures.period.end:%d.%m.%Y}), erstellt am {created:%d.%m.%Y %H:%M}")
    unit_columns = [XlsxColumn("Kostenstelle", "text", 26), XlsxColumn("Dienststelle", "text", 40)]

    def outcomes():
        total = UnitOutcome()
        for unit in measures.units:
            o = measures.outcomes[unit.name]
            total.closed += o.closed
            total.averted += o.averted
            for k, v in o.by_result.items():
                total.by_result[k] = total.by_result.get(k, 0) + v
            yield _outcome_row(unit.code, unit.name, o, measures.result_labels)
        if len(measures.units) != 1:
            yield _outcome_row("", "Gesamt", total, measures.result_labels)

    write_sheets(target, [
        XlsxSheet("Wohnraumerhalt",
                  unit_columns + [XlsxColumn("abgeschlossene Wohnungsnotfälle", "int", 18),
                                  XlsxColumn("davon Wohnraum erhalten", "int", 26), XlsxColumn("Anteil", "percent", 12),
                                  *[XlsxColumn(label, "int", 22) for label in measures.result_labels]],
                  outcomes(), "Erfolgsmessung: abgewendete Wohnungsverluste", subtitle,
                  notes=[f"Wohnraum erhalten: Ergebnis {', '.join(sorted(measures.averted_labels))}.",
                         "Kostenstelle: Kürzel der Dienststelle (je Bezirk eine Kostenstelle „Fachstelle Soziale "
                         "Wohnhilfen“, Maßnahme 6)."]),
        XlsxSheet("Leistungen je Produkt",
                  unit_columns + [XlsxColumn("Produktnummer", "text", 18),
                                  XlsxColumn("Leistungen (Doku-Einträge)", "int", 26), XlsxColumn("Fälle", "int", 12)],
                  ((unit.code, unit.name, product, entries, cases)
                   for unit, product, entries, cases in measures.products),
                  "Leistungen je Produktnummer und Kostenstelle (KLR)", subtitle),
        XlsxSheet("Leistungen je Leistung",
                  unit_columns + [XlsxColumn("Produktnummer", "text", 18), XlsxColumn("Leistung", "text", 26),
                                  XlsxColumn("Anzahl", "int", 12)],
                  ((unit.code, unit.name, product, name, entries)
                   for unit, product, name, entries in measures.services),
                  "Leistungen je Leistung, Produktnummer und Kostenstelle", subtitle),
        XlsxSheet("Darlehen",
                  unit_columns + [XlsxColumn("Art", "text", 18), XlsxColumn("bewilligt", "int", 12),
                                  XlsxColumn("Summe (€)", "money", 16),
                                  XlsxColumn("davon Wohnungsverlust verhindert", "int", 30)],
                  ((unit.code, unit.name, kind_label, count, total, prevented)
                   for unit, kind_label, count, total, prevented in measures.loans),
                  "Darlehen und Beihilfen: bewilligt im Zeitraum, verhinderte Wohnungsverluste", subtitle),
    ])


def _outcome_row(code: str, name: str, o: UnitOutcome, labels: list[str]) -> tuple:
    share = o.percent  # percent 0–100 (Decimal); the sheet shows a fraction as "0.0 %"
    return (code, name, o.closed, o.averted, "–" if share is None else share / 100,
            *(o.by_result.get(label, 0) for label in labels))
