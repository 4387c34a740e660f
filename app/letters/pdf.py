"""PDF copies of letters through LibreOffice headless, when it is installed (``soffice`` on the PATH).

Each conversion gets its own LibreOffice profile folder, so parallel workers do not block one another.
Without LibreOffice, letters are archived as .docx only; the pages say so. ``FACHSTELLE_LETTERS_PDF=off``
(environment or app config) switches PDFs off even when LibreOffice is there (about a second per letter).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 120
SWITCHED_OFF = ("Die PDF-Erzeugung ist abgeschaltet (FACHSTELLE_LETTERS_PDF=off): Briefe werden nur als "
                "Word-Datei (.docx) archiviert.")
UNAVAILABLE = ("LibreOffice ist auf diesem Server nicht installiert: Briefe werden nur als Word-Datei (.docx) "
               "archiviert, nicht zusätzlich als PDF.")


class PdfError(Exception):
    """The conversion failed; ``message`` is German."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    return soffice() is not None


def pdf_switched_off() -> bool:
    from flask import current_app, has_app_context
    mode = os.environ.get("FACHSTELLE_LETTERS_PDF", "auto")
    if has_app_context():
        mode = current_app.config.get("FACHSTELLE_LETTERS_PDF", mode)
    return str(mode).lower() == "off"


def pdf_enabled() -> bool:
    """Letters get a PDF copy: LibreOffice is installed and PDFs are not switched off."""
    return not pdf_switched_off() and pdf_available()


def pdf_note() -> str | None:
    """What the pages say when letters get no PDF, or None."""
    if pdf_switched_off():
        return SWITCHED_OFF
    return None if pdf_available() else UNAVAILABLE


def convert_to_pdf(docx: bytes, timeout: int = TIMEOUT_SECONDS) -> bytes:
    """The PDF of a .docx, made by ``soffice --headless --convert-to pdf``. Raises PdfError."""
    program = soffice()
    if program is None:
        raise PdfError(UNAVAILABLE)
    with tempfile.TemporaryDirectory(prefix="fachstelle-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / "brief.docx"
        source.write_bytes(docx)
        command = [program, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
                   "--nolockcheck", "--convert-to", "pdf", "--outdir", str(folder), str(source)]
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout, check=False,
                                    env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired:
            raise PdfError(f"Die PDF-Umwandlung dauerte länger als {timeout} Sekunden und wurde abgebrochen.") from None
        target = folder / "brief.pdf"
        if result.returncode != 0 or not target.exists():
            log.warning("soffice failed (%s): %s", result.returncode, result.stderr.decode(errors="replace")[-500:])
            raise PdfError("Die PDF-Umwandlung mit LibreOffice ist fehlgeschlagen; der Brief ist als .docx archiviert.")
        return target.read_bytes()
