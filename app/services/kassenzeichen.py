"""Kassenzeichen of the city: drawn from the configured number range, or entered from the treasury.

The rules (check digit, mask, normalising) are in ``app/domain/kassenzeichen.py``; here the counter row is
locked while a number is drawn (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so two
clerks never get the same one, and every number is registered in ``kassenzeichen`` for the payment import.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..domain import kassenzeichen as kz
from ..metamodel.build_models import built_registry
from ..metamodel.spec import KassenzeichenSpec
from ..treasury_models import KassenzeichenCounter, KassenzeichenEntry


class KassenzeichenError(ValueError):
    """German message naming the Kassenzeichen."""


def config(spec=None) -> KassenzeichenSpec:
    spec = spec or built_registry().spec
    return spec.settings.treasury.kassenzeichen


def shown(value: str | None, spec=None) -> str:
    """The stored (normalised) Kassenzeichen as the city prints it."""
    return kz.display(value, config(spec).mask) if value else ""


def next_kassenzeichen(session: Session, actor: Actor, source_kind: str, source_id: int | None,
                       org_unit_id: int | None = None, spec=None) -> str:
    """Draw the next number of the city's range, register it and return it normalised."""
    cfg = config(spec)
    counter = session.execute(select(KassenzeichenCounter).where(KassenzeichenCounter.prefix == cfg.prefix)
                              .with_for_update()).scalar_one_or_none()
    if counter is None:
        counter = KassenzeichenCounter(prefix=cfg.prefix, last=cfg.start - 1)
        session.add(counter)
    while True:
        number = max(counter.last + 1, cfg.start)
        if number > cfg.end:
            raise KassenzeichenError(f"Der Nummernkreis der Kassenzeichen ({cfg.start}–{cfg.end}) ist erschöpft; "
                                     "bitte in settings.yaml (treasury.kassenzeichen) erweitern.")
        counter.last = number
        value = kz.compose(cfg.prefix, number, cfg.digits, cfg.check_digit)
        # A number entered by hand from the treasury may already be taken: skip it.
        if session.scalar(select(KassenzeichenEntry.id).where(KassenzeichenEntry.value == value)) is None:
            break
    register(session, actor, value, source_kind, source_id, org_unit_id)
    return value


def register(session: Session, actor: Actor, value: str, source_kind: str, source_id: int | None,
             org_unit_id: int | None = None, check: bool = False, spec=None) -> str:
    """Register a Kassenzeichen (generated, or entered from the treasury); refuses one that belongs elsewhere."""
    normalised = kz.normalise(value)
    if not normalised:
        raise KassenzeichenError("Kassenzeichen fehlt.")
    if check:
        cfg = config(spec)
        if cfg.check_digit != "keine" and normalised.isdigit() and not kz.is_valid(normalised, cfg.check_digit):
            raise KassenzeichenError(f"Kassenzeichen „{value}“: Prüfziffer stimmt nicht ({cfg.check_digit}).")
    existing = session.execute(select(KassenzeichenEntry).where(KassenzeichenEntry.value == normalised)
                               ).scalar_one_or_none()
    if existing is not None:
        if (existing.source_kind, existing.source_id) != (source_kind, source_id) and existing.source_id is not None:
            raise KassenzeichenError(f"Kassenzeichen „{shown(normalised, spec)}“ ist schon vergeben.")
        existing.source_id = source_id
        return normalised
    session.add(KassenzeichenEntry(value=normalised, source_kind=source_kind, source_id=source_id,
                                   org_unit_id=org_unit_id, created_by=actor.name))
    session.flush()
    return normalised


def owner(session: Session, value: str) -> KassenzeichenEntry | None:
    return session.execute(select(KassenzeichenEntry).where(KassenzeichenEntry.value == kz.normalise(value))
                           ).scalar_one_or_none()
