"""Reading accommodation (#12): the occupancy board, free places, matching, the Belegungsliste and the
utilisation report. Everything goes through ``scope_query`` on the shelter (a clerk sees only the shelters
of their units) and counts nights with the one rule (``accommodated_on_sql`` / ``nights_in``).
"""
from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Date, Integer, String, and_, bindparam, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from .. import clock
from ..actor import Actor
from ..core_models import CatalogueValue
from ..domain import matching
from ..domain import occupancy as rules
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..scoping import scope_query, visible_org_unit_ids
from .occupancy import accommodated_on_sql, catalogue_value, nights_overlap_sql, reservation_holds_sql
from .xlsx_export import XlsxColumn as Col, XlsxSheet, write_sheets


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


def _catalogue_maps(session: Session, *catalogues: str) -> dict[str, dict]:
    """``{catalogue: {id: (code, label)}}`` of the given catalogues, in one query."""
    out: dict[str, dict] = {c: {} for c in catalogues}
    for cat, vid, code, label in session.connection().execute(
            select(CatalogueValue.catalogue, CatalogueValue.id, CatalogueValue.code, CatalogueValue.label)
            .where(CatalogueValue.catalogue.in_(catalogues)).order_by(CatalogueValue.sort)).all():
        out[cat][vid] = (code, label)
    return out


def _value_id_sql(catalogue: str, code: str):
    """The catalogue value's id as a scalar subquery (one query less than looking it up first)."""
    return (select(CatalogueValue.id).where(CatalogueValue.catalogue == catalogue, CatalogueValue.code == code)
            .limit(1).scalar_subquery())


def _scoped_shelters_sql(actor: Actor, shelter_id: int | None = None):
    """The ids of the shelters the actor may see, as a subquery (``scope_query`` on the shelter)."""
    Shelter = M("shelter")
    query = scope_query(select(Shelter.id), Shelter, actor=actor)
    if shelter_id is not None:
        query = query.where(Shelter.id == shelter_id)
    return query


def _room_codes_sql(shelters):
    """Offer attribute codes per room of the given shelters (a subquery of shelter ids), comma-joined by the
    database, one row per room. A query of its own: joined into the place query as a derived table, SQLite
    scans it once per room."""
    Room = M("room")
    link = Room.attributes.property.secondary
    return (select(link.c.record_id, func.aggregate_strings(CatalogueValue.code, ","))
            .join(CatalogueValue, CatalogueValue.id == link.c.value_id)
            .join(Room, Room.id == link.c.record_id).where(Room.shelter_id.in_(shelters))
            .group_by(link.c.record_id))


def _board_statements(actor: Actor, one_shelter: bool):
    Shelter, Room, Place, Occ, Res, Partner, Case = (M("shelter"), M("room"), M("place"), M("occupancy"),
                                                     M("reservation"), M("partner"), M("case"))
    day, today = bindparam("day", type_=Date), bindparam("today", type_=Date)
    scoped = _scoped_shelters_sql(actor, bindparam("shelter_id", type_=Integer) if one_shelter else None)
    shelters = (select(Shelter.id, Shelter.name, Shelter.district, Shelter.shelter_type_id)
                .where(Shelter.id.in_(scoped)).order_by(Shelter.name))
    # Places with their room, tonight's occupant and a reservation holding the place, in one query.
    # Tonight's stays from the move-out index (open or ending later: a few thousand rows), read once and joined
    # to the places — not every place's whole history (MATERIALIZED: SQLite would fold it back into the join).
    tonight = (select(Occ.id, Occ.place_id, Occ.move_out, Occ.case_id, Occ.person_id)
               .where(accommodated_on_sql(Occ, day, by_move_out=True)).cte("tonight").prefix_with("MATERIALIZED"))
    res = and_(Res.place_id == Place.id, reservation_holds_sql(Res, day, today, _value_id_sql("reservation_state",
                                                                                           "aktiv")))
    # The occupant's name by primary key per occupied place (an outer join made PostgreSQL hash the whole
    # partner table for 2,500 names).
    name = (select(func.coalesce(Partner.surname, "") + ", " + func.coalesce(Partner.first_name, ""))
            .where(Partner.id == tonight.c.person_id).scalar_subquery())
    places = (select(Place.id, Place.label, Place.valid_to, Room.id, Room.label, Room.shelter_id,
                     tonight.c.id, tonight.c.move_out, tonight.c.case_id, name, Res.expires_on, Res.case_id,
                     Case.file_number)
              .join(Room, Room.id == Place.room_id)
              .outerjoin(tonight, tonight.c.place_id == Place.id).outerjoin(Res, res)
              .outerjoin(Case, Case.id == Res.case_id)
              .where(Place.shelter_id.in_(scoped)).order_by(Room.label, Room.id, Place.label))
    return shelters, _room_codes_sql(scoped), places


