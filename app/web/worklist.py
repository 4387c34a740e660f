"""The worklist page (Arbeitsliste) and the due count in the header.

Permissions are the task page's: whoever may list tasks sees the worklist, whoever may edit them marks
one done from here.
"""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from ..actor import Actor
from ..domain.worklist import BUCKET_LABELS, BUCKETS, group_by_bucket
from ..errors import DomainError
from ..extensions import db
from ..services import worklist as service
from .actor import current_actor
from .render_cache import FlushInvalidatedCache

TASK_PERMISSION = "entity_task"


def worklist_context(actor: Actor, team: bool) -> dict:
    """Tasks by due bucket and upcoming appointments of ``actor``, as of the actor's Berlin day."""
    today = actor.today
    tasks = service.open_tasks(db.session, actor.user_id, team=team, actor=actor)
    return {"sections": group_by_bucket(tasks, lambda t: t.due_on, today), "buckets": BUCKETS,
            "bucket_labels": BUCKET_LABELS,
            "appointments": service.upcoming_appointments(db.session, actor.user_id, today, actor=actor),
            "today": today, "team": team, "truncated": len(tasks) >= service.LIMIT,
            "statistics_due": statistics_reminder(actor)}


def statistics_reminder(actor: Actor) -> dict | None:
    """The federal statistic's delivery deadline (#14), for those who may open the statistics page."""
    from flask import current_app
    if not current_app.appbuilder.sm.has_access("can_show", "HousingStatistics"):
        return None
    from ..domain.worklist import bucket
    from ..services.housing_stats import delivery_reminder
    found = delivery_reminder(db.session, actor.today, actor=actor)
    if found is not None:
        found["bucket"] = bucket(found["due"], actor.today)
    return found


class WorklistView(BaseView):
    route_base = "/worklist"
    default_view = "index"
    class_permission_name = TASK_PERMISSION
    method_permission_name = {"index": "list", "done": "edit", "export": "list"}

    @expose("/")
    @has_access
    def index(self):
        team = request.args.get("team") == "1"
        return self.render_template("fachstelle/worklist/page.html",
                                    **worklist_context(current_actor(), team))

    @expose("/export")
    @has_access
    def export(self):
        """The open tasks of the page (mine, or the team's with ``team=1``) as XLSX, without the cap."""
        from .list_exports import task_columns, task_row
        from .xlsx import xlsx_response
        actor = current_actor()
        team = request.args.get("team") == "1"
        tasks = service.open_tasks(db.session, actor.user_id, team=team, actor=actor, limit=None)
        return xlsx_response(task_columns(), (task_row(t) for t in tasks), "arbeitsliste", what="Arbeitsliste",
                             detail="Team" if team else "eigene Aufgaben")

    @expose("/done/<int:task_id>", methods=["POST"])
    @has_access
    def done(self, task_id: int):
        try:
            actor = current_actor()
            task = service.complete_task(db.session, task_id, actor.today, actor)
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
    actor = current_actor()
    if actor.user_id is not None:
        from flask import current_app
        if current_app.appbuilder.sm.has_access("can_list", TASK_PERMISSION):
            units = actor.visible_units
            key = (actor.user_id, None if units is None else frozenset(units), actor.today)
            count = due_count_cache.get(key, lambda: service.due_count(db.session, actor.user_id, actor.today,
                                                                       actor))
    g._fs_due_count = count
    return count
