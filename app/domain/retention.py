"""Retention periods (Aufbewahrungsfristen) as plain rules: when a record is due for erasure.

Art. 5 (1) e DSGVO and § 84 SGB X: personal data is kept no longer than needed; the city fixes the period
per entity or case type in YAML (``retention:`` of an entity, e.g. 5 years after the case closed, 10 years
for a loan after its settlement). No session and no clock here: ``today`` is an argument.
"""
from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

KEEP_OPEN, HOLD, NOT_DUE, DUE = "open", "hold", "not_due", "due"
DECISION_LABELS = {
    KEEP_OPEN: "bleibt: noch nicht abgeschlossen (kein Datum für den Fristbeginn)",
    HOLD: "bleibt: gesetzliche Sperre (Legal Hold)",
    NOT_DUE: "bleibt: Frist läuft noch",
    DUE: "fällig",
}
ACTION_LABELS = {"erase": "löschen", "anonymise": "anonymisieren"}


@dataclass(frozen=True)
class Period:
    years: int
    months: int = 0

    def __str__(self) -> str:
        text = f"{self.years} Jahr{'e' if self.years != 1 else ''}"
        return text + (f" {self.months} Monat{'e' if self.months != 1 else ''}" if self.months else "")


@dataclass(frozen=True)
class Override:
    when: tuple[tuple[str, str], ...]  # (field, value) pairs that must all match
    period: Period

    def matches(self, values: Mapping[str, object]) -> bool:
        return all(str(values.get(name) or "") == value for name, value in self.when)


@dataclass(frozen=True)
class Rule:
    """One entity's rule (from ``RetentionSpec``): period after the date field ``after``."""

    entity: str
    after: str
    period: Period
    action: str = "erase"
    kind: str = "date"  # "settlement": ``after`` holds the day the ledger was settled (a loan getilgt/erlassen)
    hold: str | None = None
    overrides: tuple[Override, ...] = field(default=())

    def period_for(self, values: Mapping[str, object]) -> Period:
        """The first override whose fields all match (a case type), else the rule's own period."""
        return next((o.period for o in self.overrides if o.matches(values)), self.period)


def add_period(start: date, period: Period) -> date:
    """``start`` plus years and months; a day the target month lacks is its last day (29.02. → 28.02.)."""
    months = start.month - 1 + period.months + 12 * period.years
    year, month = start.year + months // 12, months % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_on(start: date, period: Period) -> date:
    """The first day the record may be erased: the period has fully run (the day after its end)."""
    return add_period(start, period) + timedelta(days=1)


def latest_due_start(today: date, period: Period) -> date:
    """The latest start date whose record is due ``today``: ``start <= this`` exactly when
    ``due_on(start, period) <= today`` (so a database can filter by it). ``due_on`` never decreases with the
    start, so the answer is found by stepping from an estimate."""
    months = today.month - 1 - period.months - 12 * period.years
    year, month = today.year + months // 12, months % 12 + 1
    guess = date(year, month, min(today.day, calendar.monthrange(year, month)[1])) - timedelta(days=2)
    while due_on(guess + timedelta(days=1), period) <= today:
        guess += timedelta(days=1)
    while due_on(guess, period) > today:
        guess -= timedelta(days=1)
    return guess


def decide(rule: Rule, *, start: date | None, on_hold: bool, values: Mapping[str, object], today: date) -> str:
    """What happens to one record today.

    1. a legal hold keeps it, whatever the dates (Art. 17 (3) e DSGVO: claims, proceedings);
    2. without the start date (a case still open, a loan not settled) it is kept;
    3. it is due once the period for its type has fully run.
    """
    if on_hold:
        return HOLD
    if start is None:
        return KEEP_OPEN
    return DUE if due_on(start, rule.period_for(values)) <= today else NOT_DUE


def partner_fate(*, other_live_records: int, action: str) -> str:
    """A person whose records are erased: kept while other live records still name them (another case, a
    household elsewhere, a loan); otherwise erased or anonymised like the record."""
    return "keep" if other_live_records else action


def rule_from_spec(entity_name: str, spec) -> Rule:
    """The rule of a ``RetentionSpec`` (``app/metamodel/spec.py``)."""
    return Rule(entity=entity_name, after=spec.after, period=Period(spec.years, spec.months), action=spec.action,
                kind=getattr(spec, "kind", "date"), hold=spec.hold,
                overrides=tuple(Override(tuple(sorted(o.when.items())), Period(o.years, o.months))
                                for o in spec.overrides))


# --- erasure requests (Art. 17 DSGVO) ----------------------------------------------------------------------
# Art. 12 (3) DSGVO: the answer is due within one month of receipt.
ANSWER_PERIOD = Period(0, 1)
DECIDED = frozenset({"granted", "partly", "refused"})
ERASING = frozenset({"granted", "partly"})


def answer_due(received_on: date | None) -> date | None:
    return add_period(received_on, ANSWER_PERIOD) if received_on else None


def erasure_problem(*, decision: str | None, legal_check: str | None, decided_on: date | None,
                    executed_on: date | None, received_on: date | None) -> str | None:
    """Why an erasure request cannot be saved as it is, or None.

    1. a decision (erase, partly, refuse) needs the legal check written down and its date;
    2. an erasure is carried out only after it was granted (fully or partly);
    3. nothing is decided or carried out before the request came in.
    """
    if decision in DECIDED:
        if not (legal_check or "").strip():
            return "Vor einer Entscheidung bitte die „Rechtliche Prüfung“ festhalten (Art. 17 Abs. 3 DSGVO, § 84 SGB X)."
        if decided_on is None:
            return "Bitte „entschieden am“ angeben."
    if executed_on is not None and decision not in ERASING:
        return "„Löschung ausgeführt am“ nur nach einer Entscheidung für die Löschung."
    for when in (decided_on, executed_on):
        if when is not None and received_on is not None and when < received_on:
            return "Entscheidung und Löschung liegen nicht vor dem Eingang des Antrags."
    return None
