"""The signed-in user's own account (#11): "Mein Profil", "Passwort ändern", "Abmelden" of the user menu.

- Sign-out is a POST with the CSRF token (the menu's button). ``GET /logout/`` signs nobody out: a link
  on another site could otherwise end a clerk's session; it shows a page with the button instead.
- "Passwort ändern" asks for the current password; FAB's own page (``/resetmypassword/form``) did not and
  now leads here.
- A password an admin set (user form, "Passwort zurücksetzen", ``users add --temporary-password``) must be
  changed first: until then every page leads to "Passwort ändern" (REST calls get a German 403).
- Every password goes through the policy (``app/domain/passwords.py``), also FAB's user form and its
  "reset password" page for admins.
"""
from __future__ import annotations

from functools import wraps

from flask import flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.views import AuthDBView, ResetMyPasswordView, ResetPasswordView
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from ..domain.passwords import MIN_LENGTH, password_rejection
from ..errors import DomainError
from ..extensions import db
from ..services.users import WRONG_OLD_PASSWORD, change_own_password, must_change_password, set_password

POLICY_HINT = (f"Mindestens {MIN_LENGTH} Zeichen und nicht leicht zu erraten – am besten mehrere ungewöhnliche "
               "Wörter, z. B. ein kurzer Satz.")
MUST_CHANGE = "Ihr Passwort wurde von der Administration vergeben. Bitte wählen Sie jetzt ein eigenes."
MUST_CHANGE_API = ("Das Passwort dieses Kontos ist vorläufig und muss zuerst unter „Passwort ändern“ geändert "
                   "werden.")


class ChangePasswordForm(FlaskForm):
    old_password = PasswordField("Bisheriges Passwort", validators=[DataRequired("Bitte das bisherige Passwort eingeben.")])
    new_password = PasswordField("Neues Passwort", description=POLICY_HINT,
                                 validators=[DataRequired("Bitte ein neues Passwort eingeben.")])
    confirm = PasswordField("Neues Passwort wiederholen",
                            validators=[EqualTo("new_password", "Die beiden neuen Passwörter stimmen nicht überein.")])


def signed_in(view):
    """The page of one's own account: every signed-in user, no permission of a profile needed."""
    @wraps(view)
    def wrapper(self, *args, **kwargs):
        if not getattr(current_user, "is_authenticated", False):
            return redirect(self.appbuilder.get_url_for_login_with(request.full_path))
        return view(self, *args, **kwargs)
    return wrapper


class OwnAccountView(BaseView):
    route_base = "/account"
    default_view = "profile"

    @expose("/profile")
    @signed_in
    def profile(self):
        user = self.appbuilder.sm.get_user_by_id(current_user.id)
        return self.render_template("fachstelle/account/profile.html", user=user,
                                    units=sorted(unit.name for unit in user.org_units or []),
                                    profiles=sorted(role.name for role in user.roles or []))

    @expose("/password", methods=["GET", "POST"])
    @signed_in
    def password(self):
        sm = self.appbuilder.sm
        form = ChangePasswordForm()
        if form.validate_on_submit():
            user = sm.get_user_by_id(current_user.id)
            try:
                change_own_password(sm, user, form.old_password.data, form.new_password.data)
            except DomainError as exc:
                db.session.rollback()
                # The message goes to the field it is about; the page puts the focus there.
                faulty = form.old_password if str(exc) == WRONG_OLD_PASSWORD else form.new_password
                faulty.errors = [*faulty.errors, str(exc)]
            else:
                flash("Ihr Passwort wurde geändert.", "success")
                return redirect(self.appbuilder.get_url_for_index)
        faulty = next((f.name for f in (form.old_password, form.new_password, form.confirm) if f.errors), None)
        return self.render_template("fachstelle/account/password.html", form=form, faulty=faulty,
                                    forced=must_change_password(current_user))


class FachstelleAuthDBView(AuthDBView):
    """FAB's sign-in; sign-out only by POST (with the CSRF token that the app checks on every POST)."""

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        if request.method == "GET":
            if not getattr(current_user, "is_authenticated", False):
                return redirect(self.appbuilder.get_url_for_login)
            return self.render_template("fachstelle/account/logout.html", appbuilder=self.appbuilder)
        super().logout()
        flash("Sie sind abgemeldet.", "info")
        return redirect(self.appbuilder.get_url_for_login)


class OwnPasswordRedirect(ResetMyPasswordView):
    """FAB's "reset my password" page changed the password without the current one: it leads to ours."""

    @expose("/form", methods=["GET"])
    def this_form_get(self):
        return redirect(url_for("OwnAccountView.password"))

    @expose("/form", methods=["POST"])
    def this_form_post(self):
        return redirect(url_for("OwnAccountView.password"))


class AdminPasswordForm(FlaskForm):
    password = PasswordField("Neues Passwort", description=POLICY_HINT + " Der Benutzer muss es bei der ersten "
                             "Anmeldung durch ein eigenes ersetzen.",
                             validators=[DataRequired("Bitte ein Passwort eingeben.")], widget=BS3PasswordFieldWidget())
    conf_password = PasswordField("Passwort wiederholen", widget=BS3PasswordFieldWidget(),
                                  validators=[EqualTo("password", "Die beiden Passwörter stimmen nicht überein.")])

    @classmethod
    def refresh(cls, obj=None):
        """What FAB's form views call to make the form (as its DynamicForm does)."""
        return cls(obj=obj)


class AdminPasswordView(ResetPasswordView):
    """An admin sets another user's password: the policy applies, and the password is temporary."""

    form = AdminPasswordForm
    form_title = "Passwort zurücksetzen"

    def form_post(self, form):
        sm = self.appbuilder.sm
        user = sm.get_user_by_id(request.args.get("pk"))
        if user is None:
            flash("Diesen Benutzer gibt es nicht (mehr).", "danger")
            return redirect(self.appbuilder.get_url_for_index)
        try:
            set_password(sm, user, form.password.data, temporary=True)
        except DomainError as exc:
            db.session.rollback()
            flash(f"Passwort nicht geändert: {exc}", "danger")
            return redirect(request.full_path)
        flash(f"Das Passwort von {user.username} wurde gesetzt; es muss bei der ersten Anmeldung geändert werden.",
              "success")
        return None


def fab_password_check(password: str) -> None:
    """FAB's password fields (the admin's user form) ask this (``FAB_PASSWORD_COMPLEXITY_VALIDATOR``)."""
    reason = password_rejection(password or "")
    if reason:
        raise PasswordComplexityValidationError(reason)


#: Where a user with a temporary password may still go: the change page, sign-in/out (whichever class of the
#: security manager's auth view serves them) and static files.
OPEN_ENDPOINTS = {"OwnAccountView.password", "static", "appbuilder.static"}
OPEN_ACTIONS = (".login", ".logout")


def install_account(app) -> None:
    app.config["FAB_PASSWORD_COMPLEXITY_ENABLED"] = True
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = fab_password_check

    @app.before_request
    def _password_change_first():
        endpoint = request.endpoint or ""
        if (endpoint in OPEN_ENDPOINTS or endpoint.endswith(OPEN_ACTIONS)
                or not getattr(current_user, "is_authenticated", False)):
            return None
        if not must_change_password(current_user):
            return None
        if request.path.startswith("/api/"):
            response = jsonify(message=MUST_CHANGE_API)
            response.status_code = 403
            return response
        return redirect(url_for("OwnAccountView.password"))
