"""FAB's security manager with per-request permission caching and org units on users.

FAB asks the database once per permission check (about 15 times per list page, more with a bigger
menu); here the current user's permissions are read once per request and kept in ``g``.
"""
from __future__ import annotations

from flask import g
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView


class FachstelleUserDBView(UserDBModelView):
    # Keep FAB's permission name: roles.yaml's base permissions and the "users" admin function name
    # UserDBModelView; under the subclass name they granted nothing (own account page: 403).
    class_permission_name = "UserDBModelView"
    add_columns = [*UserDBModelView.add_columns, "org_units"]
    edit_columns = [*UserDBModelView.edit_columns, "org_units"]
    show_fieldsets = [
        *UserDBModelView.show_fieldsets,
        ("Dienststellen", {"fields": ["org_units"], "expanded": True}),
    ]
    label_columns = {**UserDBModelView.label_columns, "org_units": "Dienststellen"}
    list_columns = [*UserDBModelView.list_columns, "org_units"]


class FachstelleSecurityManager(SecurityManager):
    userdbmodelview = FachstelleUserDBView

    def _permissions_of(self, user) -> set[tuple[str, str]]:
        key = getattr(user, "id", None)
        cache = g.setdefault("_fs_permissions", {})
        if key not in cache:
            cache[key] = self.get_user_permissions(user)
        return cache[key]

    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        return (permission_name, view_name) in self._permissions_of(user)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        if user is None:
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        perms = self._permissions_of(user)
        if view_menus_name is None:
            return {view for perm, view in perms if perm == permission_name}
        return {name for name in view_menus_name if (permission_name, name) in perms}
