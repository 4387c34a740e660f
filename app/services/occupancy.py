"""Accommodation (#12): book, move out, transfer, reserve — and the database rules behind them.

Tables are YAML entities (``config/entities.yaml``, block "Unterbringung"): ``shelter`` → ``room`` → ``place``
(one bed or slot each), ``occupancy`` per person and night range ``[move_in, move_out)``, ``reservation``,
``need_profile``. See ``docs/unterbringung.md`` for the names other modules rely on.

No overbooking, no person twice a night — enforced by the database:
- PostgreSQL: exclusion constraints ``(place_id WITH =, daterange(move_in, move_out, '[)') WITH &&)`` and the
  same for ``person_id`` (btree_gist), so two concurrent bookings of the last place cannot both commit;
- SQLite: triggers before INSERT/UPDATE that abort on an overlap (SQLite serialises writers, so the check
  and the write are one transaction).
Before that, ``_before_flush`` checks every new or changed occupancy (form, REST, import, service alike) and
refuses with a German message naming the conflicting occupancy. Reservations (another table) are checked
in the same transaction with the place row locked (``SELECT … FOR UPDATE`` on PostgreSQL).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, event, func, inspect, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..actor import Actor
from ..core_models import CatalogueValue
from ..domain import occupancy as rules
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..metamodel.migration_hooks import after_migrate
from .history import acting_as
from .save_hooks import on_deleting, on_validate

# --- the SQL twin of rules.accommodated_on ------------------------------------------------------------


def accommodated_on_sql(model, day: date, *, by_move_out: bool = False):
    """SQL of ``rules.accommodated_on``: move-in ≤ D and (no move-out or move-out > D). ``model`` is the
    occupancy model (or an alias / any model with ``move_in`` and ``move_out``).

    ``by_move_out``: the same condition, written so that the database reads the move-out index (open or
    ending later: a few thousand rows in a city) instead of every stay that began before D (the whole
    history); for city-wide "who is there tonight" queries."""
    return and_(_start(model.move_in, day, by_move_out), or_(model.move_out.is_(None), model.move_out > day))


def _start(column, day: date, by_end: bool):
    # coalesce() of a NOT NULL column is the column; it only keeps the planner off the move-in index.
    return (func.coalesce(column, day) if by_end else column) <= day


def nights_overlap_sql(model, start: date, end: date | None, start_col="move_in", end_col="move_out", *,
                       by_end: bool = False):
    """SQL of ``rules.overlaps``: the row's ``[start_col, end_col)`` shares a night with ``[start, end)``
    (``by_end``: read the end column's index, as ``accommodated_on_sql(by_move_out=True)``)."""
    row_start, row_end = getattr(model, start_col), getattr(model, end_col)
    cond = [or_(row_end.is_(None), row_end > start)]
    if end is not None:
        cond.append((func.coalesce(row_start, start) if by_end else row_start) < end)
    return and_(*cond)


def reservation_holds_sql(model, day: date, today: date, active_id):
    """SQL of ``rules.reservation_holds``: an active reservation (``active_id``: the id or a scalar subquery of
    the state "aktiv"), not expired (``expires_on`` ≥ today), covering the night ``day`` by the one rule."""
    return and_(model.state_id == active_id, model.expires_on >= today,
                accommodated_on_sql(_ReservationNights(model), day))


class _ReservationNights:
    """A reservation's ``[reserved_from, reserved_to)`` under the occupancy's column names."""

    def __init__(self, model):
        self.move_in, self.move_out = model.reserved_from, model.reserved_to


def model(name: str):
    return built_registry().model(name)


def catalogue_value(session: Session, catalogue: str, code: str) -> CatalogueValue:
    found = session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == catalogue,
                                                         CatalogueValue.code == code)).first()
    if found is None:
        raise DomainError(f"Den Wert „{code}“ gibt es im Katalog „{catalogue}“ nicht.")
    return found


