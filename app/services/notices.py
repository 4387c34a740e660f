"""Registering a court's notice of an eviction lawsuit or a bailiff's notice of a forced eviction.

One call does what the standard procedure (Zielvereinbarung 2.2) needs to start:
1. the client: the chosen partner, or a new person with a main address;
2. the case: the client's newest open case in the clerk's units, or a new one with its
   Wohnungsnotfall page ("Wohnungsverlust droht durch" lawsuit / forced eviction);
3. the notice page (Räumungsklage / Zwangsräumung);
4. the documentation entry at the measurement point (klage_eingang / zr_mitteilung_eingang and, for a
   forced eviction, zr_termin on the eviction date), whose catalogue rule creates the standard letter's
   task due 3 working days after receipt;
5. for a forced eviction, the task to attend it, due on the eviction date, which a contact cancels
   (Qualitätsstandard 1.4: attendance where there was no prior contact).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..actor import Actor
from ..errors import DomainError, NoHomeUnitError
from ..metamodel.build_models import built_registry
from ..scoping import home_org_unit_id, scope_query
from .seed import catalogue_value


@dataclass
class NewPerson:
    surname: str
    first_name: str | None = None
    birth_date: date | None = None
    sex_id: int | None = None
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    city: str | None = None


@dataclass
class Registered:
    case: object
    notice: object
    entries: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    created_client: bool = False
    created_case: bool = False


def _service(session: Session, code: str):
    service = built_registry().model("service")
    found = session.scalars(select(service).where(service.code == code)).first()
    if found is None:
        raise DomainError(f"Die Leistung „{code}“ fehlt im Leistungskatalog; bitte die Fachadministration fragen.")
    return found


def _client(session: Session, client, person: NewPerson | None, unit_id: int | None):
    registry = built_registry()
    if client is not None:
        return client, False
    if person is None or not (person.surname or "").strip():
        raise DomainError("Bitte eine Person auswählen oder Name (und möglichst Geburtsdatum) der neuen Person angeben.")
    partner = registry.model("partner")(kind=catalogue_value(session, "partner_kind", "person"), surname=person.surname.strip(),
                                        first_name=(person.first_name or "").strip() or None,
                                        birth_date=person.birth_date, sex_id=person.sex_id)
    partner.org_unit_id = unit_id
    session.add(partner)
    if person.street:
        address = registry.model("address")(partner=partner, kind=catalogue_value(session, "address_kind", "main"),
                                            street=person.street.strip(), house_number=person.house_number,
                                            postcode=person.postcode, city=person.city, country="Deutschland")
        address.org_unit_id = unit_id
        session.add(address)
    return partner, True


def _case(session: Session, client, received_on: date, unit_id: int | None, threat: str, known_through: str,
          actor: Actor | None = None):
    registry = built_registry()
    case_model = registry.model("case")
    open_state = catalogue_value(session, "case_status", "open")
    if client.id is not None:
        query = (select(case_model).where(case_model.client_id == client.id, case_model.status_id == open_state.id)
                 .order_by(case_model.opened_on.desc(), case_model.id.desc()))
        existing = session.scalars(scope_query(query, case_model, actor=actor)).first()
        if existing is not None:
            return existing, False
    case = case_model(client=client, opened_on=received_on, status=open_state)
    if actor is not None and actor.user_id and hasattr(case_model, "clerk_user_id"):
        case.clerk_user_id = actor.user_id  # "Sachbearbeitung": the clerk who registered the notice (#11)
    case.org_unit_id = getattr(client, "org_unit_id", None) or unit_id
    if case.org_unit_id is None:
        raise NoHomeUnitError()
    session.add(case)
    page = registry.model("housing_emergency")(case=case, started_on=received_on,
                                               threatened_by=catalogue_value(session, "threat_type", threat),
                                               known_through=catalogue_value(session, "known_through", known_through),
                                               known_on=received_on)
    page.org_unit_id = case.org_unit_id
    session.add(page)
    return case, True


def _number(case) -> None:
    """A new case gets a file number at once (year/number, as the demo and the import use them)."""
    if not case.file_number:
        case.file_number = f"{case.opened_on.year}/{case.id:06d}"


def _entry(session: Session, case, service_code: str, on: date, info: str | None, provider_id: int | None):
    entry = built_registry().model("doc_entry")(case=case, service=_service(session, service_code), entry_date=on,
                                                info=info, provider_id=provider_id)
    entry.org_unit_id = case.org_unit_id
    session.add(entry)
    return entry


def _check_receipt(received_on: date, today: date | None) -> None:
    if received_on > (today or clock.today()):
        raise DomainError("Das Eingangsdatum der Mitteilung liegt in der Zukunft.")


def _register(session: Session, *, page: str, threat: str, known_through: str, received_on: date, client, person: NewPerson | None, org_unit_id: int | None, service_code: str, sender,
              sender_file_number: str | None, provider_id: int | None, actor: Actor | None = None, **fields):
    """What both notices do: client and case (new if need be), the notice page, the entry at receipt."""
    unit_id = org_unit_id or home_org_unit_id(actor)
    with session.no_autoflush:
        client, created_client = _client(session, client, person, unit_id)
        case, created_case = _case(session, client, received_on, unit_id, threat, known_through, actor)
    notice = built_registry().model(page)(case=case, received_on=received_on, **fields)
    notice.org_unit_id = case.org_unit_id
    session.add(notice)
    info = " ".join(p for p in (str(sender) if sender else "", sender_file_number or "") if p) or None
    entry = _entry(session, case, service_code, received_on, info, provider_id)
    session.flush()  # the catalogue rule creates the standard letter's task
    _number(case)
    return case, notice, entry, created_client, created_case


def register_lawsuit(session: Session, *, received_on: date, court=None, court_file_number: str | None = None,
                     hearing_on: date | None = None, client=None, person: NewPerson | None = None,
                     provider_id: int | None = None, org_unit_id: int | None = None,
                     today: date | None = None, actor: Actor | None = None) -> Registered:
    """A court's notice of an eviction lawsuit (Mitteilung des Amtsgerichts über eine Räumungsklage)."""
    _check_receipt(received_on, today or (actor.today if actor else None))
    if hearing_on is not None and hearing_on < received_on:
        raise DomainError("Der Verhandlungstermin liegt vor dem Eingang der Mitteilung.")
    case, notice, entry, created_client, created_case = _register(
        session, page="eviction_lawsuit", threat="raeumungsklage", known_through="amtsgericht",
        received_on=received_on, client=client, person=person, org_unit_id=org_unit_id, actor=actor,
        service_code="klage_eingang", sender=court, sender_file_number=court_file_number, provider_id=provider_id,
        court=court, court_file_number=court_file_number, hearing_on=hearing_on)
    return Registered(case, notice, [entry], _open_tasks_from(session, entry), created_client, created_case)


