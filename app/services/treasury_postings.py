"""Treasury postings: the one way anything (loans #13, shelter fees #12) sends an order to the Stadtkasse.

``add_posting(session, actor, **fields)`` writes one ``TreasuryPosting`` (append-only; the export in
``app/integrations/treasury/`` stamps its batch). The contract is in ``docs/kasse.md``:

- ``kassenzeichen`` (any spelling; stored normalised), ``faellig_am`` (date), ``betrag`` (Decimal > 0),
  ``art`` (soll | sollabgang | sollzugang | auszahlung), ``name`` (required), ``vorname``, ``sachkonto``,
  ``kostenstelle``, ``produkt`` (default: settings.yaml ``treasury``), ``buchungstext``, ``vorgang`` (unique;
  default "<source_kind>-<source_id>-<n>"), ``iban`` (payouts), ``source_kind`` + ``source_id`` (required),
  ``org_unit_id``; ``delivered=True`` marks it as known to the treasury already (legacy data: never exported).
- Bad values raise ``PostingError`` with a German message naming the field; nothing is written then.
- The posting is written in the caller's transaction; the caller commits.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..domain import kassenzeichen as kz
from ..domain.money import quantize, to_decimal
from ..metamodel.build_models import built_registry
from ..treasury_models import POSTING_KINDS, TreasuryPosting



class PostingError(ValueError):
    """A posting field is wrong; the German message names it."""


_REQUIRED = ("kassenzeichen", "faellig_am", "betrag", "art", "name", "source_kind", "source_id")
_ALLOWED = {"kassenzeichen", "faellig_am", "betrag", "art", "name", "vorname", "sachkonto", "kostenstelle", "produkt",
            "buchungstext", "vorgang", "iban", "source_kind", "source_id", "org_unit_id", "delivered"}


def cost_defaults(spec=None) -> dict[str, str]:
    """Sachkonto, Kostenstelle and Produkt of the city's configuration (settings.yaml ``treasury``)."""
    spec = spec or built_registry().spec
    treasury = spec.settings.treasury
    return {"sachkonto": treasury.sachkonto, "kostenstelle": treasury.kostenstelle, "produkt": treasury.produkt}


def add_posting(session: Session, actor: Actor, **fields) -> TreasuryPosting:
    """Write one posting (see the module text) and return it (flushed: it has its id)."""
    unknown = sorted(set(fields) - _ALLOWED)
    if unknown:
        raise PostingError(f"Unbekannte Angabe(n) für eine Kassenbuchung: {', '.join(unknown)}.")
    missing = [name for name in _REQUIRED if fields.get(name) in (None, "")]
    if missing:
        raise PostingError(f"Kassenbuchung: es fehlt {', '.join(missing)}.")
    art = fields["art"]
    if art not in POSTING_KINDS:
        raise PostingError(f"art: „{art}“ ist keine Buchungsart (erlaubt: {', '.join(POSTING_KINDS)}).")
    try:
        betrag = quantize(to_decimal(fields["betrag"]))
    except (TypeError, ValueError) as exc:
        raise PostingError(f"betrag: {exc}") from None
    if betrag <= 0:
        raise PostingError("betrag: muss größer als 0,00 € sein (die Richtung steht in „art“).")
    if not isinstance(fields["faellig_am"], date):
        raise PostingError("faellig_am: muss ein Datum sein.")
    number = kz.normalise(fields["kassenzeichen"])
    defaults = cost_defaults()
    values = {name: fields.get(name) or defaults[name] for name in defaults}
    vorgang = fields.get("vorgang") or _next_vorgang(session, fields["source_kind"], fields["source_id"])
    posting = TreasuryPosting(
        kassenzeichen=number, faellig_am=fields["faellig_am"], betrag=betrag, art=art,
        name=str(fields["name"])[:120], vorname=(fields.get("vorname") or None),
        buchungstext=(fields.get("buchungstext") or None), vorgang=vorgang, iban=fields.get("iban") or None,
        source_kind=fields["source_kind"], source_id=int(fields["source_id"]), org_unit_id=fields.get("org_unit_id"),
        created_by=actor.name, **values)
    if fields.get("delivered"):
        posting.batch_id = _legacy_batch(session, actor).id
    session.add(posting)
    session.flush()
    return posting


def _next_vorgang(session: Session, source_kind: str, source_id) -> str:
    count = session.scalar(select(func.count()).select_from(TreasuryPosting).where(
        TreasuryPosting.source_kind == source_kind, TreasuryPosting.source_id == int(source_id))) or 0
    return f"{source_kind}-{source_id}-{count + 1}"


def _legacy_batch(session: Session, actor: Actor):
    """The one batch "ALTBESTAND" that legacy postings belong to: the treasury has them already."""
    from ..treasury_models import TreasuryBatch
    batch = session.execute(select(TreasuryBatch).where(TreasuryBatch.number == "ALTBESTAND")).scalar_one_or_none()
    if batch is None:
        batch = TreasuryBatch(number="ALTBESTAND", layout="-", sha256="-", count=0, total=Decimal("0"),
                              created_by=actor.name)
        session.add(batch)
        session.flush()
    return batch


def postings_for(session: Session, source_kind: str, source_id: int) -> list[TreasuryPosting]:
    return list(session.scalars(select(TreasuryPosting).where(
        TreasuryPosting.source_kind == source_kind, TreasuryPosting.source_id == source_id)
        .order_by(TreasuryPosting.faellig_am, TreasuryPosting.id)))
