"""The upload page "Import": a file is uploaded, checked (a dry run with every problem), then imported.

Progress is streamed: the page arrives at once and grows by a line every half second ("… 40.000 von
100.000 Zeilen geprüft") while the import runs in a worker thread with its own app context and session;
no state is kept between requests except the uploaded file (instance/imports/, removed after the import),
so it works with several gunicorn workers. One permission ``can_form on ImportView`` (admin function
``imports`` in roles.yaml) covers the page, the check and the import; CSRF as for every form.
"""
from __future__ import annotations

import json
import logging
import queue
import re
import secrets
import threading
import time
from pathlib import Path

from flask import Response, current_app, flash, redirect, request, stream_with_context, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from .. import settings
from ..actor import ALL, Actor
from ..extensions import db
from ..integrations.importers import IMPORTERS
from ..integrations.pipeline import ImportFailed, by_line, MAX_SHOWN, progress_text

log = logging.getLogger(__name__)
MARKER = "<!--fs-import-stream-->"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


KEEP_UPLOADS = 24 * 3600  # a checked file nobody imported is removed after a day


def upload_dir() -> Path:
    path = settings.instance_dir() / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_stale(folder: Path) -> None:
    limit = time.time() - KEEP_UPLOADS
    for path in folder.glob("*.*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass  # another worker removed it first


def _actor() -> Actor:
    return Actor(name=current_user.username, units=ALL, user_id=current_user.id)


class ImportView(BaseView):
    route_base = "/import"
    default_view = "form"

    @expose("/", methods=["GET"])
    @has_access
    @permission_name("form")
    def form(self):
        return self.render_template("fachstelle/import.html", importers=IMPORTERS.values(), stage="form")

    @expose("/check", methods=["POST"])
    @has_access
    @permission_name("form")
    def check(self):
        importer = IMPORTERS.get(request.form.get("kind", ""))
        upload = request.files.get("file")
        if importer is None or upload is None or not upload.filename:
            flash("Bitte eine Art des Imports und eine CSV-Datei wählen.", "danger")
            return redirect(url_for("ImportView.form"))
        _remove_stale(upload_dir())
        token = secrets.token_urlsafe(24)
        file_name = Path(upload.filename).name[:120] or "datei.csv"
        upload.save(upload_dir() / f"{token}.csv")
        (upload_dir() / f"{token}.json").write_text(json.dumps({"kind": importer.key, "name": file_name,
                                                                "user": current_user.id}))
        return self._stream(importer, token, file_name, dry_run=True)

    @expose("/run", methods=["POST"])
    @has_access
    @permission_name("form")
    def run(self):
        token = request.form.get("token", "")
        meta_path = upload_dir() / f"{token}.json"
        if not TOKEN.match(token) or not meta_path.exists():
            flash("Die geprüfte Datei ist nicht mehr vorhanden; bitte erneut hochladen.", "danger")
            return redirect(url_for("ImportView.form"))
        meta = json.loads(meta_path.read_text())
        if meta.get("user") != current_user.id:
            flash("Diese Datei hat jemand anderes hochgeladen; bitte selbst hochladen.", "danger")
            return redirect(url_for("ImportView.form"))
        return self._stream(IMPORTERS[meta["kind"]], token, meta["name"], dry_run=False)

    def _stream(self, importer, token: str, file_name: str, dry_run: bool) -> Response:
        page = self.render_template("fachstelle/import.html", importers=IMPORTERS.values(), stage="stream",
                                    importer=importer, file_name=file_name, dry_run=dry_run)
        head, _, tail = page.partition(MARKER)
        events: queue.Queue = queue.Queue()
        app, actor, path = current_app._get_current_object(), _actor(), upload_dir() / f"{token}.csv"

        def work():
            # The file stays only for the import that a successful check offers; the answer goes out after
            # the clean-up, so a second "import" of the same file finds nothing.
            keep, outcome = False, ("error", None)
            with app.app_context():
                try:
                    report = importer.run(db.session, path, file_name, actor,
                                          lambda *p: events.put(("progress", p)), dry_run)
                    db.session.rollback() if dry_run else db.session.commit()
                    keep, outcome = dry_run, ("ok", report)
                except ImportFailed as exc:
                    db.session.rollback()
                    outcome = ("failed", exc)
                except Exception:  # noqa: BLE001 - a German line on the page, the trace in the log
                    db.session.rollback()
                    log.exception("import %s failed", file_name)
                finally:
                    db.session.remove()
                    if not keep:
                        for suffix in (".csv", ".json"):
                            (upload_dir() / f"{token}{suffix}").unlink(missing_ok=True)
                    events.put(outcome)

        # The request's own transaction ends here: on SQLite an open write (a login's timestamp) would
        # make the worker thread wait for the lock.
        db.session.commit()
        # Made now: once the body streams, the session cookie that may carry it can no longer be set.
        csrf = generate_csrf()

        def generate():
            yield head
            threading.Thread(target=work, name=f"import-{token[:8]}", daemon=True).start()
            while True:
                kind, value = events.get()
                if kind == "progress":
                    yield f'<div class="fs-import-progress">{escape(progress_text(*value))}</div>\n'
                    continue
                yield _result_html(kind, value, token, file_name, dry_run, csrf)
                break
            yield tail
        return Response(stream_with_context(generate()), mimetype="text/html")


def _result_html(kind: str, value, token: str, file_name: str, dry_run: bool, csrf: str) -> str:
    if kind == "error":
        return ('<div class="alert alert-danger" role="alert">Der Import ist unerwartet abgebrochen; es wurde '
                'nichts gespeichert. Bitte die Verwaltung benachrichtigen.</div>')
    if kind == "failed":
        lines = by_line(value.problems) if value.listed else []
        rows = "".join(f"<li>{escape(line)}</li>" for line in lines[:MAX_SHOWN])
        rest = max(len(lines) - MAX_SHOWN, 0) + value.more
        more = f"<li>… und {rest} weitere Fehler.</li>" if rest else ""
        items = f'<ul class="fs-import-problems">{rows}{more}</ul>' if rows else ""
        return (f'<div class="alert alert-danger" role="alert"><strong>{escape(value.heading)}</strong>{items}</div>'
                '<p><a class="btn btn-default" href="/import/">Andere Datei hochladen</a></p>')
    report = "<br>".join(escape(line) for line in value.splitlines())
    if not dry_run:
        return (f'<div class="alert alert-success" role="status">{report}</div>'
                '<p><a class="btn btn-default" href="/import/">Weitere Datei importieren</a></p>')
    return (f'<div class="alert alert-info" role="status">{report}</div>'
            '<form method="post" action="/import/run" class="form-inline">'
            f'<input type="hidden" name="csrf_token" value="{csrf}">'
            f'<input type="hidden" name="token" value="{escape(token)}">'
            f'<button type="submit" class="btn btn-primary">Jetzt importieren: {escape(file_name)}</button> '
            '<a class="btn btn-default" href="/import/">Abbrechen</a></form>')
