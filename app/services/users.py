"""User accounts and their passwords: made non-interactively (init, users add, demo), changed in the app.

Every password that is set goes through ``check_password`` (the policy of ``app/domain/passwords.py``);
the one exception is ``ensure_user(..., check_policy=False)`` for demo, test and benchmark accounts, which
are not production accounts (their short passwords are printed in the README and the test fixtures).
"""
from __future__ import annotations

from sqlalchemy import or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..account_models import PasswordState
from ..core_models import OrgUnit
from ..domain.passwords import password_rejection
from ..errors import DomainError

WRONG_OLD_PASSWORD = "Das bisherige Passwort stimmt nicht. Das Passwort wurde nicht geändert."
SAME_PASSWORD = "Das neue Passwort muss sich vom bisherigen unterscheiden. Das Passwort wurde nicht geändert."


def check_password(password: str, username: str | None = None, first_name: str | None = None,
                   last_name: str | None = None, email: str | None = None) -> None:
    """Raise a DomainError with the German reason when the policy refuses ``password`` for this account."""
    reason = password_rejection(password or "", [username, first_name, last_name, email])
    if reason:
        raise DomainError(reason)


def require_password_change(session, user_id: int, required: bool = True) -> None:
    """Mark (or clear) the account's password as temporary: it must be changed at the next sign-in."""
    state = session.get(PasswordState, user_id)
    if state is None:
        state = PasswordState(user_id=user_id)
        session.add(state)
    state.must_change = required


def must_change_password(user) -> bool:
    return bool(getattr(user, "must_change_password", False))


def set_password(sm, user, password: str, *, temporary: bool) -> None:
    """Set ``user``'s password after the policy check; a temporary one must be changed at the next sign-in.

    Through FAB's ``reset_password`` (its hash settings, and the place where a password change can end the
    user's other sessions).
    """
    check_password(password, user.username, user.first_name, user.last_name, user.email)
    sm.reset_password(user.id, password)
    require_password_change(sm.session, user.id, temporary)
    sm.session.commit()


def change_own_password(sm, user, old_password: str, new_password: str) -> None:
    """The signed-in user changes their password: the old one must match; nothing changes on any error."""
    if not check_password_hash(user.password or "", old_password or ""):
        raise DomainError(WRONG_OLD_PASSWORD)
    if old_password == new_password:
        raise DomainError(SAME_PASSWORD)
    set_password(sm, user, new_password, temporary=False)


def ensure_user(sm, username: str, password: str, role_name: str, org_units: list[str] | None,
                first_name: str | None = None, last_name: str | None = None, email: str | None = None, *,
                temporary: bool = False, check_policy: bool = True) -> bool:
    """Create the user, or update password, role and org units. ``org_units=None`` means all units.

    1. The password must pass the policy, unless ``check_policy=False`` (demo, test and benchmark accounts only).
    2. ``temporary=True``: the user must change the password at the first sign-in; otherwise it is final.
    """
    role = sm.find_role(role_name)
    if role is None:
        known = ", ".join(sorted(r.name for r in sm.get_all_roles()))
        raise DomainError(f"Rolle '{role_name}' gibt es nicht. Vorhanden: {known}")
    session = sm.session
    if org_units is None:
        units = list(session.scalars(select(OrgUnit)))
    else:
        units = []
        for key in org_units:
            unit = session.scalars(select(OrgUnit).where(or_(OrgUnit.code == key, OrgUnit.name == key))).first()
            if unit is None:
                known = ", ".join(session.scalars(select(OrgUnit.code).order_by(OrgUnit.code)))
                raise DomainError(f"Dienststelle '{key}' gibt es nicht. Vorhanden: {known}")
            units.append(unit)
    if role.name != "Admin" and not units:
        # Without a unit the account could see nothing and create nothing (it used to file into the first unit).
        raise DomainError(f"Benutzer '{username}': für die Rolle '{role.name}' bitte mindestens eine Dienststelle "
                          "angeben (--org-unit); ohne Dienststelle kann das Konto keine Datensätze anlegen.")
    if check_policy:
        check_password(password, username, first_name, last_name, email)
    user = sm.find_user(username=username)
    created = user is None
    if created:
        user = sm.add_user(username, first_name or username, last_name or "-", email or f"{username}@fachstelle.invalid",
                           role, password=password)
        if not user:
            raise DomainError(f"Benutzer '{username}' konnte nicht angelegt werden (E-Mail schon vergeben?).")
    else:
        user.password = generate_password_hash(password)
        user.roles = [role]
    user.org_units = units
    session.flush()
    require_password_change(session, user.id, temporary)
    session.commit()
    return created
