"""Erasure requests (Art. 17 DSGVO) as a tracked action (#15): the answer date and the recorded legal check.

On every save path (form and REST): the answer is due one month after receipt (``answer_by``, Art. 12 (3));
a decision needs the legal check and its date; an erasure is carried out only once granted
(``app/domain/retention.py``). The erasure itself runs through retention or by hand; its date is recorded here.
"""
from __future__ import annotations

from ..core_models import CatalogueValue
from ..domain.retention import answer_due, erasure_problem
from ..errors import DomainError
from ..extensions import db
from . import save_hooks


def _decision_code(item) -> str | None:
    value = item.__dict__.get("decision")
    if value is None and getattr(item, "decision_id", None) is not None:
        value = db.session.get(CatalogueValue, item.decision_id)
    return getattr(value, "code", None)


@save_hooks.on_saving("erasure_request")
def check_request(item) -> None:
    item.answer_by = answer_due(item.received_on)
    problem = erasure_problem(decision=_decision_code(item), legal_check=item.legal_check, decided_on=item.decided_on,
                              executed_on=item.executed_on, received_on=item.received_on)
    if problem:
        raise DomainError(problem)
