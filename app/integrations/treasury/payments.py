"""Payment import (``fachstelle import-payments FILE`` and the upload page): the treasury's CSV or camt.053/.054.

1. **Reading.** CSV through the import pipeline (UTF-8 with or without BOM, else Windows-1252/Latin-1; the
   delimiter from the header) with the columns of the city's payment profile, standard
   ``buchungs_id;kassenzeichen;betrag;buchungstag;verwendungszweck`` (decimal comma, TT.MM.JJJJ). An XML file
   is camt.053 or camt.054 version .001.08: checked by defusedxml (no DTD, no entities: no XML bombs), then read
   with lxml; the booking id is the transaction's ``AcctSvcrRef`` (else the entry's, numbered), the amount
   negative for a debit (a reversal), the purpose the joined ``Ustrd`` lines, the Kassenzeichen a structured
   ``CdtrRefInf/Ref`` if there is one.
2. **All or nothing.** Every row is checked first; one bad row and nothing is booked (line-numbered German
   errors). A booking id twice in the file is an error; one seen in an earlier file is skipped (files overlap),
   so the same file twice books nothing.
3. **Matching.** The Kassenzeichen column (or structured reference) if filled; else the one known Kassenzeichen
   in the purpose text (spaces, dots, dashes and slashes ignored). Unknown, none or several: a Klärfall.
4. **Once.** On PostgreSQL the import holds a transaction-level advisory lock, so two clerks importing the same
   file at once book it once (the second waits, then skips every id); the unique booking id is the backstop.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ... import clock
from ...actor import Actor
from ...domain import kassenzeichen as kz
from ...domain.money import format_decimal, parse_decimal, quantize
from ...metamodel.build_models import built_registry
from ...services import loans as _loans  # noqa: F401  (registers the loan handler for matched payments)
from ...services.treasury_payments import GEBUCHT, KLAERFALL, dispatch, known_kassenzeichen
from ...treasury_models import PaymentImport, TreasuryPayment
from ..pipeline import (BATCH, DUPLICATE, INVALID_VALUE, UNREADABLE, Collector, Column, CsvFile, ImportFailed, Invalid,
                        ProgressFn, header_key, insert_rows, map_columns, parse_rows)

CAMT_VERSIONS = {"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "camt.053",
                 "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08": "camt.054"}
LOCK_KEY = 13_000_001  # pg_advisory_xact_lock: one payment import at a time


@dataclass
class PaymentRow:
    line: int
    buchungs_id: str
    kassenzeichen: str | None
    betrag: Decimal
    buchungstag: date
    verwendungszweck: str | None


@dataclass
class PaymentResult:
    file_name: str
    format: str
    booked: int = 0
    skipped: int = 0
    to_clear: int = 0
    total: Decimal = Decimal("0.00")
    reasons: dict[str, int] = field(default_factory=dict)

    def report(self, dry_run: bool = False) -> str:
        head = f"Probelauf für {self.file_name}: so würde gebucht, gespeichert wurde nichts.\n" if dry_run else ""
        lines = [f"{self.file_name} ({self.format}): {self.booked} Zahlung(en) gebucht "
                 f"(Summe {format_decimal(self.total)} €), {self.to_clear} Klärfall/-fälle, "
                 f"{self.skipped} schon früher eingelesen und übersprungen."]
        lines += [f"  Klärfall: {reason} – {count}" for reason, count in sorted(self.reasons.items())]
        return head + "\n".join(lines)


# -- reading -------------------------------------------------------------------------------------------------

def _money(text: str) -> Decimal:
    try:
        return parse_decimal(text, places=2).quantize(Decimal("0.01"))
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _date_parser(fmt: str):
    def parse(text: str) -> date:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            shown = {"%d.%m.%Y": "TT.MM.JJJJ", "%Y-%m-%d": "JJJJ-MM-TT", "%Y%m%d": "JJJJMMTT"}[fmt]
            raise Invalid(f"„{text}“ ist kein Datum ({shown})." if text else f"Datum fehlt ({shown}).") from None
    return parse


def _required(label: str):
    def parse(text: str) -> str:
        if not text:
            raise Invalid(f"{label} fehlt.")
        if len(text) > 80:
            raise Invalid(f"{label} ist länger als 80 Zeichen.")
        return text
    return parse


def csv_columns(spec=None) -> list[Column]:
    treasury = (spec or built_registry().spec).settings.treasury
    profile = treasury.payment_profiles.get(treasury.payment_profile)
    headers = profile.columns if profile else {}
    date_format = profile.date_format if profile else "%d.%m.%Y"

    def h(name):
        return (header_key(headers[name]),) if name in headers else ()
    return [Column("buchungs_id", "buchungs_id", h("buchungs_id"), parse=_required("buchungs_id")),
            Column("kassenzeichen", "kassenzeichen", h("kassenzeichen"), required=False, parse=lambda t: t or None),
            Column("betrag", "betrag", h("betrag"), parse=_money),
            Column("buchungstag", "buchungstag", h("buchungstag"), parse=_date_parser(date_format)),
            Column("verwendungszweck", "verwendungszweck", h("verwendungszweck"), required=False,
                   parse=lambda t: t or None)]


def read_csv(source: Path | bytes, file_name: str, progress: ProgressFn | None = None) -> list[PaymentRow]:
    csv_file = CsvFile.open(source, file_name)
    columns = csv_columns()
    index = map_columns(csv_file, columns, "buchungs_id;kassenzeichen;betrag;buchungstag;verwendungszweck")
    problems = Collector(file_name)
    rows = [PaymentRow(line, v["buchungs_id"], v["kassenzeichen"], v["betrag"], v["buchungstag"], v["verwendungszweck"])
            for line, v in parse_rows(csv_file, columns, index, problems, progress, "geprüft")]
    problems.raise_if_any()
    return rows


def _fail(file_name: str, message: str, line: int | None = None):
    from ...problems import Problem, Source
    where = f"{file_name}, Zeile {line}" if line else file_name
    raise ImportFailed(file_name, [Problem(UNREADABLE, message, Source(file_name, line))], listed=False,
                       heading=f"{where}: {message} Nichts importiert.")


def read_camt(data: bytes, file_name: str) -> tuple[str, str | None, list[PaymentRow]]:
    """(format, MsgId, rows) of a camt.053/.054 .001.08 file; ImportFailed with the line otherwise."""
    import defusedxml.ElementTree as safe
    from defusedxml import DefusedXmlException
    from lxml import etree
    try:
        safe.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        _fail(file_name, "Die XML-Datei enthält eine DTD oder Entitäten und wird aus Sicherheitsgründen nicht gelesen.")
    except safe.ParseError as exc:
        _fail(file_name, f"Die XML-Datei ist nicht wohlgeformt ({exc.msg if hasattr(exc, 'msg') else exc}).",
              getattr(exc, "position", (None,))[0])
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    root = etree.fromstring(data, parser)
    ns = etree.QName(root).namespace or ""
    kind = CAMT_VERSIONS.get(ns)
    if kind is None:
        _fail(file_name, f"Unbekanntes XML-Format „{ns or etree.QName(root).localname}“: erwartet wird camt.053 oder "
                         "camt.054 in Version .001.08.", root.sourceline)
    n = {"c": ns}

    def first(node, path):
        found = node.find(path, n)
        return found.text.strip() if found is not None and found.text else None

    msg_id = first(root, ".//c:GrpHdr/c:MsgId")
    rows, problems = [], Collector(file_name)
    for entry_no, entry in enumerate(root.iterfind(".//c:Ntry", n), 1):
        status = first(entry, "c:Sts/c:Cd") or first(entry, "c:Sts")
        if status and status != "BOOK":
            continue  # pending or informational entries are no bookings
        booked_text = first(entry, "c:BookgDt/c:Dt") or (first(entry, "c:BookgDt/c:DtTm") or "")[:10]
        try:
            booked = date.fromisoformat(booked_text)
        except ValueError:
            problems.add(INVALID_VALUE, f"Buchungstag „{booked_text}“ ist kein Datum (JJJJ-MM-TT).", entry.sourceline,
                         "BookgDt")
            continue
        sign = -1 if first(entry, "c:CdtDbtInd") == "DBIT" else 1
        entry_ref = first(entry, "c:AcctSvcrRef") or first(entry, "c:NtryRef")
        details = entry.findall("c:NtryDtls/c:TxDtls", n) or [None]
        for tx_no, tx in enumerate(details, 1):
            node = tx if tx is not None else entry
            amount_text = first(node, "c:Amt") or first(entry, "c:Amt")
            try:
                amount = quantize(Decimal(amount_text)) * sign
            except Exception:  # noqa: BLE001 - a malformed amount is a row problem
                problems.add(INVALID_VALUE, f"Betrag „{amount_text}“ ist keine Zahl.", node.sourceline, "Amt")
                continue
            tx_sign = first(node, "c:CdtDbtInd") if tx is not None else None
            if tx_sign:
                amount = abs(amount) * (-1 if tx_sign == "DBIT" else 1)
            ref = (first(node, "c:Refs/c:AcctSvcrRef") if tx is not None else None) or \
                  (f"{entry_ref}/{tx_no}" if entry_ref and len(details) > 1 else entry_ref) or \
                  (first(node, "c:Refs/c:EndToEndId") if tx is not None else None)
            if not ref or ref == "NOTPROVIDED":
                ref = f"{msg_id or 'camt'}/{entry_no}/{tx_no}"
            purpose = " ".join(u.text.strip() for u in node.iterfind(".//c:RmtInf/c:Ustrd", n) if u.text) or None
            structured = first(node, ".//c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref")
            rows.append(PaymentRow(node.sourceline or 0, ref[:80], structured, amount, booked, purpose))
    problems.raise_if_any()
    return kind, msg_id, rows


def read_file(source: Path | bytes, file_name: str, progress: ProgressFn | None = None):
    """(format, message id, rows) of a payment file, CSV or camt; ImportFailed when it cannot be read."""
    data = source if isinstance(source, (bytes, bytearray)) else None
    if data is None:
        try:
            with Path(source).open("rb") as stream:
                head = stream.read(512)
        except OSError as exc:
            _fail(file_name, f"Datei nicht lesbar ({exc.strerror}).")
    else:
        head = bytes(data[:512])
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        payload = bytes(data) if data is not None else Path(source).read_bytes()
        return read_camt(payload, file_name)
    return "csv", None, read_csv(source, file_name, progress)


# -- booking -------------------------------------------------------------------------------------------------

def _digest(source: Path | bytes) -> str:
    digest = hashlib.sha256()
    if isinstance(source, (bytes, bytearray)):
        digest.update(source)
    else:
        with Path(source).open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _seen(session: Session, ids: list[str]) -> set[str]:
    """The booking ids of the file that an earlier file brought already.

    PostgreSQL: one array parameter per 50,000 ids (``= ANY(:ids)``, one index probe each); an IN list of
    thousands of bound parameters is parsed and planned per statement and took 15 s for 100,000 ids.
    """
    seen: set[str] = set()
    if session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(ids), 50_000):
            seen.update(session.scalars(text("SELECT buchungs_id FROM treasury_payment WHERE buchungs_id = ANY(:ids)"),
                                        {"ids": ids[start:start + 50_000]}))
        return seen
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        seen.update(session.scalars(select(TreasuryPayment.buchungs_id).where(TreasuryPayment.buchungs_id.in_(chunk))))
    return seen


def import_payments(session: Session, source: Path | bytes, actor: Actor, file_name: str | None = None,
                    progress: ProgressFn | None = None) -> PaymentResult:
    """Read, check, match and book a payment file (see the module text); the caller commits."""
    name = file_name or (Path(source).name if not isinstance(source, (bytes, bytearray)) else "Zahlungsdatei")
    fmt, msg_id, rows = read_file(source, name, progress)
    problems = Collector(name)
    first_line: dict[str, int] = {}
    for row in rows:
        if row.buchungs_id in first_line:
            problems.add(DUPLICATE, f"buchungs_id „{row.buchungs_id}“ steht schon in Zeile {first_line[row.buchungs_id]}.",
                         row.line, "buchungs_id")
        else:
            first_line[row.buchungs_id] = row.line
    problems.raise_if_any()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    seen = _seen(session, list(first_line))
    known = known_kassenzeichen(session)
    lengths = {len(k) for k in known}
    result = PaymentResult(name, fmt)
    new = [row for row in rows if row.buchungs_id not in seen]
    result.skipped = len(rows) - len(new)
    record = PaymentImport(file_name=name[:255], sha256=_digest(source), format=fmt, message_id=msg_id,
                           imported_by=actor.name)
    session.add(record)
    session.flush()
    now = clock.utcnow()
    values, owners = [], []
    for row in new:
        given = kz.normalise(row.kassenzeichen) if row.kassenzeichen else ""
        reason, match = None, None
        if given:
            if given in known:
                match = given
            else:
                reason = "Kassenzeichen unbekannt"
        else:
            found = kz.find_in_text(row.verwendungszweck or "", known, lengths)
            if len(found) == 1:
                match = found[0]
            else:
                reason = "mehrere Kassenzeichen im Verwendungszweck" if found else "kein Kassenzeichen erkennbar"
        values.append({"buchungs_id": row.buchungs_id, "kassenzeichen": match, "betrag": row.betrag,
                       "buchungstag": row.buchungstag, "verwendungszweck": row.verwendungszweck,
                       "given_kassenzeichen": (row.kassenzeichen or None) and row.kassenzeichen[:40],
                       "state": GEBUCHT if match else KLAERFALL, "reason": reason, "import_id": record.id,
                       "created_at": now})
        owners.append(known.get(match) if match else None)
        if match:
            result.booked += 1
            result.total += row.betrag
        else:
            result.to_clear += 1
            result.reasons[reason] = result.reasons.get(reason, 0) + 1
    matched = []
    for start in range(0, len(values), BATCH):
        chunk = values[start:start + BATCH]
        ids = insert_rows(session, TreasuryPayment.__table__, chunk)  # COPY on PostgreSQL, ids in row order
        for payment_id, value, owner in zip(ids, chunk, owners[start:start + BATCH]):
            if owner is not None:
                value["id"] = payment_id
                matched.append((value, owner[0], owner[1]))
    dispatch(session, actor, matched)
    record.booked, record.skipped, record.to_clear = result.booked, result.skipped, result.to_clear
    return result
