"""Treasury files (#13): export batches (standard CSV, fixed width, --test, --again), the payment import
(CSV with BOM or Latin-1, camt.053/.054 .001.08, matching, Klärfälle, overlap, all-or-nothing) and
``fachstelle loans report`` — round trips on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.actor import Actor
from tests.integration.test_loans_service import actor, story  # noqa: F401  (fixture)

HEADER = "kassenzeichen;faellig_am;betrag;art;name;vorname;sachkonto;kostenstelle;produkt;buchungstext;vorgang"


def run(*args):
    from app.cli import main
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def running(story):
    """The story's loan approved, 100 € a month from 01.01.2027."""
    from app.services import loans
    db, loan, _ = story
    loans.approve(db.session, actor(), loan)
    loans.set_plan(db.session, actor(), loan, Decimal("100"), date(2027, 1, 1))
    db.session.commit()
    return db, loan


def test_export_batches_once_with_sha256(running, tmp_path):
    from app.services.kassenzeichen import shown
    from app.treasury_models import TreasuryBatch
    db, loan = running
    test_file = tmp_path / "test.csv"
    result = run("treasury", "export", "--test", "-o", test_file)
    assert result.exit_code == 0, result.output
    lines = test_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER and len(lines) == 15            # payout + 13 instalments
    assert lines[1].split(";")[:4] == [loan.kassenzeichen, "06.12.2026", "1234,56", "auszahlung"]
    assert lines[2].split(";")[:4] == [loan.kassenzeichen, "01.01.2027", "100,00", "soll"]
    assert lines[-1].split(";")[2] == "34,56"                 # the remainder instalment
    assert db.session.scalar(select(TreasuryBatch.id).where(TreasuryBatch.number != "ALTBESTAND")) is None
    first = tmp_path / "first.csv"
    result = run("treasury", "export", "--until", "31.01.2027", "-o", first)
    assert result.exit_code == 0 and "Stapel 2026-0001: 2 Buchung(en)" in result.output, result.output
    batch = db.session.scalars(select(TreasuryBatch).where(TreasuryBatch.number == "2026-0001")).one()
    assert batch.sha256 == hashlib.sha256(first.read_bytes()).hexdigest() and batch.count == 2
    second = tmp_path / "second.csv"
    assert run("treasury", "export", "-o", second).exit_code == 0
    assert len(second.read_text().splitlines()) == 13          # the other 12 instalments
    empty = tmp_path / "empty.csv"
    result = run("treasury", "export", "-o", empty)
    assert "keine Datenzeilen" in result.output and empty.read_text().splitlines() == [HEADER]
    again = tmp_path / "again.csv"
    assert run("treasury", "export", "--again", "2026-0001", "-o", again).exit_code == 0
    assert again.read_bytes() == first.read_bytes()
    fixed = tmp_path / "fixed.txt"
    assert run("treasury", "export", "--again", "2026-0001", "--profile", "festbreite_beispiel", "-o", fixed).exit_code == 0
    record = fixed.read_bytes().decode("cp1252").splitlines()[0]
    assert record[0] == "P" and record[1:15].rstrip() == loan.kassenzeichen and record[15:23] == "20261206"
    assert record[23:35] == "000000123456" and len(record) == sum((1, 14, 8, 12, 30, 20, 10, 10, 12, 40, 24))
    result = run("treasury", "export", "--profile", "gibtsnicht", "-o", tmp_path / "x.csv")
    assert result.exit_code == 2 and "Layout „gibtsnicht“" in result.output and "Traceback" not in result.output
    assert shown(loan.kassenzeichen) != loan.kassenzeichen


