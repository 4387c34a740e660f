"""The worklist page (Arbeitsliste) and the due count in the header.

Permissions are the task page's: whoever may list tasks sees the worklist, whoever may edit them marks
one done from here.
"""
from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user

from ..domain.worklist import BUCKET_LABELS, BUCKETS, group_by_bucket
from ..errors import DomainError
from ..extensions import db
from ..scoping import visible_org_unit_ids
from ..services import worklist as service
from .render_cache import FlushInvalidatedCache

TASK_PERMISSION = "entity_task"


def worklist_context(user_id: int, team: bool, today: date) -> dict:
    tasks = service.open_tasks(db.session, user_id, team=team)
    return {"sections": group_by_bucket(tasks, lambda t: t.due_on, today), "buckets": BUCKETS,
            "bucket_labels": BUCKET_LABELS, "appointments": service.upcoming_appointments(db.session, user_id, today),
            "today": today, "team": team, "truncated": len(tasks) >= service.LIMIT}


class WorklistView(BaseView):
    route_base = "/worklist"
    default_view = "index"
    class_permission_name = TASK_PERMISSION
    method_permission_name = {"index": "list", "done": "edit"}

    @expose("/")
    @has_access
    def index(self):
        team = request.args.get("team") == "1"
        return self.render_template("fachstelle/worklist/page.html",
                                    **worklist_context(current_user.id, team, date.today()))

    @expose("/done/<int:task_id>", methods=["POST"])
    @has_access
    def done(self, task_id: int):
        try:
            task = service.complete_task(db.session, task_id, date.today())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(f"Erledigt: {task.title}", "success")
        return redirect(request.form.get("next") or url_for("WorklistView.index"))


#: The header's number on every page: counted again after any change to a task (or a catalogue value,
#: whose "open" state it counts), in other worker processes after at most 30 seconds.
due_count_cache = FlushInvalidatedCache("due_count", {"task", "catalogue_value"}, 30.0)


def due_count() -> int | None:
    """The header's count of due reminders (None: not signed in or no access to tasks); once per request."""
    if "_fs_due_count" in g:
        return g._fs_due_count
    count = None
    if getattr(current_user, "is_authenticated", False):
        from flask import current_app
        if current_app.appbuilder.sm.has_access("can_list", TASK_PERMISSION):
            user_id, today, units = current_user.id, date.today(), visible_org_unit_ids()
            key = (user_id, None if units is None else frozenset(units), today)
            count = due_count_cache.get(key, lambda: service.due_count(db.session, user_id, today))
    g._fs_due_count = count
    return count
