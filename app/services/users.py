"""User accounts made non-interactively (init, users add, demo)."""
from __future__ import annotations

from sqlalchemy import or_, select
from werkzeug.security import generate_password_hash

from ..core_models import OrgUnit
from ..errors import DomainError


def ensure_user(sm, username: str, password: str, role_name: str, org_units: list[str] | None,
                first_name: str | None = None, last_name: str | None = None, email: str | None = None) -> bool:
    """Create the user, or update password, role and org units. ``org_units=None`` means all units."""
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
    session.commit()
    return created
