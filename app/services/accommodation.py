"""Reading accommodation (#12): the occupancy board, free places, matching, the Belegungsliste and the
utilisation report. Everything goes through ``scope_query`` on the shelter (a clerk sees only the shelters
of their units) and counts nights with the one rule (``accommodated_on_sql`` / ``nights_in``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from .. import clock
from ..actor import Actor
from ..core_models import CatalogueValue
from ..domain import matching
from ..domain import occupancy as rules
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..scoping import scope_query
from .occupancy import accommodated_on_sql, catalogue_value, nights_overlap_sql


def M(name: str):  # noqa: N802 - a model class
    return built_registry().model(name)


def attribute_labels(session: Session) -> dict[str, str]:
    rows = session.execute(select(CatalogueValue.code, CatalogueValue.label)
                           .where(CatalogueValue.catalogue == "offer_attribute").order_by(CatalogueValue.sort))
    return {code: label for code, label in rows}


def attribute_choices(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(select(CatalogueValue.code, CatalogueValue.label)
                           .where(CatalogueValue.catalogue == "offer_attribute", CatalogueValue.active.isnot(False))
                           .order_by(CatalogueValue.sort, CatalogueValue.label))
    return [(c, lbl) for c, lbl in rows]


def visible_shelters(session: Session, actor: Actor, shelter_id: int | None = None) -> list:
    Shelter = M("shelter")
    query = scope_query(select(Shelter.id, Shelter.name, Shelter.district, Shelter.capacity, Shelter.org_unit_id,
                               Shelter.shelter_type_id, Shelter.provider_type_id, Shelter.valid_to),
                        Shelter, actor=actor).order_by(Shelter.name)
    if shelter_id is not None:
        query = query.where(Shelter.id == shelter_id)
    return list(session.execute(query))


def _room_attributes(session: Session, room_ids: list[int] | None = None) -> dict[int, set[str]]:
    link = M("room").attributes.property.secondary
    query = select(link.c.record_id, CatalogueValue.code).join(CatalogueValue, CatalogueValue.id == link.c.value_id)
    if room_ids is not None:
        query = query.where(link.c.record_id.in_(room_ids)) if room_ids else query.where(False)
    out: dict[int, set[str]] = defaultdict(set)
    for rid, code in session.connection().execute(query).all():
        out[rid].add(code)
    return out


# --- board ---------------------------------------------------------------------------------------------

@dataclass(slots=True)
class PlaceRow:
    id: int
    label: str
    occupant: str | None = None
    occupant_case_id: int | None = None
    occupancy_id: int | None = None
    until: date | None = None
    reserved: str | None = None  # "reserviert für … bis …"
    closed: bool = False  # not bookable any more (valid_to passed)

    @property
    def free(self) -> bool:
        return self.occupant is None and self.reserved is None and not self.closed


@dataclass
class RoomRow:
    id: int
    label: str
    attributes: list[str]
    places: list[PlaceRow] = field(default_factory=list)

    @property
    def free(self) -> int:
        return sum(p.free for p in self.places)


@dataclass
class ShelterRow:
    id: int
    name: str
    district: str | None
    type_label: str
    rooms: list[RoomRow] = field(default_factory=list)

    @property
    def places(self) -> int:
        return sum(len(r.places) for r in self.rooms)

    @property
    def free(self) -> int:
        return sum(r.free for r in self.rooms)

    @property
    def occupied(self) -> int:
        return sum(p.occupant is not None for r in self.rooms for p in r.places)

    @property
    def reserved(self) -> int:
        return sum(p.reserved is not None and p.occupant is None for r in self.rooms for p in r.places)


def _person_name(surname, first_name) -> str:
    return f"{surname}, {first_name}" if first_name else (surname or "")


def board(session: Session, actor: Actor, day: date, *, attributes: tuple[str, ...] = (),
          shelter_id: int | None = None, only_free: bool = False, today: date | None = None) -> list[ShelterRow]:
    """Shelters → rooms → places on the night ``day``: who is there and until when, reservations, free.
    ``attributes``: only rooms with all of them; ``only_free``: only rooms with a free place."""
    today = today or clock.today()
    Room, Place, Occ, Res, Partner = M("room"), M("place"), M("occupancy"), M("reservation"), M("partner")
    shelters = visible_shelters(session, actor, shelter_id)
    if not shelters:
        return []
    type_labels = dict(session.execute(select(CatalogueValue.id, CatalogueValue.label)
                                       .where(CatalogueValue.catalogue == "shelter_type")).all())
    ids = [s.id for s in shelters]
    rows = {s.id: ShelterRow(s.id, s.name, s.district, type_labels.get(s.shelter_type_id, "")) for s in shelters}
    # Core on the session's connection, rows unpacked: 3,000 places without the ORM's per-row work.
    conn = session.connection()
    rooms = conn.execute(select(Room.id, Room.shelter_id, Room.label)
                         .where(Room.shelter_id.in_(ids)).order_by(Room.label)).all()
    attrs = _room_attributes(session, None if len(ids) > 50 else [r[0] for r in rooms])
    labels = attribute_labels(session)
    wanted = set(attributes)
    room_rows: dict[int, RoomRow] = {}
    for rid, sid, label in rooms:
        codes = attrs.get(rid, set())
        if wanted and wanted - codes:
            continue
        row = RoomRow(rid, label, [labels.get(c, c) for c in sorted(codes)])
        room_rows[rid] = row
        rows[sid].rooms.append(row)
    places = conn.execute(select(Place.id, Place.room_id, Place.label, Place.valid_to)
                          .where(Place.shelter_id.in_(ids)).order_by(Place.room_id, Place.label)).all()
    place_rows: dict[int, PlaceRow] = {}
    for pid, rid, label, valid_to in places:
        room = room_rows.get(rid)
        if room is None:
            continue
        row = PlaceRow(pid, label, closed=valid_to is not None and valid_to <= day)
        place_rows[pid] = row
        room.places.append(row)
    # Tonight's occupancies city-wide, straight from the move-out index (open or ending later: a few
    # thousand rows), kept when their place is on this board — not "shelter IN (…)", which would read
    # every historic stay of the shelters.
    occupied = conn.execute(
        select(Occ.id, Occ.place_id, Occ.move_out, Occ.case_id, Partner.surname, Partner.first_name)
        .join(Partner, Partner.id == Occ.person_id)
        .where(accommodated_on_sql(Occ, day, by_move_out=True))).all()
    for oid, pid, move_out, case_id, surname, first_name in occupied:
        row = place_rows.get(pid)
        if row is not None:
            row.occupant = f"{surname}, {first_name}" if first_name else (surname or "")
            row.until, row.occupant_case_id, row.occupancy_id = move_out, case_id, oid
    active = catalogue_value(session, "reservation_state", "aktiv")
    reserved = session.execute(
        select(Res.place_id, Res.expires_on, Res.case_id, M("case").file_number)
        .join(M("case"), M("case").id == Res.case_id)
        .where(Res.shelter_id.in_(ids), Res.state_id == active.id, Res.expires_on >= today,
               Res.reserved_from <= day, or_(Res.reserved_to.is_(None), Res.reserved_to > day)))
    for r in reserved:
        row = place_rows.get(r.place_id)
        if row is not None:
            row.reserved = f"reserviert für Fallakte {r.file_number or r.case_id} bis {r.expires_on:%d.%m.%Y}"
    out = [s for s in rows.values() if s.rooms or not wanted]
    if only_free:
        for s in out:
            s.rooms = [r for r in s.rooms if r.free]
        out = [s for s in out if s.rooms]
    return out


# --- free places and matching --------------------------------------------------------------------------

def busy_place_ids(session: Session, place_filter, start: date, end: date | None, today: date,
                   own_case_id: int | None = None) -> set[int]:
    """Places taken on at least one night of ``[start, end)``: occupied, or held by another household's
    active, unexpired reservation."""
    Occ, Res = M("occupancy"), M("reservation")
    # From the move-out index (see ``board``); the shelters' filter is applied to the few rows found.
    query = select(Occ.place_id).where(nights_overlap_sql(Occ, start, end, by_end=True))
    conn = session.connection()
    busy = set(conn.scalars(query.where(place_filter(Occ)) if end is not None else query).all())
    active = catalogue_value(session, "reservation_state", "aktiv")
    query = select(Res.place_id).where(place_filter(Res), Res.state_id == active.id, Res.expires_on >= today,
                                       nights_overlap_sql(Res, start, end, "reserved_from", "reserved_to"))
    if own_case_id is not None:
        query = query.where(Res.case_id != own_case_id)
    busy |= set(conn.scalars(query).all())
    return busy


def candidates(session: Session, actor: Actor, start: date, end: date | None, today: date,
               own_case_id: int | None = None) -> list[matching.Candidate]:
    """Every visible room with its places free for the whole period."""
    Room, Place = M("room"), M("place")
    shelters = visible_shelters(session, actor)
    if not shelters:
        return []
    ids = [s.id for s in shelters if s.valid_to is None or s.valid_to > start]
    info = {s.id: s for s in shelters}
    type_codes = dict(session.execute(select(CatalogueValue.id, CatalogueValue.code)
                                      .where(CatalogueValue.catalogue == "shelter_type")).all())
    busy = busy_place_ids(session, lambda m: m.shelter_id.in_(ids), start, end, today, own_case_id)
    conn = session.connection()  # Core, rows unpacked (see ``board``)
    rooms = conn.execute(select(Room.id, Room.shelter_id, Room.label, Room.valid_to)
                         .where(Room.shelter_id.in_(ids))).all()
    attrs = _room_attributes(session, None if len(ids) > 50 else [r[0] for r in rooms])
    free: dict[int, list[int]] = defaultdict(list)
    count: dict[int, int] = defaultdict(int)
    for pid, rid, valid_to in conn.execute(select(Place.id, Place.room_id, Place.valid_to)
                                           .where(Place.shelter_id.in_(ids)).order_by(Place.label)).all():
        count[rid] += 1
        if pid not in busy and (valid_to is None or (end is not None and valid_to >= end)):
            free[rid].append(pid)
    out = []
    empty: frozenset[str] = frozenset()
    for rid, sid, label, valid_to in rooms:
        if valid_to is not None and (end is None or valid_to < end):
            continue
        s = info[sid]
        codes = attrs.get(rid)
        out.append(matching.Candidate(rid, label, sid, s.name, s.district, frozenset(codes) if codes else empty,
                                      count[rid], tuple(free[rid]), type_codes.get(s.shelter_type_id)))
    return out


@dataclass
class HouseholdPerson:
    partner_id: int
    name: str
    sex: str | None
    birth_date: date | None
    role: str | None

    def age(self, on: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def household(session: Session, case) -> list[HouseholdPerson]:
    """The case's household: the client (Bezugsperson unless a member row says otherwise) and the members
    still in the household, each once."""
    HM, Partner = M("household_member"), M("partner")
    people: dict[int, HouseholdPerson] = {}

    def add(partner, role):
        if partner is None or partner.id in people:
            return
        people[partner.id] = HouseholdPerson(partner.id, _person_name(partner.surname, partner.first_name),
                                             partner.sex.code if partner.sex else None, partner.birth_date, role)
    members = list(session.scalars(select(HM).where(HM.case_id == case.id, HM.moved_out_on.is_(None))))
    roles = {m.member_id: (m.household_role.code if m.household_role else None) for m in members}
    add(case.client, roles.get(case.client_id) or "bezugsperson")
    for m in members:
        add(m.member, roles.get(m.member_id))
    del Partner
    return list(people.values())


def need_of(session: Session, profile) -> tuple[matching.Need, list[HouseholdPerson]]:
    people = household(session, profile.case)
    on = profile.date_from
    members = tuple(matching.Member(p.sex, p.age(on), p.role) for p in people)
    size = max(profile.household_size or 0, len(people), 1)
    need = matching.Need(members, size, profile.rooms or 1,
                         frozenset(v.code for v in profile.required_attributes),
                         frozenset(v.code for v in profile.excluded_attributes), profile.preferred_area)
    return need, people


def match_profile(session: Session, actor: Actor, profile, today: date, show_unsuitable: bool = True):
    need, people = need_of(session, profile)
    cands = candidates(session, actor, profile.date_from, profile.date_to, today, own_case_id=profile.case_id)
    return need, people, matching.match(need, cands, attribute_labels(session), show_unsuitable)


# --- Belegungsliste ------------------------------------------------------------------------------------

@dataclass
class ListRow:
    room: str
    place: str
    name: str
    birth_date: date | None
    file_number: str | None
    move_in: date | None
    move_out: date | None
    legal_basis: str
    kind: str  # "Belegung" or "Reservierung"
    note: str = ""


def occupancy_list(session: Session, actor: Actor, shelter_id: int, day: date, today: date | None = None):
    """Who is accommodated in the shelter on the night ``day`` and which places are reserved."""
    today = today or clock.today()
    shelters = visible_shelters(session, actor, shelter_id)
    if not shelters:
        raise DomainError("Diese Unterkunft gibt es nicht oder Sie haben keinen Zugriff darauf.")
    Room, Place, Occ, Res, Partner, Case = (M("room"), M("place"), M("occupancy"), M("reservation"), M("partner"),
                                            M("case"))
    basis = dict(session.execute(select(CatalogueValue.id, CatalogueValue.label)
                                 .where(CatalogueValue.catalogue == "accommodation_basis")).all())
    rows = [ListRow(room, place, _person_name(s, f), bd, fn, mi, mo, basis.get(lb, ""), "Belegung")
            for room, place, s, f, bd, fn, mi, mo, lb in session.execute(
                select(Room.label, Place.label, Partner.surname, Partner.first_name, Partner.birth_date,
                       Case.file_number, Occ.move_in, Occ.move_out, Occ.legal_basis_id)
                .join(Place, Place.id == Occ.place_id).join(Room, Room.id == Place.room_id)
                .join(Partner, Partner.id == Occ.person_id).join(Case, Case.id == Occ.case_id)
                .where(Occ.shelter_id == shelter_id, accommodated_on_sql(Occ, day)))]
    active = catalogue_value(session, "reservation_state", "aktiv")
    for room, place, s, f, bd, fn, rf, rt, exp in session.execute(
            select(Room.label, Place.label, Partner.surname, Partner.first_name, Partner.birth_date, Case.file_number,
                   Res.reserved_from, Res.reserved_to, Res.expires_on)
            .join(Place, Place.id == Res.place_id).join(Room, Room.id == Place.room_id)
            .join(Case, Case.id == Res.case_id).outerjoin(Partner, Partner.id == Res.person_id)
            .where(Res.shelter_id == shelter_id, Res.state_id == active.id, Res.expires_on >= today,
                   or_(Res.reserved_to.is_(None), Res.reserved_to > day))):
        rows.append(ListRow(room, place, _person_name(s, f) if s else "(Haushalt)", bd, fn, rf, rt, "", "Reservierung",
                            f"gilt bis {exp:%d.%m.%Y}"))
    rows.sort(key=lambda r: (r.room, r.place.zfill(4), r.kind))
    return shelters[0], rows


def write_list_xlsx(shelter_name: str, day: date, rows: list[ListRow]) -> bytes:
    head = ["Raum", "Platz", "Name", "Geburtsdatum", "Aktenzeichen", "Einzug / ab", "Auszug / bis",
            "Rechtsgrundlage", "Art", "Hinweis"]
    body = [[r.room, r.place, r.name, r.birth_date, r.file_number, r.move_in, r.move_out, r.legal_basis, r.kind,
             r.note] for r in rows]
    return _xlsx("Belegungsliste", f"Belegungsliste {shelter_name}, Nacht vom {day:%d.%m.%Y}", head, body,
                 [10, 8, 28, 14, 16, 14, 14, 30, 14, 22])


def _xlsx(sheet_name: str, title: str, head: list[str], body: list[list], widths: list[int]) -> bytes:
    """One sheet: a title, a bold header, the rows; dates as real dates (TT.MM.JJJJ), numbers as numbers.
    Written with XlsxWriter, the app's one XLSX writer (#14)."""
    import io

    import xlsxwriter
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    try:
        ws = wb.add_worksheet(sheet_name[:31])
        bold = wb.add_format({"bold": True})
        day = wb.add_format({"num_format": "DD.MM.YYYY"})
        ws.write_string(0, 0, title, bold)
        for col, text in enumerate(head):
            ws.write_string(2, col, str(text), bold)
        for r, values in enumerate(body, start=3):
            for col, v in enumerate(values):
                if v is None or v == "":
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(r, col, v)
                elif isinstance(v, (int, float, Decimal)):
                    ws.write_number(r, col, float(v) if isinstance(v, Decimal) else v)
                elif isinstance(v, date):
                    ws.write_datetime(r, col, v, day)
                else:
                    ws.write_string(r, col, str(v))
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.freeze_panes(3, 0)
    finally:
        wb.close()
    return out.getvalue()


