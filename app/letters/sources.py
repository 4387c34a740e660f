"""Where a letter's data come from: the case, its client and address, the clerk, the office (with a session).

Every read goes through the org-unit rule (app/scoping.py); a case the user may not see is "not found".
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core_models import OrgUnit
from ..metamodel.build_models import built_registry
from ..scoping import can_see_record, scope_query
from .context import build_context
from .models import OfficeDetails, StaffDetails
from .versions import LetterError


def _model(name: str):
    registry = built_registry()
    if registry is None or name not in registry.entities:
        return None
    return registry.model(name)


def visible_case(session: Session, case_or_id):
    """The case record if the current user may see it; else LetterError ("nicht gefunden")."""
    Case = _model("case")
    if isinstance(case_or_id, int):
        case = session.scalars(scope_query(select(Case).where(Case.id == case_or_id), Case)).first()
    else:
        case = case_or_id if case_or_id is not None and can_see_record(case_or_id) else None
    if case is None:
        raise LetterError("Fallakte nicht gefunden (oder Sie haben keinen Zugriff darauf).")
    return case


def staff_details(session: Session, user) -> StaffDetails | None:
    if user is None or getattr(user, "id", None) is None:
        return None
    return session.scalars(select(StaffDetails).where(StaffDetails.user_id == user.id)).first()


def office_details(session: Session, org_unit_id: int | None) -> OfficeDetails | None:
    if org_unit_id is None:
        return None
    return session.scalars(select(OfficeDetails).where(OfficeDetails.org_unit_id == org_unit_id)).first()


def client_addresses(session: Session, partner) -> list:
    Address = _model("address")
    if Address is None or partner is None:
        return []
    query = select(Address).where(Address.partner_id == partner.id)
    return list(session.scalars(scope_query(query, Address)))


def newest_emergency(session: Session, case):
    """The case's housing-emergency page (eviction date, arrears, court data), the newest if several."""
    Emergency = _model("housing_emergency")
    if Emergency is None:
        return None
    query = select(Emergency).where(Emergency.case_id == case.id)
    order = [c.desc() for c in (getattr(Emergency, "started_on", None), Emergency.id) if c is not None]
    return session.scalars(scope_query(query.order_by(*order), Emergency)).first()


def case_letter_context(session: Session, case, *, user, today: date | None = None, appointment=None,
                        extra: dict | None = None) -> dict:
    """The context of a letter to the case's client, from what the case file holds plus ``extra``."""
    case = visible_case(session, case)
    client = case.client
    return build_context(
        client, addresses=client_addresses(session, client), user=user, staff=staff_details(session, user),
        org_unit=session.get(OrgUnit, case.org_unit_id), office=office_details(session, case.org_unit_id),
        case=case, emergency=newest_emergency(session, case), appointment=appointment, extra=extra,
        today=today or date.today())
