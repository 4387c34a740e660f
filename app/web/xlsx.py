"""Sending an XLSX export from a page: the one writer (``app.services.xlsx_export``), streamed, in the history.

A page calls ``xlsx_response(columns, rows, "fallakten", what="Fallakten", detail="Filter: …")``. The rows
must already be what the user may see (``scope_query`` and the page permissions), the columns only fields
the user may read. The response streams the temporary file; the export is noted in the history with the
user's name, what was exported, the filters and the row count.
"""
from __future__ import annotations

import re

from flask import send_file

from .. import clock
from ..extensions import db
from ..services.xlsx_export import XLSX_MIMETYPE, xlsx_file, record_export
from .actor import current_actor


def safe_filename(name: str) -> str:
    """ "Fallakten 2026" -> "fallakten_2026" (ASCII letters, digits, _ and -; umlauts spelt out)."""
    text = name.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9_-]+", "_", text).strip("_") or "export"


def xlsx_response(columns, rows, filename: str, *, what: str, detail: str = "", sheet: str | None = None,
                  title: str | None = None, progress=None):
    """Write, note in the history (who, what, filters, rows, when) and send the file as an attachment."""
    stream, count = xlsx_file(columns, rows, sheet=sheet or what, title=title, progress=progress)
    actor = current_actor()
    record_export(db.session, actor.name, what, detail, count, clock.utcnow())
    db.session.commit()
    stamp = clock.today().strftime("%Y-%m-%d")
    return send_file(stream, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"{safe_filename(filename)}_{stamp}.xlsx")