# --- utilisation ---------------------------------------------------------------------------------------

@dataclass
class Utilisation:
    shelter_id: int
    name: str
    places: int
    capacity_nights: int
    occupied_nights: int

    @property
    def percent(self) -> Decimal:
        return rules.utilisation_percent(self.occupied_nights, self.capacity_nights)


def utilisation(session: Session, actor: Actor, start: date, end: date) -> list[Utilisation]:
    """Per visible shelter, for the period ``start`` … ``end`` (both nights included): places, capacity nights
    (places × nights), occupied person-nights (each night from move-in up to the night before move-out,
    whatever the legal basis) and utilisation in per cent. Places are the shelter's registered capacity
    ("Plätze (Kapazität)"); without one, its place rows bookable in the period."""
    if end < start:
        raise DomainError(f"„bis“ ({end:%d.%m.%Y}) liegt vor „von“ ({start:%d.%m.%Y}).")
    Place, Occ = M("place"), M("occupancy")
    shelters = visible_shelters(session, actor)
    ids = [s.id for s in shelters]
    nights = rules.period_nights(start, end)
    places = dict(session.execute(
        select(Place.shelter_id, func.count()).where(Place.shelter_id.in_(ids),
                                                     or_(Place.valid_to.is_(None), Place.valid_to > start))
        .group_by(Place.shelter_id)).all())
    # Nights inside the period, in SQL: least(move_out, end + 1) - greatest(move_in, start), summed per shelter.
    stop = end + timedelta(days=1)
    occupied: dict[int, int] = defaultdict(int)
    rows = session.execute(select(Occ.shelter_id, Occ.move_in, Occ.move_out)
                           .where(Occ.shelter_id.in_(ids), nights_overlap_sql(Occ, start, stop)))
    for sid, move_in, move_out in rows:
        occupied[sid] += rules.nights_in(move_in, move_out, start, end)
    out = []
    for s in shelters:
        n = s.capacity if s.capacity else places.get(s.id, 0)
        out.append(Utilisation(s.id, s.name, n, n * nights, occupied.get(s.id, 0)))
    return out


