"""Letters in a real browser: an admin uploads a template (a broken one is refused with the German message),
then makes a series of letters for two demo cases; the progress page starts the run and polls until the
ZIP can be downloaded.
"""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.conftest import ROOT
from tests.e2e.browser_helpers import field

pytestmark = pytest.mark.e2e


def test_upload_template_and_series_with_progress(page_for, live_server, shoot, tmp_path):
    page = page_for("admin")
    page.goto(f"{live_server.url}/letter-templates/")
    broken = tmp_path / "kaputt.docx"
    from tests.unit.letter_docs import docx_with
    broken.write_bytes(docx_with("{{ recipient.salutation }}", "{{ termin.datum }}"))
    field(page, "Kürzel").fill("einladung_e2e")
    field(page, "Bezeichnung").fill("Einladung (Browsertest)")
    page.get_by_label(re.compile("^Word-Datei")).set_input_files(str(broken))
    page.get_by_role("button", name="Vorlage prüfen und anlegen").click()
    page.get_by_text("unbekannter Platzhalter „termin.datum“").wait_for()
    shoot(page, "letters-01-vorlage-abgelehnt")

    assert field(page, "Kürzel").input_value() == "einladung_e2e"  # what was typed stays in the form
    page.get_by_label(re.compile("^Word-Datei")).set_input_files(str(ROOT / "letter_templates" / "einladung_allgemein.docx"))
    page.get_by_role("button", name="Vorlage prüfen und anlegen").click()
    page.get_by_text("Briefvorlage „Einladung (Browsertest)“ angelegt (Version 1).").wait_for()
    shoot(page, "letters-02-vorlage-angelegt")

    numbers = [row[0] for row in live_server.query(
        "SELECT c.file_number FROM \"case\" c JOIN address a ON a.partner_id = c.client_id "
        "WHERE a.valid_to IS NULL AND a.postcode IS NOT NULL AND a.city IS NOT NULL ORDER BY c.id LIMIT 2")]
    assert len(numbers) == 2
    page.goto(f"{live_server.url}/letters/series/?template=einladung_e2e")
    field(page, "Fallakten (Aktenzeichen, eines je Zeile)").fill("\n".join(numbers))
    field(page, "Datum des Termins (für alle Briefe)").fill("12.11.2030")
    field(page, "Uhrzeit des Termins, z. B. „10:30 Uhr“ (für alle Briefe)").fill("10:30")
    page.get_by_role("button", name="Serie anlegen").click()
    page.get_by_text(re.compile(r"Stand: fertig – 2 von 2 Briefen")).wait_for()
    link = page.get_by_role("link", name="Alle Briefe als ZIP herunterladen")
    assert link.is_visible()
    shoot(page, "letters-03-serie-fertig")
    with page.expect_download() as download:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    assert len(archive.namelist()) == 2 and all(n.endswith(".docx") for n in archive.namelist())
    assert page.js_errors == []
