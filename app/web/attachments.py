"""Upload to and download from a documentation entry, with the entry's permissions and org unit."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from ..errors import DomainError
from ..extensions import db
from ..services import attachments as service
from .actor import current_actor


class AttachmentView(BaseView):
    route_base = "/attachments"
    class_permission_name = "entity_doc_entry"
    method_permission_name = {"upload": "edit", "download": "show", "remove": "delete"}

    @expose("/entry/<int:entry_id>", methods=["POST"])
    @has_access
    def upload(self, entry_id: int):
        files = [f for f in request.files.getlist("file") if f and f.filename]
        if not files:
            flash("Bitte eine Datei auswählen.", "warning")
        for upload in files:
            try:
                service.attach(db.session, entry_id, upload.filename, upload.read(), request.form.get("note"),
                               current_actor())
                db.session.commit()
            except service.AttachmentNotFound:
                db.session.rollback()
                abort(404)
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                flash(f"Dokument „{upload.filename}“ gespeichert.", "success")
        return redirect(url_for("DocEntryView.show", pk=entry_id))

    @expose("/<int:attachment_id>")
    @has_access
    def download(self, attachment_id: int):
        try:
            attachment, data = service.open_attachment(db.session, attachment_id, current_actor())
        except service.AttachmentNotFound:
            abort(404)
        except DomainError as exc:  # the stored file is missing or changed
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(request.referrer or url_for("WorklistView.index"))
        db.session.commit()  # the download is in the entry's history
        return send_file(io.BytesIO(data), mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.file_name)

    @expose("/<int:attachment_id>/delete", methods=["POST"])
    @has_access
    def remove(self, attachment_id: int):
        try:
            attachment = service.remove(db.session, attachment_id, current_actor())
            entry_id, name = attachment.doc_entry_id, attachment.file_name
            db.session.commit()
        except service.AttachmentNotFound:
            db.session.rollback()
            abort(404)
        flash(f"Dokument „{name}“ gelöscht.", "success")
        return redirect(url_for("DocEntryView.show", pk=entry_id))
