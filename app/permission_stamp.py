"""The permission stamp: a counter the database raises whenever a role's permissions change (#10).

Every request needs the permissions of the signed-in user's roles. Reading them is a four-table join on
every request; they change a few times a year. So each worker keeps them per role set
(``app.web.security``) and the stamp tells when to read them again: triggers on FAB's role and permission
tables raise it on every insert, update and delete — from the admin pages, ``fachstelle sync-roles`` or
plain SQL alike — and the stamp comes along with the user's own query (a scalar subquery on ``User``),
so checking it costs no extra query and a changed role counts from the next request on, in every worker.

Without its row (a database the migration has not reached, or tables made without it) the stamp is
NULL and the permissions are read on every request, as before. The triggers and the row are installed after
every migration by ``app.services.permission_stamp`` (this module is a core table: no migration code here).
"""
from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Integer, select
from sqlalchemy.orm import Mapped, column_property, mapped_column


STAMP_ID = 1
# FAB's tables whose rows make up what a role may do (and which roles are built-in: by name).
WATCHED = ("ab_role", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role")


class PermissionStamp(Model):
    """One row (id 1): raised by the database on every change of roles and permissions."""

    __tablename__ = "permission_stamp"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


if not hasattr(User, "permission_stamp"):
    # Deferred: only the sign-in's user load asks for it (security.get_user_by_id).
    User.permission_stamp = column_property(
        select(PermissionStamp.n).where(PermissionStamp.id == STAMP_ID).scalar_subquery(), deferred=True)
