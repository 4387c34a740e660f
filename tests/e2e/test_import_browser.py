"""The upload page in a real browser (issue #10): a file with a bad row is refused with its line, a good
file is checked (dry run) and imported with the button the check offers."""
from __future__ import annotations

import re

from playwright.sync_api import expect

HEADER = "fall_id;bezirk;ereignis;datum;zu_zweit\n"


def test_import_page_checks_then_imports(live_server, page_for, shoot, tmp_path):
    page = page_for("fachadmin")
    page.goto(f"{live_server.url}/import/")
    expect(page.get_by_role("button", name="Prüfen (Probelauf)")).to_be_visible()
    bad = tmp_path / "bezirksliste.csv"
    bad.write_text(HEADER + "E2E-IMP-1;nord;kontakt;01.03.2024;\nE2E-IMP-1;nord;kontakt;31.02.2024;\n",
                   encoding="utf-8")
    page.get_by_label("Art des Imports").select_option("events")
    page.get_by_label("CSV-Datei").set_input_files(str(bad))
    page.get_by_role("button", name="Prüfen (Probelauf)").click()
    expect(page.get_by_text("Zeile 3: Datum „31.02.2024“ gibt es nicht.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Jetzt importieren"))).to_have_count(0)
    shoot(page, "import-1-fehler")

    good = tmp_path / "bezirksliste-gut.csv"
    # Excel's plain "CSV" on German Windows: Windows-1252, read with its umlauts.
    good.write_text(HEADER + "E2E-IMP-1;Fachstelle Süd;kontakt;01.03.2024;\nE2E-IMP-1;Süd;hausbesuch;04.03.2024;ja\n",
                    encoding="cp1252")
    page.get_by_role("link", name="Andere Datei hochladen").click()
    page.get_by_label("Art des Imports").select_option("events")
    page.get_by_label("CSV-Datei").set_input_files(str(good))
    page.get_by_role("button", name="Prüfen (Probelauf)").click()
    expect(page.get_by_text("Doku-Einträge: 2 neu, 0 unverändert.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"… 2 von 2 Zeilen geprüft"))).to_be_visible()
    shoot(page, "import-2-probelauf")
    assert live_server.query("SELECT count(*) FROM \"case\" WHERE external_ref = 'E2E-IMP-1'") == [(0,)]
    page.get_by_role("button", name="Jetzt importieren: bezirksliste-gut.csv").click()
    expect(page.get_by_text("Ereignisse aus bezirksliste-gut.csv importiert.")).to_be_visible()
    shoot(page, "import-3-importiert")
    assert live_server.query("SELECT count(*) FROM \"case\" WHERE external_ref = 'E2E-IMP-1'") == [(1,)]
    assert page.js_errors == []