def board(session: Session, actor: Actor, day: date, *, attributes: tuple[str, ...] = (),
          shelter_id: int | None = None, only_free: bool = False, today: date | None = None) -> list[ShelterRow]:
    """Shelters → rooms → places on the night ``day``: who is there and until when, reservations, free.
    ``attributes``: only rooms with all of them; ``only_free``: only rooms with a free place.

    Four queries whatever the city's size (statements built once, see ``_statements``): the catalogues, the
    visible shelters, the rooms' attributes and one query of every place with its room, tonight's occupant
    (``accommodated_on_sql``) and a holding reservation (``reservation_holds_sql``), outer-joined in the
    database."""
    today = today or clock.today()
    conn = session.connection()
    cats = _catalogue_maps(session, "shelter_type", "offer_attribute")
    shelters_sql, codes_sql, places_sql = _statements(actor, ("board", shelter_id is not None),
                                                      lambda: _board_statements(actor, shelter_id is not None))
    params = {"day": day, "today": today, "shelter_id": shelter_id}
    shelters = conn.execute(shelters_sql, params).all()
    if not shelters:
        return []
    types = cats["shelter_type"]
    rows = {sid: ShelterRow(sid, name, district, types.get(tid, ("", ""))[1]) for sid, name, district, tid in shelters}
    labels = {code: label for code, label in cats["offer_attribute"].values()}
    codes = dict(conn.execute(codes_sql, params).all())
    query = places_sql
    wanted = set(attributes)
    room_rows: dict[int, RoomRow | None] = {}
    seen: set[int] = set()
    for (pid, plabel, valid_to, rid, rlabel, sid, oid, move_out, ocase, occupant,
         expires_on, rcase, file_number) in conn.execute(query, params).all():
        room = room_rows.get(rid, False)
        if room is False:
            room_codes = codes[rid].split(",") if rid in codes else ()
            if wanted and not wanted.issubset(room_codes):
                room = None
            else:
                room = RoomRow(rid, rlabel, [labels.get(c, c) for c in sorted(room_codes)])
                rows[sid].rooms.append(room)
            room_rows[rid] = room
        if room is None or pid in seen:  # filtered out; a second reservation of the same place
            continue
        seen.add(pid)
        row = PlaceRow(pid, plabel, closed=valid_to is not None and valid_to <= day)
        if oid is not None:
            row.occupant = occupant[:-2] if occupant.endswith(", ") else occupant  # no first name
            row.until, row.occupant_case_id, row.occupancy_id = move_out, ocase, oid
        if expires_on is not None:
            row.reserved = f"reserviert für Fallakte {file_number or rcase} bis {expires_on:%d.%m.%Y}"
        room.places.append(row)
    out = [s for s in rows.values() if s.rooms or not wanted]
    if only_free:
        for s in out:
            s.rooms = [r for r in s.rooms if r.free]
        out = [s for s in out if s.rooms]
    return out


# --- free places and matching --------------------------------------------------------------------------

def busy_places_sql(start: date, end: date | None, today: date, own_case_id: int | None = None):
    """SQL (a subquery with the column ``place_id``): the places taken on at least one night of
    ``[start, end)`` — occupied, or held by another household's active, unexpired reservation
    (``nights_overlap_sql``), each once. Outer-joined to the places, "free" is "not in it"."""
    Occ, Res = M("occupancy"), M("reservation")
    held = [Res.state_id == _value_id_sql("reservation_state", "aktiv"), Res.expires_on >= today,
            nights_overlap_sql(Res, start, end, "reserved_from", "reserved_to")]
    if own_case_id is not None:
        held.append(Res.case_id != own_case_id)
    return (select(Occ.place_id.label("place_id")).where(nights_overlap_sql(Occ, start, end))
            .union(select(Res.place_id).where(*held)).subquery("busy"))


_STATEMENTS: dict[int, tuple] = {}  # id(registry) -> (registry, {shape: statements})


def _statements(actor: Actor, shape: tuple, build):
    """The statements of a read, built once per registry, visible units and shape (their dates are bound
    parameters): building these selects cost more than running them (3.5 ms a call)."""
    units = visible_org_unit_ids(actor)
    key = (None if units is None else tuple(sorted(units)), *shape)
    registry = built_registry()
    entry = _STATEMENTS.get(id(registry))
    if entry is None or entry[0] is not registry:  # another app (tests run several in one process)
        entry = _STATEMENTS[id(registry)] = (registry, {})
    cache = entry[1]
    found = cache.get(key)
    if found is None:
        if len(cache) > 500:  # many units' combinations: start again rather than grow
            cache.clear()
        found = cache[key] = build()
    return found


