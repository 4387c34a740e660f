"""Security manager internals: FAB's private permission look-ups and request state, and its role set-up.

``SecurityManagerWall`` answers FAB's private ``_has_view_access`` and ``_get_user_permission_view_menus``
(every permission check, the menu) from one hook, ``permissions_of(user)``: the set of
(permission, view) name pairs the app's manager caches per request. The functions name request state
that FAB and Flask-Login keep in ``g`` under private names, the login endpoint FAB's ``has_access``
decorator redirects to, and FAB's role set-up without its table creation.
"""
from __future__ import annotations

from flask import g, url_for
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_appbuilder.security.sqla.manager import SecurityManager


class SecurityManagerWall(SecurityManager):
    """FAB's SQLA security manager whose private permission look-ups read ``permissions_of``."""

    def permissions_of(self, user) -> set[tuple[str, str]]:
        """(permission, view) names the user holds; the app's manager caches them per request."""
        return self.get_user_permissions(user)

    # --- FAB's private methods, overridden here only --------------------------------------------------
    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        return (permission_name, view_name) in self.permissions_of(user)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        if user is None:  # the Public role: FAB's path
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        perms = self.permissions_of(user)
        if view_menus_name is None:
            return {view for perm, view in perms if perm == permission_name}
        return {name for name in view_menus_name if (permission_name, name) in perms}


def login_user_of_request():
    """The user Flask-Login loaded for this request (``g._login_user``), or None before it has."""
    return g.get("_login_user")


def set_request_user(user) -> None:
    """Make ``user`` Flask-Login's user of this request (``g._login_user``) without reading or writing the
    session cookie: a request authenticated by a valid JWT runs as the token's user only."""
    g._login_user = user


def is_api_key_request() -> bool:
    """Whether FAB authenticated this request by an API key (``g._api_key_user``)."""
    return bool(g.get("_api_key_user", False))


def login_url(appbuilder, next_url: str) -> str:
    """Where FAB's ``has_access`` decorator sends an anonymous user: the auth view's login, with ``next``."""
    return url_for(appbuilder.sm.auth_view.__class__.__name__ + ".login", next=next_url)


def set_login_refusal(sm, message) -> None:
    """What FAB's login view flashes when ``auth_user_db`` refuses (``auth_view.invalid_login_message``,
    read with ``str()`` at each refusal): the app's German text, or the lockout message of the throttle."""
    sm.auth_view.invalid_login_message = message


def create_builtin_roles(sm) -> None:
    """FAB's built-in roles (Admin, Public) and ``FAB_ROLES_MAPPING``, without FAB creating tables.

    ``BaseSecurityManager.create_db``: the SQLA manager's own ``create_db`` would first create FAB's tables
    (the app's schema comes only from Alembic).
    """
    BaseSecurityManager.create_db(sm)
