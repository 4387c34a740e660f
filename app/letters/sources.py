"""Where a letter's data come from: the case, its client and address, the clerk, the office (with a session).

Every read goes through the org-unit rule (app/scoping.py); a case the user may not see is "not found".
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..core_models import OrgUnit
from ..metamodel.build_models import built_registry
from ..actor import Actor, actor_for_user
from ..scoping import can_see_record, scope_query
from .context import build_context
from .models import OfficeDetails, StaffDetails
from .versions import LetterError


def _model(name: str):
    registry = built_registry()
    if registry is None or name not in registry.entities:
        return None
    return registry.model(name)


def acting(user, actor: Actor | None = None) -> Actor | None:
    """The actor of a letter service: the one given, else the account the letter is made by (a series step
    runs for its creator, also outside a request); None leaves it to the request."""
    if actor is not None:
        return actor
    return actor_for_user(user) if getattr(user, "id", None) is not None else None


def visible_case(session: Session, case_or_id, actor: Actor | None = None):
    """The case record if the actor (default: the request's user) may see it; else LetterError ("nicht gefunden")."""
    Case = _model("case")
    if isinstance(case_or_id, int):
        case = session.scalars(scope_query(select(Case).where(Case.id == case_or_id), Case, actor=actor)).first()
    else:
        case = case_or_id if case_or_id is not None and can_see_record(case_or_id, actor) else None
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


def client_addresses(session: Session, partner, actor: Actor | None = None) -> list:
    Address = _model("address")
    if Address is None or partner is None:
        return []
    query = select(Address).where(Address.partner_id == partner.id)
    return list(session.scalars(scope_query(query, Address, actor=actor)))


def newest_emergency(session: Session, case, actor: Actor | None = None):
    """The case's housing-emergency page (eviction date, arrears, court data), the newest if several."""
    Emergency = _model("housing_emergency")
    if Emergency is None:
        return None
    query = select(Emergency).where(Emergency.case_id == case.id)
    order = [c.desc() for c in (getattr(Emergency, "started_on", None), Emergency.id) if c is not None]
    return session.scalars(scope_query(query.order_by(*order), Emergency, actor=actor)).first()


def _newest(session: Session, case, entity: str, order: str, actor: Actor | None = None):
    model = _model(entity)
    if model is None:
        return None
    query = select(model).where(model.case_id == case.id).order_by(getattr(model, order).desc(), model.id.desc())
    return session.scalars(scope_query(query, model, actor=actor)).first()


class CaseFacts:
    """What a letter reads about the proceedings: the newest court notice (court, file number, hearing) and
    bailiff notice (eviction date) first, then the Wohnungsnotfall page as the clerk filled it in."""

    _FROM_NOTICES = {"court": ("lawsuit", "court"), "court_file_number": ("lawsuit", "court_file_number"),
                     "hearing_date": ("lawsuit", "hearing_on"), "eviction_date": ("eviction", "eviction_on")}

    def __init__(self, emergency, lawsuit=None, eviction=None):
        self._sources = {"emergency": emergency, "lawsuit": lawsuit, "eviction": eviction}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._FROM_NOTICES:
            source, attr = self._FROM_NOTICES[name]
            value = getattr(self._sources[source], attr, None) if self._sources[source] is not None else None
            if value not in (None, ""):
                return value
        emergency = self._sources["emergency"]
        return getattr(emergency, name, None) if emergency is not None else None


def case_facts(session: Session, case, actor: Actor | None = None) -> CaseFacts:
    return CaseFacts(newest_emergency(session, case, actor),
                     _newest(session, case, "eviction_lawsuit", "received_on", actor),
                     _newest(session, case, "forced_eviction", "received_on", actor))


def case_letter_context(session: Session, case, *, user, today: date | None = None, appointment=None,
                        extra: dict | None = None, actor: Actor | None = None, plan: dict | None = None) -> dict:
    """The context of a letter to the case's client, from what the case file holds plus ``extra``.

    ``actor`` decides what is visible (default: the request's user; outside a request pass one).
    """
    actor = acting(user, actor)
    case = visible_case(session, case, actor)
    client = case.client
    return build_context(
        client, addresses=client_addresses(session, client, actor), user=user, staff=staff_details(session, user),
        org_unit=session.get(OrgUnit, case.org_unit_id), office=office_details(session, case.org_unit_id),
        case=case, emergency=case_facts(session, case, actor), appointment=appointment, extra=extra,
        today=today or clock.today(), plan=plan)
