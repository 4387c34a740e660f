"""Sending an XLSX export from a page: the one writer (``app.services.xlsx_export``), streamed, in the history.

A page calls ``xlsx_response(columns, rows, "fallakten", what="Fallakten", detail="Filter: …")``. The rows
must already be what the user may see (``scope_query`` and the page permissions), the columns only fields
the user may read. The response streams the temporary file; the export is noted in the history with the
user's name, what was exported, the filters and the row count.

Progress: an export link marked ``data-fs-export`` (``static/fs-export.js``) adds a random
``_export_token`` to its URL and polls ``/export-progress/<token>`` while the file is written; the writer
reports every 5,000 rows into a small file of the instance folder (so any worker process can answer), and
the page shows "Export läuft … 45.000 Zeilen" until the download starts.
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from flask import Blueprint, abort, jsonify, request, send_file
from flask_login import current_user

from .. import clock
from ..extensions import db
from ..services.xlsx_export import XLSX_MIMETYPE, record_export, xlsx_file
from .actor import current_actor

TOKEN = re.compile(r"^[a-f0-9]{16,64}$")
progress_blueprint = Blueprint("export_progress", __name__)


def safe_filename(name: str) -> str:
    """ "Fallakten 2026" -> "fallakten_2026" (ASCII letters, digits, _ and -; umlauts spelt out)."""
    text = name.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9_-]+", "_", text).strip("_") or "export"


def _progress_path(token: str, user_id) -> Path:
    return Path(tempfile.gettempdir()) / f"fachstelle-export-{user_id}-{token}.json"


def _progress_writer(user_id):
    token = request.args.get("_export_token", "")
    if not TOKEN.match(token):
        return None, None
    path = _progress_path(token, user_id)

    def report(rows: int, done: bool = False) -> None:
        path.write_text(json.dumps({"rows": rows, "done": done}))
    report(0)
    return report, path


def xlsx_response(columns, rows, filename: str, *, what: str, detail: str = "", sheet: str | None = None,
                  title: str | None = None, progress=None):
    """Write, note in the history (who, what, filters, rows, when) and send the file as an attachment."""
    actor = current_actor()
    report, path = _progress_writer(actor.user_id)
    try:
        stream, count = xlsx_file(columns, rows, sheet=sheet or what, title=title,
                                  progress=report or progress)
    finally:
        if report is not None:
            report(-1, done=True)  # the page stops polling; the browser receives the file next
    record_export(db.session, actor.name, what, detail, count, clock.utcnow())
    db.session.commit()
    stamp = clock.today().strftime("%Y-%m-%d")
    response = send_file(stream, mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=f"{safe_filename(filename)}_{stamp}.xlsx")
    if path is not None:
        response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


@progress_blueprint.get("/export-progress/<token>")
def export_progress(token: str):
    """How many rows the signed-in user's export ``token`` has written ({"rows": n, "done": bool})."""
    if not getattr(current_user, "is_authenticated", False):
        abort(401)
    if not TOKEN.match(token):
        abort(404)
    path = _progress_path(token, current_user.id)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return jsonify({"rows": 0, "done": False, "waiting": True})
    if state.get("done"):
        path.unlink(missing_ok=True)  # told once; nothing is left in the temp folder
    return jsonify(state)