def occupancy_text(occ) -> str:
    """The conflicting occupancy as the clerk reads it: who, where, from/to."""
    person = occ.person
    who = f"{person.surname}, {person.first_name}" if person is not None and person.first_name else (
        person.surname if person is not None else f"Person {occ.person_id}")
    place = occ.place
    where = place_text(place) if place is not None else f"Platz {occ.place_id}"
    until = f"bis {occ.move_out:%d.%m.%Y}" if occ.move_out else "ohne Auszugsdatum"
    return f"Belegung Nr. {occ.id}: {who}, {where}, ab {occ.move_in:%d.%m.%Y} {until}"


def place_text(place) -> str:
    room = place.room
    shelter = room.shelter if room is not None else None
    parts = [shelter.name if shelter is not None else None, room.label if room is not None else None,
             f"Platz {place.label}"]
    return " / ".join(p for p in parts if p)


# --- database rules ------------------------------------------------------------------------------------

PG_CONSTRAINTS = {
    "ex_occupancy_place_nights": "EXCLUDE USING gist (place_id WITH =, daterange(move_in, move_out, '[)') WITH &&)",
    "ex_occupancy_person_nights": "EXCLUDE USING gist (person_id WITH =, daterange(move_in, move_out, '[)') WITH &&)",
    "ck_occupancy_move_out_after_move_in": "CHECK (move_out IS NULL OR move_out >= move_in)",
}

_SQLITE_OVERLAP = (
    "EXISTS (SELECT 1 FROM occupancy o WHERE o.id IS NOT NEW.id "
    "AND (o.place_id = NEW.place_id OR o.person_id = NEW.person_id) "
    "AND o.move_in < COALESCE(NEW.move_out, '9999-12-31') AND NEW.move_in < COALESCE(o.move_out, '9999-12-31') "
    "AND o.move_in < COALESCE(o.move_out, '9999-12-31') AND NEW.move_in < COALESCE(NEW.move_out, '9999-12-31'))")
SQLITE_TRIGGERS = {
    f"trg_occupancy_no_overlap_{when}": (
        f"CREATE TRIGGER IF NOT EXISTS trg_occupancy_no_overlap_{when} BEFORE {when.upper()} ON occupancy "
        f"WHEN {_SQLITE_OVERLAP} OR (NEW.move_out IS NOT NULL AND NEW.move_out < NEW.move_in) "
        "BEGIN SELECT RAISE(ABORT, 'Belegung überschneidet sich mit einer anderen Belegung "
        "(Platz doppelt belegt oder Person zweimal untergebracht)'); END")
    for when in ("insert", "update")
}