def utilisation_json(rows: list[Utilisation]) -> dict:
    """The exact JSON of ``fachstelle occupancy-report``."""
    return {"unterkuenfte": {r.name: {"plaetze": r.places, "kapazitaet_naechte": r.capacity_nights,
                                      "belegte_naechte": r.occupied_nights,
                                      "auslastung_prozent": float(r.percent)} for r in rows}}


def monthly_utilisation(session: Session, actor: Actor, year: int) -> dict[int, list[Utilisation]]:
    from ..domain.periods import month_period
    out = {}
    for month in range(1, 13):
        p = month_period(year, month)
        out[month] = utilisation(session, actor, p.start, p.end)
    return out


def write_utilisation_xlsx(rows: list[Utilisation], start: date, end: date) -> bytes:
    head = ["Unterkunft", "Plätze", "Kapazität (Nächte)", "belegte Nächte", "Auslastung (%)"]
    body = [[r.name, r.places, r.capacity_nights, r.occupied_nights, r.percent] for r in rows]
    return _xlsx("Auslastung", f"Auslastung der Unterkünfte {start:%d.%m.%Y} bis {end:%d.%m.%Y}", head, body,
                 [36, 10, 20, 16, 16])


# --- household actions (the household page) ------------------------------------------------------------

def catalogue_values(session: Session, catalogue: str) -> list[tuple[str, str]]:
    rows = session.execute(select(CatalogueValue.code, CatalogueValue.label)
                           .where(CatalogueValue.catalogue == catalogue, CatalogueValue.active.isnot(False))
                           .order_by(CatalogueValue.sort, CatalogueValue.label))
    return [(c, lbl) for c, lbl in rows]


