"""Export every posting not yet delivered as one batch in the city's layout (``fachstelle treasury export``).

1. The postings without a batch (due on or before ``until``, if given) in id order.
2. Rendered by the layout of settings.yaml ``treasury.layouts`` (CSV or fixed width; encoding, decimal comma,
   date format, ``art`` codes); a value too long for its fixed-width field is an error naming the posting,
   never silently cut.
3. Unless ``test``: a ``TreasuryBatch`` with the next number (``JJJJ-NNNN``) and the file's SHA-256; every
   posting stamped with it. A second export with nothing new writes the header only and makes no batch.
4. ``again``: the postings of that batch once more, unchanged, and the batch counts the re-delivery.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...actor import Actor
from ...domain.money import format_decimal, quantize
from ...metamodel.build_models import built_registry
from ...metamodel.spec import ExportLayoutSpec
from ...treasury_models import TreasuryBatch, TreasuryPosting


class ExportError(ValueError):
    """German message; nothing was marked."""


@dataclass
class ExportResult:
    data: bytes
    count: int
    total: Decimal
    batch: str | None  # the batch number (None: test run or nothing new)
    sha256: str
    layout: str

    def report(self) -> str:
        if self.count == 0:
            return "Nichts Neues für die Kasse: die Datei enthält keine Datenzeilen."
        what = f"Stapel {self.batch}" if self.batch else "Testübergabe (nichts als übergeben markiert)"
        return (f"{what}: {self.count} Buchung(en), Summe {format_decimal(self.total)} €, Layout {self.layout}, "
                f"SHA-256 {self.sha256}.")


def layout(name: str | None = None, spec=None) -> tuple[str, ExportLayoutSpec]:
    treasury = (spec or built_registry().spec).settings.treasury
    chosen = name or treasury.export_layout
    found = treasury.layouts.get(chosen)
    if found is None:
        known = ", ".join(sorted(treasury.layouts)) or "(keins)"
        raise ExportError(f"Layout „{chosen}“ ist nicht in settings.yaml (treasury.layouts) eingetragen; "
                          f"vorhanden: {known}.")
    return chosen, found


def _value(posting: TreasuryPosting, field: str, spec: ExportLayoutSpec) -> str:
    value = getattr(posting, field)
    if field == "faellig_am":
        return value.strftime(spec.date_format)
    if field == "betrag":
        amount = quantize(value)
        if spec.format == "fixed" and not spec.decimal_comma:
            return str(int(amount * 100))  # cents, no separator
        text = f"{amount:.2f}"
        return text.replace(".", ",") if spec.decimal_comma else text
    if field == "art":
        return spec.art_codes.get(value, value)
    return "" if value is None else str(value)


def render(postings, spec: ExportLayoutSpec) -> bytes:
    end = "\r\n" if spec.line_end == "crlf" else "\n"
    lines = []
    if spec.format == "csv":
        if spec.header:
            lines.append(spec.delimiter.join(f.header or f.field for f in spec.fields))
        for posting in postings:
            cells = []
            for f in spec.fields:
                text = _value(posting, f.field, spec).replace("\r", " ").replace("\n", " ")
                if spec.delimiter in text or '"' in text:
                    text = '"' + text.replace('"', '""') + '"'
                cells.append(text)
            lines.append(spec.delimiter.join(cells))
    else:
        for posting in postings:
            cells = []
            for f in spec.fields:
                text = _value(posting, f.field, spec).replace("\r", " ").replace("\n", " ")
                if len(text) > f.width:
                    raise ExportError(f"Buchung {posting.vorgang}: „{f.field}“ hat {len(text)} Zeichen, das Layout "
                                      f"erlaubt {f.width}. Nichts exportiert.")
                cells.append(text.rjust(f.width, f.pad) if f.align == "right" else text.ljust(f.width, f.pad))
            lines.append("".join(cells))
    text = end.join(lines) + (end if lines else "")
    try:
        return text.encode(spec.encoding)
    except UnicodeEncodeError as exc:
        raise ExportError(f"Ein Zeichen („{exc.object[exc.start:exc.end]}“) lässt sich in {spec.encoding} nicht "
                          "schreiben. Nichts exportiert.") from None


def _next_number(session: Session, today: date) -> str:
    prefix = f"{today.year}-"
    last = session.scalar(select(func.max(TreasuryBatch.number)).where(TreasuryBatch.number.like(prefix + "%")))
    running = int(last.split("-")[1]) + 1 if last else 1
    return f"{prefix}{running:04d}"


def export(session: Session, actor: Actor, until: date | None = None, layout_name: str | None = None,
           test: bool = False, again: str | None = None, file_name: str | None = None) -> ExportResult:
    """Write the batch (see the module text); the caller commits (or rolls back on a test run)."""
    name, spec = layout(layout_name)
    if again:
        batch = session.execute(select(TreasuryBatch).where(TreasuryBatch.number == again)).scalar_one_or_none()
        if batch is None or batch.number == "ALTBESTAND":
            raise ExportError(f"Stapel „{again}“ gibt es nicht.")
        postings = list(session.scalars(select(TreasuryPosting).where(TreasuryPosting.batch_id == batch.id)
                                        .order_by(TreasuryPosting.id)))
        data = render(postings, spec)
        if not test:
            batch.delivered_again = (batch.delivered_again or 0) + 1
        return ExportResult(data, len(postings), sum((p.betrag for p in postings), Decimal("0.00")), batch.number,
                            hashlib.sha256(data).hexdigest(), name)
    query = select(TreasuryPosting).where(TreasuryPosting.batch_id.is_(None))
    if until is not None:
        query = query.where(TreasuryPosting.faellig_am <= until)
    if not test and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two exports at once never deliver a posting twice
    postings = list(session.scalars(query.order_by(TreasuryPosting.id)))
    data = render(postings, spec)
    digest = hashlib.sha256(data).hexdigest()
    total = sum((p.betrag for p in postings), Decimal("0.00"))
    if test or not postings:
        return ExportResult(data, len(postings), total, None, digest, name)
    batch = TreasuryBatch(number=_next_number(session, actor.today), layout=name, file_name=file_name, sha256=digest,
                          count=len(postings), total=total, until=until, created_by=actor.name)
    session.add(batch)
    session.flush()
    ids = [p.id for p in postings]
    for start in range(0, len(ids), 1000):
        session.execute(update(TreasuryPosting).where(TreasuryPosting.id.in_(ids[start:start + 1000]))
                        .values(batch_id=batch.id))
    return ExportResult(data, len(postings), total, batch.number, digest, name)


def batches(session: Session, limit: int = 50) -> list[TreasuryBatch]:
    return list(session.scalars(select(TreasuryBatch).where(TreasuryBatch.number != "ALTBESTAND")
                                .order_by(TreasuryBatch.id.desc()).limit(limit)))