@after_migrate
def ensure_constraints(engine: Engine) -> None:
    """Install (idempotently) the no-overbooking rules on the occupancy table of this database."""
    registry = built_registry()
    if registry is None or "occupancy" not in registry.entities:
        return
    with engine.begin() as conn:
        if not inspect(conn).has_table("occupancy"):
            return  # another schema (a migration test's own tables)
        if conn.dialect.name == "postgresql":
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            have = set(conn.scalars(text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'occupancy'::regclass")))
            for name, ddl in PG_CONSTRAINTS.items():
                if name not in have:
                    conn.execute(text(f"ALTER TABLE occupancy ADD CONSTRAINT {name} {ddl}"))
        elif conn.dialect.name == "sqlite":
            for ddl in SQLITE_TRIGGERS.values():
                conn.execute(text(ddl))


# --- checks on every flush -----------------------------------------------------------------------------

def _entity(obj) -> str | None:
    return getattr(type(obj), "__entity__", None)


def check_occupancy(session: Session, occ) -> None:
    """Refuse an occupancy that overbooks its place or accommodates its person twice on a night, or
    collides with another household's active reservation; the message names the conflicting record."""
    place_id, person_id = _ref_id(occ, "place"), _ref_id(occ, "person")
    if occ.move_in is None or place_id is None or person_id is None:
        return
    if not rules.valid_period(occ.move_in, occ.move_out):
        raise DomainError(f"„Auszug“ ({occ.move_out:%d.%m.%Y}) liegt vor dem Einzug ({occ.move_in:%d.%m.%Y}).")
    if occ.move_out is not None and occ.move_out == occ.move_in:
        return  # no night: nothing to collide with
    Occ = type(occ)
    query = select(Occ).where(or_(Occ.place_id == place_id, Occ.person_id == person_id),
                              nights_overlap_sql(Occ, occ.move_in, occ.move_out))
    if occ.id is not None:
        query = query.where(Occ.id != occ.id)
    for other in session.scalars(query):
        if other in session.deleted:
            continue
        if other.place_id == place_id:
            raise DomainError(f"Der Platz ist in diesem Zeitraum schon belegt: {occupancy_text(other)}. "
                              "Bitte einen anderen Platz oder Zeitraum wählen.")
        raise DomainError(f"Die Person ist in diesem Zeitraum schon untergebracht: {occupancy_text(other)}. "
                          "Eine Person kann nicht zweimal in derselben Nacht untergebracht sein.")
    _check_reservations(session, place_id, occ.move_in, occ.move_out, case_id=_ref_id(occ, "case"))


def _ref_id(obj, name: str) -> int | None:
    """The id of a reference before the flush: the related object's when set, else the column."""
    related = obj.__dict__.get(name)
    if related is not None:
        return related.id
    return getattr(obj, f"{name}_id", None)


def _check_reservations(session: Session, place_id: int, start: date, end: date | None, case_id: int | None,
                        skip_id: int | None = None) -> None:
    from .. import clock
    Res = model("reservation")
    active = catalogue_value(session, "reservation_state", "aktiv")
    query = select(Res).where(Res.place_id == place_id, Res.state_id == active.id,
                              Res.expires_on >= clock.today(),
                              nights_overlap_sql(Res, start, end, "reserved_from", "reserved_to"))
    for res in session.scalars(query):
        if res.id == skip_id or (case_id is not None and res.case_id == case_id):
            continue  # the household's own reservation is what it moves into
        raise DomainError(f"Der Platz ist in diesem Zeitraum reserviert (Reservierung Nr. {res.id}, ab "
                          f"{res.reserved_from:%d.%m.%Y}, gilt bis {res.expires_on:%d.%m.%Y}).")


def check_reservation(session: Session, res) -> None:
    place_id = _ref_id(res, "place")
    if place_id is None or res.reserved_from is None:
        return
    if res.reserved_to is not None and res.reserved_to < res.reserved_from:
        raise DomainError("„bis (Auszug)“ liegt vor dem Beginn der Reservierung.")
    if res.state is None or res.state.code != "aktiv":
        return
    Occ = model("occupancy")
    query = select(Occ).where(Occ.place_id == place_id,
                              nights_overlap_sql(Occ, res.reserved_from, res.reserved_to))
    case_id = _ref_id(res, "case")
    for other in session.scalars(query):
        if case_id is not None and other.case_id == case_id:
            continue
        raise DomainError(f"Der Platz ist in diesem Zeitraum belegt: {occupancy_text(other)}.")
    _check_reservations(session, place_id, res.reserved_from, res.reserved_to, case_id=None, skip_id=res.id)


def _sync_places(session: Session, room) -> None:
    """A room with n places has n place rows ("1" … "n"); more are added, none is removed (history, bookings)."""
    Place = model("place")
    if room.places is None or room.places < 1:
        return
    existing = list(session.scalars(select(Place).where(Place.room_id == room.id))) if room.id else []
    labels = {p.label for p in existing} | {p.label for p in session.new if _entity(p) == "place" and p.room is room}
    number = 1
    while len(labels) < room.places:
        while str(number) in labels:
            number += 1
        place = Place(room=room, label=str(number), shelter=room.shelter)
        place.org_unit_id = room.org_unit_id
        session.add(place)
        labels.add(str(number))


def _before_flush(session: Session, flush_context, instances) -> None:
    registry = built_registry()
    if registry is None or "occupancy" not in registry.entities:
        return
    touched = [o for o in list(session.new) + list(session.dirty) if _entity(o) in ("room", "place", "occupancy",
                                                                                   "reservation")]
    if not touched:
        return
    with session.no_autoflush:
        for obj in touched:
            kind = _entity(obj)
            if kind == "room":
                if obj.shelter is not None and obj.org_unit_id is None:
                    obj.org_unit_id = obj.shelter.org_unit_id
                _sync_places(session, obj)
            elif kind == "place" and obj.room is not None:
                obj.shelter = obj.room.shelter
                if obj.org_unit_id is None:
                    obj.org_unit_id = obj.room.org_unit_id
            elif kind in ("occupancy", "reservation") and obj.place is not None:
                obj.shelter = obj.place.shelter or (obj.place.room.shelter if obj.place.room else None)
        for obj in touched:
            if _entity(obj) == "occupancy" and (obj in session.new or session.is_modified(obj)):
                check_occupancy(session, obj)
            elif _entity(obj) == "reservation" and (obj in session.new or session.is_modified(obj)):
                check_reservation(session, obj)


@on_validate("occupancy")
def _validate_occupancy_form(item) -> None:
    """The form's check before FAB saves: the same rule as the flush, said before the commit."""
    from ..extensions import db
    with db.session.no_autoflush:
        check_occupancy(db.session, item)


@on_validate("reservation")
def _validate_reservation_form(item) -> None:
    from ..extensions import db
    with db.session.no_autoflush:
        check_reservation(db.session, item)


@on_deleting("room")
def _room_places_go_with_it(room) -> None:
    """A room's places exist because of the room: deleting the room deletes those never booked or reserved;
    a place with a booking or reservation stays and keeps the room (the delete is refused, naming it)."""
    from ..extensions import db
    Place, Occ, Res = model("place"), model("occupancy"), model("reservation")
    used = select(Occ.place_id).union(select(Res.place_id)).subquery()
    for place in db.session.scalars(select(Place).where(Place.room_id == room.id, Place.id.not_in(select(used)))):
        db.session.delete(place)
    db.session.flush()


def install(session_class=Session) -> None:
    """Listen on every Session of the process, once; call before ``history.install``."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


# --- actions -------------------------------------------------------------------------------------------


def _lock_place(session: Session, place_id: int):
    """Lock the place row for this transaction (PostgreSQL): a reservation and a booking of the same place
    wait for each other. SQLite serialises writers anyway."""
    Place = model("place")
    query = select(Place).where(Place.id == place_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Place)
    place = session.scalars(query).first()
    if place is None:
        raise DomainError("Den Platz gibt es nicht (mehr).")
    return place


@dataclass
class Booking:
    case_id: int
    person_id: int
    place_id: int
    move_in: date
    move_out: date | None = None
    legal_basis: str = "obg"
    payer_type: str | None = None
    payer_id: int | None = None


def book(session: Session, actor: Actor, booking: Booking, *, commit: bool = True):
    """Move a person in: one occupancy, checked against occupancies and other households' reservations.
    An active reservation of the same case for the place becomes "eingelöst"."""
    Occ, Res = model("occupancy"), model("reservation")
    with acting_as(actor), session.no_autoflush:
        place = _lock_place(session, booking.place_id)
        basis = catalogue_value(session, "accommodation_basis", booking.legal_basis)
        payer_type = catalogue_value(session, "payer_type", booking.payer_type) if booking.payer_type else None
        active = catalogue_value(session, "reservation_state", "aktiv")
        redeemed = catalogue_value(session, "reservation_state", "eingeloest")
        case = session.get(model("case"), booking.case_id)
        own = list(session.scalars(select(Res).where(Res.place_id == place.id, Res.case_id == booking.case_id,
                                                     Res.state_id == active.id)))
        occ = Occ(case_id=booking.case_id, person_id=booking.person_id, place=place, move_in=booking.move_in,
                  move_out=booking.move_out, legal_basis=basis, payer_type=payer_type, payer_id=booking.payer_id)
        occ.org_unit_id = case.org_unit_id if case is not None else place.org_unit_id
        session.add(occ)
        for res in own:
            res.state = redeemed
    _flush(session, actor)
    if commit:
        session.commit()
    return occ


def _flush(session: Session, actor: Actor) -> None:
    """Flush; a database refusal (a booking committed by someone else a moment ago) becomes German."""
    from sqlalchemy.exc import IntegrityError
    with acting_as(actor):
        try:
            session.flush()
        except IntegrityError as exc:
            session.rollback()
            raise DomainError("Der Platz wurde soeben anderweitig belegt oder die Person ist in diesem Zeitraum "
                              "schon untergebracht; bitte die Belegung neu laden und erneut wählen.") from exc


def move_out(session: Session, actor: Actor, occ, day: date, reason: str | None = None, *, commit: bool = True):
    """End an occupancy: ``day`` is the move-out day (its night is no longer in the shelter)."""
    if day < occ.move_in:
        raise DomainError(f"Der Auszug ({day:%d.%m.%Y}) kann nicht vor dem Einzug ({occ.move_in:%d.%m.%Y}) liegen.")
    if occ.move_out is not None and occ.move_out < day:
        raise DomainError(f"Die Belegung ist schon zum {occ.move_out:%d.%m.%Y} beendet.")
    with acting_as(actor), session.no_autoflush:
        occ.move_out = day
        if reason:
            occ.end_reason = catalogue_value(session, "occupancy_end_reason", reason)
    _flush(session, actor)
    if commit:
        session.commit()
    return occ


def transfer(session: Session, actor: Actor, occ, new_place_id: int, day: date, *, commit: bool = True):
    """Verlegung as one action: the occupancy ends on ``day`` (reason "verlegung") and the next one starts on
    ``day`` in the new place with the same case, person, legal basis and payer. Either both or neither."""
    if occ.move_out is not None and occ.move_out <= day:
        raise DomainError(f"Die Belegung ist schon zum {occ.move_out:%d.%m.%Y} beendet.")
    if day <= occ.move_in:
        raise DomainError(f"Die Verlegung ({day:%d.%m.%Y}) muss nach dem Einzug ({occ.move_in:%d.%m.%Y}) liegen.")
    if new_place_id == occ.place_id:
        raise DomainError("Der neue Platz ist derselbe wie der bisherige.")
    previous_end = occ.move_out
    try:
        move_out(session, actor, occ, day, "verlegung", commit=False)
        new = book(session, actor, Booking(case_id=occ.case_id, person_id=occ.person_id, place_id=new_place_id,
                                           move_in=day, move_out=previous_end,
                                           legal_basis=occ.legal_basis.code if occ.legal_basis else "obg",
                                           payer_type=occ.payer_type.code if occ.payer_type else None,
                                           payer_id=occ.payer_id), commit=False)
        new.payer_note = occ.payer_note
        _flush(session, actor)
    except Exception:
        session.rollback()
        raise
    if commit:
        session.commit()
    return new


def reserve(session: Session, actor: Actor, *, case_id: int, place_id: int, reserved_from: date,
            expires_on: date, reserved_to: date | None = None, person_id: int | None = None,
            commit: bool = True):
    Res = model("reservation")
    with acting_as(actor), session.no_autoflush:
        place = _lock_place(session, place_id)
        state = catalogue_value(session, "reservation_state", "aktiv")
        case = session.get(model("case"), case_id)
        res = Res(case_id=case_id, place=place, reserved_from=reserved_from, reserved_to=reserved_to,
                  expires_on=expires_on, person_id=person_id, state=state)
        res.org_unit_id = case.org_unit_id if case is not None else place.org_unit_id
        session.add(res)
    _flush(session, actor)
    if commit:
        session.commit()
    return res


def expire_reservations(session: Session, actor: Actor, today: date, *, case_id: int | None = None,
                        commit: bool = True) -> list:
    """Active reservations whose ``expires_on`` lies before ``today`` get the state "abgelaufen"
    (``rules.reservation_state``), each change in the history. Run by the daily job
    (``fachstelle reservations-expire``) and before the board and the household page are read, so a stale
    "aktiv" is never shown; the queries themselves never count an expired reservation anyway."""
    Res = model("reservation")
    active = catalogue_value(session, "reservation_state", "aktiv")
    query = select(Res).where(Res.state_id == active.id, Res.expires_on < today)  # rules.reservation_state
    if case_id is not None:
        query = query.where(Res.case_id == case_id)
    found = list(session.scalars(query))
    if not found:
        return []
    expired = catalogue_value(session, "reservation_state", "abgelaufen")
    with acting_as(actor), session.no_autoflush:
        for res in found:
            res.state = expired
    _flush(session, actor)
    if commit:
        session.commit()
    return found