def reserve_for_household(session: Session, actor: Actor, profile, place_ids: list[int], expires_on: date) -> list:
    """One reservation per chosen place for the profile's period, each for the next household member."""
    from .occupancy import reserve
    if expires_on < actor.today:
        raise DomainError(f"„Reservierung gilt bis“ ({expires_on:%d.%m.%Y}) liegt in der Vergangenheit.")
    people = household(session, profile.case)
    made = []
    for i, place_id in enumerate(place_ids):
        person = people[i].partner_id if i < len(people) else None
        made.append(reserve(session, actor, case_id=profile.case_id, place_id=place_id,
                            reserved_from=profile.date_from, reserved_to=profile.date_to, expires_on=expires_on,
                            person_id=person, commit=False))
    session.commit()
    return made


def move_in_household(session: Session, actor: Actor, case, day: date, legal_basis: str = "obg",
                      payer_type: str | None = None, person_ids: list[int] | None = None) -> list:
    """The household moves into its reserved places on ``day``: one occupancy per person (a reservation made
    for a person goes to that person), all or none."""
    from .occupancy import Booking, book
    Res = M("reservation")
    today = clock.today()
    active = catalogue_value(session, "reservation_state", "aktiv")
    reservations = list(session.scalars(select(Res).where(Res.case_id == case.id, Res.state_id == active.id,
                                                          Res.expires_on >= min(today, day))
                                        .order_by(Res.id)))
    people = [p for p in household(session, case) if not person_ids or p.partner_id in person_ids]
    if not people:
        raise DomainError("Niemand zum Einziehen gewählt.")
    if len(reservations) < len(people):
        raise DomainError(f"Für {len(people)} Person(en) sind nur {len(reservations)} Plätze reserviert; bitte "
                          "erst über das Bedarfsprofil passende Plätze reservieren.")
    by_person = {r.person_id: r for r in reservations if r.person_id}
    free = [r for r in reservations if not r.person_id or r.person_id not in {p.partner_id for p in people}]
    made = []
    try:
        for p in people:
            res = by_person.get(p.partner_id) or free.pop(0)
            made.append(book(session, actor, Booking(case.id, p.partner_id, res.place_id, day, res.reserved_to,
                                                     legal_basis, payer_type), commit=False))
    except Exception:
        session.rollback()
        raise
    session.commit()
    return made


def move_out_household(session: Session, actor: Actor, case, day: date, reason: str | None,
                       occupancy_ids: list[int] | None = None) -> list:
    from .occupancy import move_out
    Occ = M("occupancy")
    current = [o for o in session.scalars(select(Occ).where(Occ.case_id == case.id,
                                                            or_(Occ.move_out.is_(None), Occ.move_out > day)))
               if not occupancy_ids or o.id in occupancy_ids]
    if not current:
        raise DomainError(f"Am {day:%d.%m.%Y} ist aus diesem Haushalt niemand (mehr) untergebracht.")
    try:
        for o in current:
            move_out(session, actor, o, day, reason, commit=False)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return current
