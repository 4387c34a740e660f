"""Hand-written tables of the treasury interface (#13; the shelter fees of #12 book through them too).

The Stadtkasse is the system of record for money; the Fachstelle sends it orders and reads back payments
(research money-and-shelters §1). Every table here is append-only in its money columns:

- ``TreasuryPosting``: one order to the treasury — a debit (``soll``, Sollstellung/Annahmeanordnung), a
  reduction (``sollabgang``) or increase (``sollzugang``) of a debit, or a payout order (``auszahlung``,
  Auszahlungsanordnung). Never changed after it is written, except that the export stamps ``batch_id`` once;
  a correction is a new posting (Sollabgang + new Soll). ``source_kind`` + ``source_id`` name what it is for
  ("loan" 17, "shelter_fee" 4711); ``vorgang`` is the unique text the treasury sees.
- ``TreasuryBatch``: one delivered export file: its number, layout, SHA-256 and totals.
- ``KassenzeichenEntry``: every Kassenzeichen the office knows (normalised), with what it belongs to; the
  payment import matches against it. Numbers are drawn from ``KassenzeichenCounter`` per prefix.
- ``PaymentImport`` / ``TreasuryPayment``: a read payment file (SHA-256, format) and its bookings, each with
  the treasury's booking id (unique: files overlap, a second import books nothing), the matched
  Kassenzeichen or ``klaerfall`` until a clerk assigns it.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .core_models import utcnow
from .metamodel.kinds.types import Money

POSTING_KINDS = {"soll": "Sollstellung", "sollabgang": "Sollabgang", "sollzugang": "Sollzugang",
                 "auszahlung": "Auszahlungsanordnung"}


class TreasuryBatch(Model):
    """One export to the treasury: every posting stamped with it was delivered in this file."""

    __tablename__ = "treasury_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # "2026-0001": year and running number
    layout: Mapped[str] = mapped_column(String(48))
    file_name: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money())
    until: Mapped[date | None]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_again: Mapped[int] = mapped_column(Integer, default=0)  # "nochmals übergeben" count


class TreasuryPosting(Model):
    """One order to the treasury (see the module text). Append-only; ``batch_id`` is set once by the export."""

    __tablename__ = "treasury_posting"
    __table_args__ = (Index("ix_treasury_posting_open", "batch_id", "faellig_am"),
                      Index("ix_treasury_posting_source", "source_kind", "source_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    kassenzeichen: Mapped[str] = mapped_column(String(32), index=True)  # normalised
    faellig_am: Mapped[date]
    betrag: Mapped[Decimal] = mapped_column(Money())  # positive; the direction is in ``art``
    art: Mapped[str] = mapped_column(String(12))  # soll | sollabgang | sollzugang | auszahlung
    name: Mapped[str] = mapped_column(String(120))
    vorname: Mapped[str | None] = mapped_column(String(80))
    sachkonto: Mapped[str | None] = mapped_column(String(20))
    kostenstelle: Mapped[str | None] = mapped_column(String(20))
    produkt: Mapped[str | None] = mapped_column(String(30))
    buchungstext: Mapped[str | None] = mapped_column(String(140))
    vorgang: Mapped[str] = mapped_column(String(64), unique=True)
    iban: Mapped[str | None] = mapped_column(String(34))  # payouts: the payee's account
    source_kind: Mapped[str] = mapped_column(String(32))  # "loan", "shelter_fee", …
    source_id: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("treasury_batch.id"))  # None: not yet delivered
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KassenzeichenCounter(Model):
    """The last running number drawn per prefix (row-locked while a number is drawn)."""

    __tablename__ = "kassenzeichen_counter"
    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class KassenzeichenEntry(Model):
    """A Kassenzeichen the office knows: generated here or entered from the treasury."""

    __tablename__ = "kassenzeichen"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(32), unique=True)  # normalised
    source_kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(Integer)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PaymentImport(Model):
    """One payment file read: SHA-256, format and what it booked."""

    __tablename__ = "payment_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(16))  # csv | camt.053 | camt.054
    message_id: Mapped[str | None] = mapped_column(String(64))
    booked: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    to_clear: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TreasuryPayment(Model):
    """One payment booking of the treasury (or the bank); matched to a Kassenzeichen or a Klärfall."""

    __tablename__ = "treasury_payment"
    __table_args__ = (UniqueConstraint("buchungs_id", name="uq_treasury_payment_buchungs_id"),
                      Index("ix_treasury_payment_state", "state", "buchungstag"))
    id: Mapped[int] = mapped_column(primary_key=True)
    buchungs_id: Mapped[str] = mapped_column(String(80))
    kassenzeichen: Mapped[str | None] = mapped_column(String(32), index=True)  # normalised, once matched
    betrag: Mapped[Decimal] = mapped_column(Money())  # negative: a reversal
    buchungstag: Mapped[date]
    verwendungszweck: Mapped[str | None] = mapped_column(Text)
    given_kassenzeichen: Mapped[str | None] = mapped_column(String(40))  # as in the file
    state: Mapped[str] = mapped_column(String(12))  # gebucht | klaerfall | zugeordnet
    reason: Mapped[str | None] = mapped_column(String(200))  # why a Klärfall
    import_id: Mapped[int | None] = mapped_column(ForeignKey("payment_import.id"))
    assigned_by: Mapped[str | None] = mapped_column(String(64))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoanBooking(Model):
    """A booking on a loan account (append-only): a payment (negative: its reversal) or the waived rest."""

    __tablename__ = "loan_booking"
    # (loan_id, day) serves one loan's account; kind and amount make it covering for the report's sums per loan
    # up to a day (SQLite reads the index alone: 0.19 → 0.03 s over 90,000 bookings).
    __table_args__ = (Index("ix_loan_booking_loan_day_sums", "loan_id", "day", "kind", "amount"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(Integer)  # the generated ``loan`` entity (config/entities.yaml)
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(12))  # zahlung | erlass
    amount: Mapped[Decimal] = mapped_column(Money())
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("treasury_payment.id"), index=True)
    text: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoanEvent(Model):
    """A state change of a loan account: approval, payout, plan, Stundung, Niederschlagung, Erlass, …

    Stundung: ``date_from``..``date_to``, ``ended_on`` when revoked. Niederschlagung: ``date_from`` the day,
    ``review_on`` for a befristete, ``ended_on`` when lifted. Four eyes: ``approved_by`` is the second person,
    and an event waiting for it has ``pending`` set.
    """

    __tablename__ = "loan_event"
    __table_args__ = (Index("ix_loan_event_loan", "loan_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    day: Mapped[date]
    date_from: Mapped[date | None]
    date_to: Mapped[date | None]
    review_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    amount: Mapped[Decimal | None] = mapped_column(Money())
    note: Mapped[str | None] = mapped_column(String(500))
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