def _hard_filter_sql(Room, Place, free, shape: tuple):
    """The hard requirements of a need as SQL on the rooms (``shape``: number of required attributes, excluded?):
    every required attribute (``:required_0`` …), none of the excluded ones (``:excluded`` — the profile's and the
    "nur Frauen"/"nur Männer" the household rules out), and at least ``:min_free`` places free. Only a
    pre-selection: ``domain.matching`` decides (and explains) each remaining room exactly as before."""
    n_required, has_excluded = shape
    link = Room.attributes.property.secondary
    CV = aliased(CatalogueValue)  # noqa: N806 - not the outer query's shelter type (no auto-correlation)
    where = []
    for i in range(n_required):  # one semi-join per attribute: a GROUP BY … HAVING count() made PostgreSQL
        # estimate one room and loop over the places (70 ms instead of 5)
        where.append(exists().where(
            link.c.record_id == Room.id,
            link.c.value_id == select(CV.id).where(CV.catalogue == "offer_attribute",
                                                   CV.code == bindparam(f"required_{i}", type_=String))
            .limit(1).scalar_subquery()))
    if has_excluded:
        where.append(~exists().where(
            link.c.record_id == Room.id,
            link.c.value_id.in_(select(CV.id).where(
                CV.catalogue == "offer_attribute",
                CV.code.in_(bindparam("excluded", expanding=True))))))
    having = func.count(case((free, Place.id))) >= bindparam("min_free", type_=Integer)
    return where, having


def _candidate_statements(actor: Actor, open_end: bool, own_case: bool, join_codes: bool,
                          hard: tuple | None = None):
    Shelter, Room, Place = M("shelter"), M("room"), M("place")
    start, end = bindparam("start", type_=Date), None if open_end else bindparam("end", type_=Date)
    scoped = _scoped_shelters_sql(actor).where(or_(Shelter.valid_to.is_(None), Shelter.valid_to > start))
    bookable = or_(Place.valid_to.is_(None), Place.valid_to >= end) if end is not None else Place.valid_to.is_(None)
    busy = busy_places_sql(start, end, bindparam("today", type_=Date),
                           bindparam("own_case", type_=Integer) if own_case else None)
    free = and_(bookable, busy.c.place_id.is_(None))
    room_open = or_(Room.valid_to.is_(None), Room.valid_to >= end) if end is not None else Room.valid_to.is_(None)
    free_ids = func.aggregate_strings(case((free, cast(Place.id, String))), ",")
    codes = _room_codes_sql(scoped)
    if join_codes:  # PostgreSQL hashes the rooms' attributes into the same query: one round trip less (the
        # rooms are scoped by the outer query; the attributes of every room are a hash of a few thousand rows)
        link = Room.attributes.property.secondary
        codes = (select(link.c.record_id, func.aggregate_strings(CatalogueValue.code, ","))
                 .join(CatalogueValue, CatalogueValue.id == link.c.value_id).group_by(link.c.record_id)
                 .subquery("room_codes"))
        code_col = codes.c[1]
    else:  # SQLite would scan the derived table once per room: a query of its own
        code_col = None
    columns = [Room.id, Room.label, Shelter.id, Shelter.name, Shelter.district, CatalogueValue.code,
               func.count(Place.id), free_ids]
    rooms = (select(*columns, *([code_col] if join_codes else []))
             .join(Shelter, Shelter.id == Room.shelter_id)
             .outerjoin(CatalogueValue, CatalogueValue.id == Shelter.shelter_type_id)
             .outerjoin(Place, Place.room_id == Room.id).outerjoin(busy, busy.c.place_id == Place.id))
    if join_codes:
        rooms = rooms.outerjoin(codes, codes.c[0] == Room.id)
    rooms = (rooms.where(Shelter.id.in_(scoped), room_open)
             .group_by(Room.id, Room.label, Shelter.id, Shelter.name, Shelter.district, CatalogueValue.code,
                       *([code_col] if join_codes else [])))
    if hard is not None:
        where, having = _hard_filter_sql(Room, Place, free, hard)
        rooms = rooms.where(*where).having(having)
    return (None if join_codes else codes), rooms