def _payments(tmp_path, name, rows, encoding="utf-8", bom=False):
    text = "buchungs_id;kassenzeichen;betrag;buchungstag;verwendungszweck\n" + "".join(r + "\n" for r in rows)
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def test_payment_import_matches_skips_and_clears(running, tmp_path):
    from app.services import loans
    from app.services.kassenzeichen import shown
    from app.treasury_models import TreasuryPayment
    db, loan = running
    kz = shown(loan.kassenzeichen)
    path = _payments(tmp_path, "kasse.csv", [
        f"K-1;{kz};100,00;02.01.2027;Rate Januar",
        f"K-2;;100,00;01.02.2027;Darlehen {kz.replace('.', ' ')} Rate Februar",   # found in the purpose text
        "K-3;;50,00;03.02.2027;Miete Müller",                                       # unknown: Klärfall
    ], encoding="latin-1")
    result = run("import-payments", path)
    assert result.exit_code == 0, result.output
    assert "2 Zahlung(en) gebucht" in result.output and "1 Klärfall" in result.output
    f = loans.figures(db.session, loan, date(2027, 2, 15))
    assert (f.paid, f.arrears) == (Decimal("200.00"), Decimal("0.00"))
    # The same file again (with a BOM this time) books nothing; an overlapping file only the new id.
    again = _payments(tmp_path, "kasse2.csv", [f"K-1;{kz};100,00;02.01.2027;Rate Januar",
                                                f"K-4;{kz};-100,00;05.01.2027;Rücklastschrift"], bom=True)
    result = run("import-payments", again)
    assert "1 Zahlung(en) gebucht" in result.output and "1 schon früher eingelesen" in result.output, result.output
    assert loans.figures(db.session, loan, date(2027, 2, 15)).paid == Decimal("100.00")
    # Klärfall assigned by hand
    from app.services.treasury_payments import assign
    case = db.session.scalars(select(TreasuryPayment).where(TreasuryPayment.buchungs_id == "K-3")).one()
    assert case.state == "klaerfall" and case.reason == "kein Kassenzeichen erkennbar"
    report = json.loads(run("loans", "report", "--as-of", "15.02.2027").output)
    assert report["klaerfaelle"] == ["K-3"]
    assert report["darlehen"][kz] == {"betrag": "1234.56", "gezahlt": "100.00", "offen": "1134.56",
                                      "faellig": "200.00", "rueckstand": "100.00", "status": "laufend"}
    assign(db.session, Actor.system("test"), case.id, kz)
    db.session.commit()
    assert loans.figures(db.session, loan, date(2027, 2, 15)).paid == Decimal("150.00")
    assert json.loads(run("loans", "report", "--as-of", "15.02.2027").output)["klaerfaelle"] == []


def test_bad_payment_file_books_nothing(running, tmp_path):
    from app.treasury_models import TreasuryPayment
    db, loan = running
    path = _payments(tmp_path, "bad.csv", ["K-1;;100,00;02.01.2027;x", "K-2;;zehn;31.02.2027;y", "K-1;;1,00;02.01.2027;z"])
    result = run("import-payments", path)
    assert result.exit_code == 1 and "Nichts importiert" in result.output, result.output
    assert "Zeile 3" in result.output and "zehn" in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(TreasuryPayment.id)) is None


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.08">
 <{root}><GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2027-01-05T10:00:00</CreDtTm></GrpHdr>
  <{stmt}><Id>1</Id>
   <Ntry><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2027-01-04</Dt></BookgDt><AcctSvcrRef>E1</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-1</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
      <Amt Ccy="EUR">100.00</Amt><RmtInf><Ustrd>Rate Januar KZ {kz}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">20.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2027-01-05</Dt></BookgDt><AcctSvcrRef>E2</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-2</AcctSvcrRef></Refs><Amt Ccy="EUR">20.00</Amt>
      <RmtInf><Strd><CdtrRefInf><Ref>{kz}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
    <BookgDt><Dt>2027-01-05</Dt></BookgDt><AcctSvcrRef>E3</AcctSvcrRef></Ntry>
  </{stmt}></{root}></Document>"""


@pytest.mark.parametrize(("kind", "root", "stmt"), [("053", "BkToCstmrStmt", "Stmt"),
                                                    ("054", "BkToCstmrDbtCdtNtfctn", "Ntfctn")], ids=["camt053", "camt054"])
def test_camt_import(running, tmp_path, kind, root, stmt):
    from app.services import loans
    from app.services.kassenzeichen import shown
    db, loan = running
    path = tmp_path / f"auszug.{kind}.xml"
    path.write_text(CAMT.format(kind=kind, root=root, stmt=stmt, kz=shown(loan.kassenzeichen)), encoding="utf-8")
    result = run("import-payments", path)
    assert result.exit_code == 0 and f"(camt.{kind}): 2 Zahlung(en) gebucht" in result.output, result.output
    assert loans.figures(db.session, loan, date(2027, 1, 31)).paid == Decimal("80.00")  # 100 − 20 (debit)
    assert "0 Zahlung(en) gebucht" in run("import-payments", path).output


def test_camt_refuses_other_versions_and_entities(running, tmp_path):
    old = tmp_path / "old.xml"
    old.write_text(CAMT.format(kind="053", root="BkToCstmrStmt", stmt="Stmt", kz="1").replace(".001.08", ".001.02"))
    result = run("import-payments", old)
    assert result.exit_code == 1 and "Version .001.08" in result.output
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Document>&a;</Document>')
    result = run("import-payments", bomb)
    assert result.exit_code == 1 and "DTD" in result.output and "Traceback" not in result.output
