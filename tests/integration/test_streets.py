"""The street directory: CSV import (idempotent, all-or-nothing, German messages) and the street type-ahead."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from app.core_models import Street
from app.extensions import db
from app.integrations.streets import StreetImportError, import_streets
from tests.conftest import ROOT, login

SAMPLE = ROOT / "config" / "streets_sample.csv"


def streets() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(Street.name, Street.postcode, Street.city, Street.district).order_by(Street.name, Street.postcode))]


def run_import(tmp_path, content: str | bytes, name: str = "strassen.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    try:
        result = import_streets(db.session, path)
    except StreetImportError:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def test_sample_imports_and_a_second_run_adds_nothing(ctx):
    result = import_streets(db.session, SAMPLE)
    db.session.commit()
    assert (result.added, result.updated, result.unchanged) == (30, 0, 0)
    first = streets()
    assert ("Hauptstraße", "47112", "Musterhausen", "Süd") in first
    assert ("Hauptstraße", "47113", "Musterhausen", "Oberdorf") in first  # one name, two postcodes: two rows

    again = import_streets(db.session, SAMPLE)
    db.session.commit()
    assert (again.added, again.updated, again.unchanged) == (0, 0, 30)
    assert streets() == first


def test_changed_district_is_updated_with_bom_and_commas(ctx, tmp_path):
    run_import(tmp_path, "Straße;PLZ;Ort;Ortsteil\nGoethestraße;47111;Musterhausen;Nord\nKirchweg;47111;Musterhausen;Nord\n")
    # Excel writes a BOM; some offices use commas; the columns may come in another order.
    result = run_import(tmp_path, "\ufeffOrt,PLZ,Straße,Ortsteil\r\nMusterhausen,47111,Goethestraße,Nord-West\r\n"
                                  "Musterhausen,47111,Kirchweg,Nord\r\n")
    assert (result.added, result.updated, result.unchanged) == (0, 1, 1)
    assert streets() == [("Goethestraße", "47111", "Musterhausen", "Nord-West"),
                         ("Kirchweg", "47111", "Musterhausen", "Nord")]
    # A file without the Ortsteil column keeps the known districts.
    result = run_import(tmp_path, "Straße;PLZ;Ort\nGoethestraße;47111;Musterhausen\n")
    assert (result.added, result.updated, result.unchanged) == (0, 0, 1)
    assert streets()[0][3] == "Nord-West"


def test_bad_rows_are_reported_by_line_and_nothing_is_written(ctx, tmp_path):
    content = ("Straße;PLZ;Ort;Ortsteil\n"
               "Goethestraße;47111;Musterhausen;Nord\n"   # line 2: fine, but must not be written either
               ";47111;Musterhausen;Nord\n"               # line 3: no name
               "\n"
               "Schillerstraße;4711;Musterhausen;Nord\n"  # line 5: four digits
               "Lindenallee;47111;;Nord\n")              # line 6: no city
    with pytest.raises(StreetImportError) as error:
        run_import(tmp_path, content)
    message = str(error.value)
    assert message.startswith("strassen.csv: Nichts importiert")
    assert "Zeile 3: Straßenname fehlt." in message
    assert "Zeile 5: PLZ „4711“ ist keine fünfstellige Zahl." in message
    assert "Zeile 6: Ort fehlt." in message
    assert "Zeile 2" not in message
    assert db.session.scalar(select(func.count()).select_from(Street)) == 0


def test_wrong_header_and_wrong_encoding_are_german_messages(ctx, tmp_path):
    with pytest.raises(StreetImportError, match=r"Zeile 1: Kopfzeile unvollständig, es fehlt PLZ, Ort\. "
                                                r"Erwartet: Straße;PLZ;Ort;Ortsteil – gefunden: Strasse;Postfach"):
        run_import(tmp_path, "Strasse;Postfach\nGoethestraße;47111\n")
    with pytest.raises(StreetImportError, match="Kopfzeile unvollständig, es fehlt Straße, PLZ, Ort"):
        run_import(tmp_path, "Goethestraße;47111;Musterhausen;Nord\n")  # no header at all
    # Issue #10: Windows-1252 is read (tests/integration/test_import_pipeline.py); a byte it leaves undefined is not.
    with pytest.raises(StreetImportError, match=r"Zeile 3: Die Datei ist weder UTF-8 noch Windows-1252 .* „CSV UTF-8“"):
        run_import(tmp_path, b"Strasse;PLZ;Ort\nAm Markt;47110;Musterhausen\nK\x81nigstra\xdfe;47110;Musterhausen\n")
    with pytest.raises(StreetImportError, match="Die Datei ist leer"):
        run_import(tmp_path, "\ufeff\n")
    assert db.session.scalar(select(func.count()).select_from(Street)) == 0


def test_typeahead_suggests_by_prefix(client):
    import_streets(db.session, SAMPLE)
    db.session.commit()
    assert client.get("/typeahead-street?q=haupt").status_code == 401  # not logged in
    login(client, "sachbearbeitung_nord")

    def search(q):
        return client.get("/typeahead-street", query_string={"q": q}).get_json()["results"]

    found = search("haupt")
    assert [(r["street"], r["postcode"], r["city"], r["district"]) for r in found] == [
        ("Hauptstraße", "47112", "Musterhausen", "Süd"), ("Hauptstraße", "47113", "Musterhausen", "Oberdorf")]
    assert found[0]["text"] == "Hauptstraße, 47112 Musterhausen (Süd)"
    assert [r["street"] for r in search("GOETHE")] == ["Goethestraße"]      # case does not matter
    assert [r["street"] for r in search("Königs")] == ["Königstraße"]       # umlauts
    assert [r["postcode"] for r in search("Hauptstr. 12")] == ["47112", "47113"]  # abbreviation, house number
    assert search("straße") == []                                            # a prefix, not any part of the name
    assert len(search("")) == 20                                             # capped


def test_typeahead_is_answered_from_the_index(client):
    """The prefix look-up is a range on the indexed lower-cased name (no LIKE, no scan)."""
    import_streets(db.session, SAMPLE)
    db.session.commit()
    engine = db.session.get_bind()
    if engine.dialect.name != "sqlite":
        pytest.skip("Plan checked on SQLite; PostgreSQL uses the same range condition")
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if "FROM street" in statement:
            statements.append((statement, parameters))

    from sqlalchemy import event
    login(client, "sachbearbeitung_nord")
    event.listen(engine, "before_cursor_execute", remember)
    try:
        client.get("/typeahead-street?q=haupt")
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    (statement, parameters), = statements
    plan = " ".join(str(r[-1]) for r in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                                  parameters))
    assert "ix_street_name_lc" in plan, plan


def test_address_form_offers_the_street_picker_and_accepts_free_entry(client, factory):
    partner = factory("partner", "nord", kind=factory.value("partner_kind", "person"), surname="Meier")
    login(client, "sachbearbeitung_nord")
    form = client.get(f"/address/add?_flt_0_partner={partner.id}").get_data(as_text=True)
    assert 'name="street"' in form and "fachstelle.js" in form
    # A street that is not in the directory is still saved as typed.
    response = client.post(f"/address/add?_flt_0_partner={partner.id}",
                           data={"kind": factory.value("address_kind", "main").id, "street": "Neubaugebiet Weg 7",
                                 "postcode": "47116", "city": "Musterhausen"})
    assert response.status_code == 302
    address = db.session.scalars(select(client.application.config["FACHSTELLE_REGISTRY"].model("address"))).one()
    assert address.street == "Neubaugebiet Weg 7" and address.partner_id == partner.id


def test_cli_import_streets(tmp_path):
    """``fachstelle import-streets FILE`` as an admin runs it: counts on success, a German message and exit 1 on error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACHSTELLE_")}
    env.update(FACHSTELLE_INSTANCE_DIR=str(tmp_path / "instance"),
               FACHSTELLE_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               FACHSTELLE_MIGRATIONS_DIR=str(tmp_path / "migrations"))

    def fachstelle(*args):
        result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert "Traceback" not in result.stderr
        return result

    assert fachstelle("init").returncode == 0
    ok = fachstelle("import-streets", str(SAMPLE))
    assert ok.returncode == 0 and "Straßenverzeichnis: 30 neu, 0 aktualisiert, 0 unverändert." in ok.stdout
    assert "0 neu, 0 aktualisiert, 30 unverändert." in fachstelle("import-streets", str(SAMPLE)).stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("Straße;PLZ;Ort\nGoethestraße;ABCDE;Musterhausen\n", encoding="utf-8")
    failed = fachstelle("import-streets", str(bad))
    assert failed.returncode == 1 and "bad.csv: Nichts importiert" in failed.stderr
    assert "Zeile 2: PLZ „ABCDE“ ist keine fünfstellige Zahl." in failed.stderr