def candidates(session: Session, actor: Actor, start: date, end: date | None, today: date,
               own_case_id: int | None = None, need: matching.Need | None = None) -> list[matching.Candidate]:
    """Every visible room with its places free for the whole period, in two queries: the rooms' offer
    attributes, and each room of the visible shelters with its shelter, type, number of places and the ids of
    its places free for the period (``busy_places_sql``, decided and collected in the database).

    With ``need``: only the rooms that can fit it (``matching.sql_prefilter``: its hard requirements and enough
    free places, decided in the database) — a superset of the suitable rooms, never fewer."""
    conn = session.connection()
    join_codes = conn.dialect.name == "postgresql"
    pre = matching.sql_prefilter(need) if need is not None else None
    hard = None if pre is None else (len(pre.required), bool(pre.excluded))
    codes_sql, rooms_sql = _statements(
        actor, ("candidates", end is None, own_case_id is not None, join_codes, hard),
        lambda: _candidate_statements(actor, end is None, own_case_id is not None, join_codes, hard))
    params = {"start": start, "end": end, "today": today, "own_case": own_case_id}
    if pre is not None:
        params.update({f"required_{i}": code for i, code in enumerate(sorted(pre.required))},
                      excluded=sorted(pre.excluded), min_free=pre.min_free)
    codes = dict(conn.execute(codes_sql, params).all()) if codes_sql is not None else None
    rows = conn.execute(rooms_sql, params).all()
    attributes: dict[str | None, frozenset[str]] = {None: frozenset()}  # rooms share few attribute sets
    out = []
    for rid, label, sid, name, district, type_code, count, ids, *joined in rows:
        room_codes = joined[0] if codes is None else codes.get(rid)
        attrs = attributes.get(room_codes)
        if attrs is None:
            attrs = attributes[room_codes] = frozenset(room_codes.split(","))
        out.append(matching.Candidate(rid, label, sid, name, district, attrs, count,
                                      tuple(sorted(map(int, ids.split(",")))) if ids else (), type_code))
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


def match_need(session: Session, actor: Actor, need: matching.Need, start: date, end: date | None, today: date,
               own_case_id: int | None = None, show_unsuitable: bool = False,
               labels: dict[str, str] | None = None) -> list[matching.Match]:
    """The ranked suitable rooms for ``need`` — by default only those: the hard requirements are applied in
    the database, so only the rooms that can fit are read, ranked and explained. ``show_unsuitable``: every
    visible room, the unsuitable ones after the suitable ones, each with its reason (the clerk asks for it)."""
    cands = candidates(session, actor, start, end, today, own_case_id=own_case_id,
                       need=None if show_unsuitable else need)
    return matching.match(need, cands, attribute_labels(session) if labels is None else labels, show_unsuitable)


def match_profile(session: Session, actor: Actor, profile, today: date, show_unsuitable: bool = False):
    """The need profile's household and its matching (``match_need``; the page's call)."""
    need, people = need_of(session, profile)
    return need, people, match_need(session, actor, need, profile.date_from, profile.date_to, today,
                                    own_case_id=profile.case_id, show_unsuitable=show_unsuitable)


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
    columns = [Col("Raum", "text", 10), Col("Platz", "text", 8), Col("Name", "text", 28),
               Col("Geburtsdatum", "date", 14), Col("Aktenzeichen", "text", 16), Col("Einzug / ab", "date", 14),
               Col("Auszug / bis", "date", 14), Col("Rechtsgrundlage", "text", 30), Col("Art", "text", 14),
               Col("Hinweis", "text", 22)]
    body = [[r.room, r.place, r.name, r.birth_date, r.file_number, r.move_in, r.move_out, r.legal_basis, r.kind,
             r.note] for r in rows]
    return _xlsx("Belegungsliste", f"Belegungsliste {shelter_name}, Nacht vom {day:%d.%m.%Y}", columns, body)


def _xlsx(sheet_name: str, title: str, columns: list, body: list[list]) -> bytes:
    """One sheet through the app's XLSX writer (``xlsx_export``): the title, the header on row 3 (frozen, with
    filters), the rows; dates as real dates (TT.MM.JJJJ), numbers as numbers."""
    out = io.BytesIO()
    write_sheets(out, [XlsxSheet(sheet_name, columns, body, title)])
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
    columns = [Col("Unterkunft", "text", 36), Col("Plätze", "int", 10), Col("Kapazität (Nächte)", "int", 20),
               Col("belegte Nächte", "int", 16), Col("Auslastung (%)", "decimal", 16, places=1)]
    body = [[r.name, r.places, r.capacity_nights, r.occupied_nights, r.percent] for r in rows]
    return _xlsx("Auslastung", f"Auslastung der Unterkünfte {start:%d.%m.%Y} bis {end:%d.%m.%Y}", columns, body)


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
