"""Payments read back from the treasury: who gets them, Klärfälle, manual assignment (#13, shared with #12).

The file formats are read in ``app/integrations/treasury/payments.py``; here is what a matched payment does.
A module that owns Kassenzeichen registers a handler per ``source_kind`` (loans: ``"loan"``; shelter fees of
#12: their own kind) with ``on_payments(kind)``; it gets ``(session, actor, [(payment_row_dict, source_id)])``
for a whole file at once (bulk: 100,000 bookings in seconds). A kind without a handler keeps the payment
on the Kassenzeichen (``treasury_payment.kassenzeichen``), which is its booking.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..actor import Actor
from ..domain import kassenzeichen as kz
from ..treasury_models import KassenzeichenEntry, TreasuryPayment

GEBUCHT, KLAERFALL, ZUGEORDNET = "gebucht", "klaerfall", "zugeordnet"
Handler = Callable[[Session, Actor, list[tuple[dict, int]]], None]
_HANDLERS: dict[str, Handler] = {}


class PaymentError(ValueError):
    """German message."""


def on_payments(source_kind: str):
    def register(handler: Handler) -> Handler:
        _HANDLERS[source_kind] = handler
        return handler
    return register


def dispatch(session: Session, actor: Actor, matched: list[tuple[dict, str, int | None]]) -> None:
    """``matched``: (payment values with ``id``, source_kind, source_id) → the handlers, one call per kind."""
    by_kind: dict[str, list[tuple[dict, int]]] = {}
    for values, kind, source_id in matched:
        if source_id is not None:
            by_kind.setdefault(kind, []).append((values, source_id))
    for kind, items in by_kind.items():
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(session, actor, items)


def known_kassenzeichen(session: Session) -> dict[str, tuple[str, int | None]]:
    """Every known Kassenzeichen (normalised) → (source_kind, source_id): one query for the whole file."""
    return {value: (kind, source_id) for value, kind, source_id in session.execute(
        select(KassenzeichenEntry.value, KassenzeichenEntry.source_kind, KassenzeichenEntry.source_id))}


def open_cases(session: Session, actor: Actor, until: date | None = None, limit: int | None = 500):
    """The Klärfälle (payments no account was found for), oldest first. An unmatched payment belongs to no
    org unit, so the queue is not filtered by unit: it is guarded by the admin function ``treasury`` (the page
    ``/kasse/klaerfaelle``). Assigning it (``assign``) needs a Kassenzeichen of a unit the actor sees; from
    then on the booking belongs to that account and its unit (docs/kasse.md "Klärfälle")."""
    query = select(TreasuryPayment).where(TreasuryPayment.state == KLAERFALL)
    if until is not None:
        query = query.where(TreasuryPayment.buchungstag <= until)
    query = query.order_by(TreasuryPayment.buchungstag, TreasuryPayment.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_open_cases(session: Session) -> int:
    """How many Klärfälle wait (the worklist's "payments to clear"): one COUNT, no rows."""
    from sqlalchemy import func
    return session.scalar(select(func.count(TreasuryPayment.id)).where(TreasuryPayment.state == KLAERFALL)) or 0


def assign(session: Session, actor: Actor, payment_id: int, kassenzeichen: str) -> TreasuryPayment:
    """A clerk assigns a Klärfall to an account by its Kassenzeichen; it is booked there at once."""
    payment = session.get(TreasuryPayment, payment_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if payment is None or payment.state != KLAERFALL:
        raise PaymentError("Diese Zahlung ist kein offener Klärfall (mehr).")
    value = kz.normalise(kassenzeichen)
    entry = session.execute(select(KassenzeichenEntry).where(KassenzeichenEntry.value == value)).scalar_one_or_none()
    if entry is None:
        raise PaymentError(f"Kassenzeichen „{kassenzeichen}“ ist nicht bekannt.")
    if entry.org_unit_id is not None and not actor.can_see_unit(entry.org_unit_id):
        raise PaymentError(f"Kassenzeichen „{kassenzeichen}“ gehört zu einer Dienststelle, die Sie nicht sehen.")
    payment.kassenzeichen, payment.state = value, ZUGEORDNET
    payment.assigned_by, payment.assigned_at = actor.name, clock.utcnow()
    session.flush()
    values = {"id": payment.id, "buchungs_id": payment.buchungs_id, "betrag": payment.betrag,
              "buchungstag": payment.buchungstag, "verwendungszweck": payment.verwendungszweck}
    dispatch(session, actor, [(values, entry.source_kind, entry.source_id)])
    return payment