def register_forced_eviction(session: Session, *, received_on: date, eviction_on: date, eviction_at: str | None = None,
                             bailiff=None, bailiff_file_number: str | None = None, client=None,
                             person: NewPerson | None = None, provider_id: int | None = None,
                             org_unit_id: int | None = None, today: date | None = None,
                             actor: Actor | None = None) -> Registered:
    """A bailiff's notice of a forced eviction (Mitteilung der Gerichtsvollzieherin / des Gerichtsvollziehers)."""
    _check_receipt(received_on, today or (actor.today if actor else None))
    if eviction_on < received_on:
        raise DomainError("Der Räumungstermin liegt vor dem Eingang der Mitteilung.")
    case, notice, received, created_client, created_case = _register(
        session, page="forced_eviction", threat="zwangsraeumung", known_through="gerichtsvollzieher",
        received_on=received_on, client=client, person=person, org_unit_id=org_unit_id, actor=actor,
        service_code="zr_eingang", sender=bailiff, sender_file_number=bailiff_file_number, provider_id=provider_id,
        bailiff=bailiff, bailiff_file_number=bailiff_file_number, eviction_on=eviction_on, eviction_at=eviction_at)
    when = f"Räumung am {eviction_on.strftime('%d.%m.%Y')}" + (f" um {eviction_at} Uhr" if eviction_at else "")
    termin = _entry(session, case, "zr_termin", eviction_on, when, provider_id)
    attend = built_registry().model("task")(
        case=case, title=f"Anwesenheit bei der Zwangsräumung ({when})", due_on=eviction_on,
        state=catalogue_value(session, "task_state", "open"),
        closed_by=catalogue_value(session, "measurement_point", "zr_anwesenheit"), cancel_on_contact=True,
        source_entry=received, assignee_id=received.provider_id)
    attend.org_unit_id = case.org_unit_id
    session.add(attend)
    session.flush()
    return Registered(case, notice, [received, termin], _open_tasks_from(session, received),
                      created_client, created_case)


def _open_tasks_from(session: Session, entry) -> list:
    task = built_registry().model("task")
    return list(session.scalars(select(task).where(task.source_entry_id == entry.id).order_by(task.id)))


def standard_letter_service(session: Session, entry):
    """The service whose entry closes the entry's follow-up and has a letter (after "Eingang Mitteilung
    Räumungsklage": "1. Einladung Räumungsklage"); None when the catalogue names none."""
    service = entry.service
    closed_by = getattr(service, "follow_up_closed_by", None) if service is not None else None
    if closed_by is None:
        return None
    model = built_registry().model("service")
    today = clock.today()
    candidates = session.scalars(select(model).where(model.measurement_point_id == closed_by.id,
                                                     model.letter_template.is_not(None))
                                 .order_by(model.id))
    return next((s for s in candidates if s.letter_template
                 and (s.active_from is None or s.active_from <= today)
                 and (s.active_to is None or s.active_to >= today)), None)


def add_letter_entry(session: Session, case, service, *, provider_id: int | None, on: date):
    """The entry of a standard letter (its before-flush rules close the follow-up task, as in the form)."""
    entry = _entry(session, case, service.code, on, None, provider_id)
    session.flush()
    return entry
