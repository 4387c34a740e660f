"""``fachstelle import-loans`` (#13 §4): legacy loans from a list, all or nothing, idempotent by Kassenzeichen,
counted as delivered to the treasury."""
from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner
from sqlalchemy import func, select

HEADER = ("kassenzeichen;person;name;vorname;geburtsdatum;art;rechtsgrundlage;betrag;ausgezahlt_am;rate;"
          "erste_faelligkeit;status;gestundet_von;gestundet_bis;erlassen_betrag;erlassen_am")
ROWS = [
    "52.000900-1;P1;Schulz;Erika;01.02.1970;darlehen;sgb2_22_8;1.200,00;01.03.2025;100,00;01.04.2025;laufend;;;;",
    "52.000901-1;P1;Schulz;Erika;01.02.1970;beihilfe;sgb12_36;300,00;01.05.2025;;;laufend;;;;",
    "52.000902-1;P2;Yilmaz;Ali;03.04.1985;darlehen;sgb2_22_8;600,00;01.03.2025;50,00;01.04.2025;gestundet;01.06.2025;31.08.2025;;",
    "52.000903-1;P3;Berg;Jan;05.06.1990;darlehen;sgb12_36;800,00;01.01.2025;100,00;01.02.2025;erlassen;;;500,00;01.06.2025",
    "52.000904-1;P4;Kurz;Ina;;darlehen;sgb2_22_8;400,00;01.01.2025;100,00;01.02.2025;niedergeschlagen;;;;",
]


def run(*args):
    from app.cli import main
    return CliRunner().invoke(main, [str(a) for a in args])


def test_legacy_import_round_trip(ctx, factory, tmp_path):
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    from app.treasury_models import TreasuryPosting
    existing = factory("partner", "nord", surname="Schulz", first_name="Erika", birth_date=date(1970, 2, 1),
                       kind_id=factory.value("partner_kind", "person").id)
    path = tmp_path / "alt.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    result = run("import-loans", path)
    assert result.exit_code == 0, result.output
    assert "5 Darlehen angelegt" in result.output and "3 neu, 1 vorhandene verwendet" in result.output
    loan = built_registry().model("loan")
    assert db.session.scalar(select(func.count()).select_from(loan)) == 5
    schulz = db.session.scalars(select(loan).where(loan.kassenzeichen == "520009001")).one()
    assert schulz.borrower_id == existing.id
    # legacy postings count as delivered: an export has nothing new
    assert db.session.scalar(select(func.count()).select_from(TreasuryPosting).where(TreasuryPosting.batch_id.is_(None))) == 0
    report = json.loads(run("loans", "report", "--as-of", "15.07.2025").output)["darlehen"]
    assert report["52.000900-1"] == {"betrag": "1200.00", "gezahlt": "0.00", "offen": "1200.00", "faellig": "400.00",
                                     "rueckstand": "400.00", "status": "laufend"}
    assert report["52.000902-1"]["status"] == "gestundet"
    assert report["52.000903-1"] == {"betrag": "800.00", "gezahlt": "0.00", "offen": "300.00", "status": "erlassen"}
    assert report["52.000904-1"]["status"] == "niedergeschlagen" and "faellig" not in report["52.000904-1"]
    assert "52.000901-1" not in report    # a grant is no loan to repay
    again = run("import-loans", path)
    assert "0 Darlehen angelegt, 5 schon vorhanden" in again.output


def test_legacy_import_all_or_nothing(ctx, tmp_path):
    from app.extensions import db
    from app.metamodel.build_models import built_registry
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + "\n".join([
        ROWS[0],
        "X1;;A;B;;darlehen;sgb2_22_8;100,00;01.01.2025;0;01.02.2025;laufend;;;;",
        "X2;;A;B;;beihilfe;sgb2_22_8;100,00;01.01.2025;10,00;;laufend;;;;",
        "X3;;A;B;;darlehen;sgb2_99;100,00;01.01.2025;10,00;01.02.2025;gestundet;01.05.2025;01.04.2025;;",
    ]) + "\n", encoding="cp1252")
    result = run("import-loans", path)
    assert result.exit_code == 1 and "Nichts importiert" in result.output
    assert "Zeile 3" in result.output and "Rate größer als 0,00" in result.output
    assert "Zeile 4" in result.output and "Beihilfe hat keine Rate" in result.output
    assert "Zeile 5" in result.output and "sgb2_99" in result.output and "liegt vor gestundet_von" in result.output
    loan = built_registry().model("loan")
    assert db.session.scalar(select(func.count()).select_from(loan)) == 0
