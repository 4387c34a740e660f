"""FAB's security manager with per-request permission caching and org units on users.

FAB asks the database once per permission check (about 15 times per list page, more with a bigger
menu); here the current user's permissions are read once per request and kept in ``g``. The user is
loaded with roles, groups and org units in one query, and a REST call of a logged-in user does not ask
for the Public role first (see ``is_item_public``).
"""
from __future__ import annotations

from flask import g
from flask_appbuilder.security.views import UserDBModelView
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect, select
from sqlalchemy.orm import joinedload, undefer

from ..domain.dates import format_datetime
from ..errors import DomainError
from ..services import permission_stamp as _stamp_triggers  # noqa: F401  (installed after every migration)
from ..services.users import check_password, require_password_change
from .account import AdminPasswordView, FachstelleAuthDBView, OwnPasswordRedirect
from .fab_compat import SecurityManagerWall, is_api_key_request, login_user_of_request


def _yes_no(value) -> str:
    return "Ja" if value else "Nein"


def _names(items) -> str:
    """Units or roles by name, comma-separated (FAB would print the Python list)."""
    return ", ".join(sorted(str(getattr(item, "name", item)) for item in items or ()))


def _count(value) -> int:
    return value or 0


def _account(user) -> str:
    return user.username if user is not None else ""


def _date_time(value) -> str:
    return format_datetime(value) if value else ""


class FachstelleUserDBView(UserDBModelView):
    """The accounts in the city's language: units and profiles by name, Ja/Nein, German labels.

    A role is an access profile of config/roles.yaml (or FAB's technical "Admin"); FAB's groups are not
    used by Fachstelle and left out of the list and form.
    """

    # Keep FAB's permission name: roles.yaml's base permissions and the "users" admin function name
    # UserDBModelView; under the subclass name they granted nothing (own account page: 403).
    class_permission_name = "UserDBModelView"
    list_title = "Benutzerkonten"
    show_title = "Benutzerkonto"
    add_title = "Benutzerkonto anlegen"
    edit_title = "Benutzerkonto bearbeiten"
    list_columns = ["username", "first_name", "last_name", "email", "org_units", "roles", "active", "last_login"]
    add_columns = ["username", "first_name", "last_name", "email", "org_units", "roles", "active",
                   "password", "conf_password"]
    edit_columns = ["username", "first_name", "last_name", "email", "org_units", "roles", "active"]
    search_columns = ["username", "first_name", "last_name", "email", "org_units", "roles", "active"]
    show_fieldsets = [
        ("Konto", {"fields": ["username", "active", "roles", "login_count"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"], "expanded": True}),
        ("Dienststellen", {"fields": ["org_units"], "expanded": True}),
        ("Protokoll", {"fields": ["last_login", "fail_login_count", "created_on", "created_by", "changed_on",
                                  "changed_by"], "expanded": False}),
    ]
    user_show_fieldsets = [
        ("Konto", {"fields": ["username", "active", "roles", "login_count"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"], "expanded": True}),
        ("Dienststellen", {"fields": ["org_units"], "expanded": True}),
    ]
    label_columns = {
        **UserDBModelView.label_columns,
        "get_full_name": "Name", "first_name": "Vorname", "last_name": "Nachname", "username": "Benutzername",
        "password": "Passwort", "conf_password": "Passwort wiederholen", "active": "Aktiv", "email": "E-Mail",
        "roles": "Profile", "groups": "Gruppen", "org_units": "Dienststellen", "last_login": "Letzte Anmeldung",
        "login_count": "Anmeldungen", "fail_login_count": "Fehlgeschlagene Anmeldungen",
        "created_on": "Angelegt am", "created_by": "Angelegt von", "changed_on": "Geändert am",
        "changed_by": "Geändert von",
    }
    description_columns = {
        "active": "Deaktivierte Konten können sich nicht mehr anmelden; ihre Einträge bleiben erhalten.",
        "roles": "Berechtigungsprofile (Administration › Berechtigungsprofile); „Admin“ ist die technische "
                 "Administration mit allen Rechten.",
        "org_units": "Die Dienststellen, deren Datensätze das Konto sieht und anlegt.",
        "email": "",
        "first_name": "", "last_name": "", "username": "",
        "password": "", "conf_password": "Bitte das Passwort zur Bestätigung noch einmal eingeben.",
    }
    formatters_columns = {"active": _yes_no, "org_units": _names, "roles": _names, "groups": _names,
                          "last_login": _date_time, "created_on": _date_time, "changed_on": _date_time,
                          "login_count": _count, "fail_login_count": _count,
                          "created_by": _account, "changed_by": _account}

    def pre_add(self, item):
        self._check_units(item)
        try:  # the form checked the password alone; here also against the account's own names (#11)
            check_password(item.password, item.username, item.first_name, item.last_name, item.email)
        except DomainError:
            self.datamodel.session.rollback()
            raise
        super().pre_add(item)

    def post_add(self, item):
        # A password an admin chose must be changed at the first sign-in (#11).
        require_password_change(self.datamodel.session, item.id)
        self.datamodel.session.commit()
        super().post_add(item)

    def pre_update(self, item):
        self._check_units(item)
        super().pre_update(item)

    def _check_units(self, user) -> None:
        """FAB flashes the message of an exception raised here and saves nothing."""
        if user.active and not user.org_units and not any(role.name == "Admin" for role in user.roles or []):
            # Undo what the form wrote into the session (an edited account, the roles' back-references),
            # so no later flush in this request saves it after all.
            self.datamodel.session.rollback()
            raise DomainError(NO_UNIT)


NO_UNIT = ("Ein aktives Konto ohne die Rolle „Admin“ braucht mindestens eine Dienststelle: ohne sie kann es "
           "keine Datensätze anlegen. Bitte unter „Dienststellen“ eine auswählen oder das Konto deaktivieren.")


class FachstelleSecurityManager(SecurityManagerWall):
    userdbmodelview = FachstelleUserDBView
    # #11: sign-out by POST; one's own password only with the current one; an admin's one is temporary.
    authdbview = FachstelleAuthDBView
    resetmypasswordview = OwnPasswordRedirect
    resetpasswordview = AdminPasswordView

    def get_user_by_id(self, pk):
        # Flask-Login loads the user on every request; FAB then reads its roles, groups and (for the
        # org-unit filter) its units lazily, one query each. A user has a handful of each: one query.
        model = self.user_model
        # The session generation (#11, app/web/sessions.py) and the permission stamp (#10) come along in the
        # same query.
        return self.session.get(model, pk, options=[joinedload(model.roles), joinedload(model.groups),
                                                    joinedload(model.org_units), joinedload(model.session_state),
                                                    undefer(model.permission_stamp)])

    def create_login_manager(self, app):
        # A cookie authenticates only while its session lives: same generation, not idle (#11).
        lm = super().create_login_manager(app)
        lm.user_loader(self.load_session_user)
        return lm

    def load_session_user(self, pk):
        from .sessions import accept
        return accept(self.get_user_by_id(int(pk)))

    def create_jwt_manager(self, app):
        # A token names the session generation at its issue: end_sessions ends tokens too (#11).
        jwt_manager = super().create_jwt_manager(app)
        from .sessions import token_claims
        jwt_manager.additional_claims_loader(token_claims)
        return jwt_manager

    def load_user_jwt(self, _jwt_header, jwt_data):
        # FAB's, plus the generation check: a token issued before end_sessions no longer authenticates.
        from .sessions import accept_token
        user = accept_token(self.get_user_by_id(int(jwt_data["sub"])), jwt_data)
        if user is not None:
            g.user = user
        return user

    def auth_user_db(self, username, password):
        # The one sign-in check of the login form and the JWT login: throttled and audited (#11).
        from .sessions import authenticate
        return authenticate(super().auth_user_db, username, password)

    def is_item_public(self, permission_name, view_name):
        # FAB's ``protect`` asks whether a REST endpoint is public before it looks at the user: two queries
        # (the Public role and its permissions) on every call. A logged-in, active user who holds the
        # permission is let in either way, so their cached permissions answer first; everyone else gets
        # FAB's answer.
        user = g.get("user")
        if (user is not None and getattr(current_user, "is_authenticated", False) and user.is_active
                and (permission_name, view_name) in self.permissions_of(user)):
            return True
        return super().is_item_public(permission_name, view_name)

    def get_user_permissions(self, user) -> set[tuple[str, str]]:
        # FAB loads every PermissionView of every role as ORM objects with their permission and view
        # (some 500 objects per request); the names alone, for all of the user's roles in one query, are
        # the same set.
        roles = self.get_user_roles(user)
        result = {(perm, view) for role in roles if role.name in self.builtin_roles
                  for view, perm in self.builtin_roles[role.name]}
        db_role_ids = tuple(sorted(role.id for role in roles if role.name not in self.builtin_roles))
        if db_role_ids:
            result.update(self._role_permissions(db_role_ids, _loaded_stamp(user)))
        return result

    def _role_permissions(self, role_ids: tuple[int, ...], stamp: int | None) -> frozenset[tuple[str, str]]:
        # Kept per worker while the database's permission stamp stands (app/permission_stamp.py): a role
        # edited in the admin UI, by sync-roles or in SQL raises it, and counts from the next request on.
        # Without a stamp (NULL: no triggers in this database) they are read on every request.
        kept_stamp, kept = self.__dict__.get("_fs_role_permissions", (None, {}))
        if stamp is not None and stamp == kept_stamp and role_ids in kept:
            return kept[role_ids]
        pv = self.permissionview_model
        query = (select(self.permission_model.name, self.viewmenu_model.name)
                 .select_from(pv).join(pv.permission).join(pv.view_menu).join(pv.role)
                 .where(self.role_model.id.in_(role_ids)))
        found = frozenset((perm, view) for perm, view in self.session.execute(query))
        if stamp is not None:  # a new stamp starts afresh: what was kept under the old one is dropped
            kept = kept if stamp == kept_stamp else {}
            kept[role_ids] = found
            self.__dict__["_fs_role_permissions"] = (stamp, kept)
        return found

    def has_access(self, permission_name, view_name):
        # A show page asks some 50 times (menu, tabs, the buttons of every related list); FAB's answer goes
        # through Flask-Login's proxy and SQLAlchemy's inspect each time before it looks at the cached
        # permissions. For the signed-in user loaded in this request the answer is the same as FAB's:
        # inactive users get nothing, everyone else their roles' permissions. API-key, JWT and anonymous
        # calls, and a user object no longer in the session, take FAB's path.
        #
        # Which path a user takes is decided once per request and user object (``_fs_fast_user``): the
        # checks cost more than the set look-up they guard, some 60 times per case file. A user object
        # is detached when the request's session ends, after the page is rendered; ``is_active`` is still
        # read on every call, so deactivating the user mid-request answers as before.
        user = login_user_of_request()
        if user is None:
            return super().has_access(permission_name, view_name)
        if g.get("_fs_fast_user") is not user:
            if (not user.is_authenticated or is_api_key_request() or sa_inspect(user).detached):
                return super().has_access(permission_name, view_name)
            g._fs_fast_user = user
        return bool(user.is_active) and (permission_name, view_name) in self.permissions_of(user)

    def permissions_of(self, user) -> set[tuple[str, str]]:
        # Also what FAB's private permission look-ups answer from (fab_compat.SecurityManagerWall).
        key = getattr(user, "id", None)
        cache = g.setdefault("_fs_permissions", {})
        if key not in cache:
            cache[key] = self.get_user_permissions(user)
        return cache[key]

    _permissions_of = permissions_of  # its former name, for code written before fab_compat


def _loaded_stamp(user) -> int | None:
    """The permission stamp read with ``user`` (get_user_by_id); None if it was not read with it."""
    state = sa_inspect(user, raiseerr=False)
    return None if state is None else state.dict.get("permission_stamp")
