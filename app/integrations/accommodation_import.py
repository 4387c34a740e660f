"""Legacy imports of accommodation (#12): shelters and occupancy lists from spreadsheets.

    fachstelle import-shelters FILE.csv    unterkunft;art;anbieter;verband;gemeindeschluessel;plaetze
    fachstelle import-occupancy FILE.csv   haushalt;person;name;vorname;geburtsdatum;geschlecht;
                                           staatsangehoerigkeit;zuwanderungsgeschichte;rolle;unterkunft;platz;
                                           einzug;auszug;rechtsgrundlage

All-or-nothing (every row is checked before anything is written; a refusal while writing rolls everything
back and names the line), idempotent (the legacy ids are kept: a shelter by its name, a household by
``case.external_ref``, a person by ``partner.external_ref``, an occupancy by household/person/move-in; the
same file twice changes nothing), every bad row reported with its line number in German. Persons go
through the duplicate check of the partner form: an existing person (same birth date, names alike) is
reused, not doubled.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..core_models import CatalogueValue, OrgUnit
from ..domain import occupancy as rules
from ..domain.periods import parse_date
from ..errors import DomainError
from ..metamodel.build_models import built_registry
from ..services.history import acting_as
from ..services.partners import find_duplicates
from .pipeline import (INVALID_VALUE, Collector, Column, CsvFile, ImportFailed, Invalid,
                       map_columns, parse_rows)

SHELTER_COLUMNS_TEXT = "unterkunft;art;anbieter;verband;gemeindeschluessel;plaetze"
OCCUPANCY_COLUMNS_TEXT = ("haushalt;person;name;vorname;geburtsdatum;geschlecht;staatsangehoerigkeit;"
                          "zuwanderungsgeschichte;rolle;unterkunft;platz;einzug;auszug;rechtsgrundlage")
SURE_SCORE = 95  # names alike and the same birth date: the same person


def M(name: str):  # noqa: N802
    return built_registry().model(name)


def _required(label: str):
    def parse(text: str) -> str:
        if not text:
            raise Invalid(f"{label} fehlt")
        return text
    return parse


def _code(label: str, allowed: tuple[str, ...], required: bool = True):
    def parse(text: str) -> str | None:
        value = text.strip().lower()
        if not value:
            if required:
                raise Invalid(f"{label} fehlt (möglich: {', '.join(allowed)})")
            return None
        if value not in allowed:
            raise Invalid(f"{label} „{text}“ unbekannt (möglich: {', '.join(allowed)})")
        return value
    return parse


def _date(label: str, required: bool = True):
    def parse(text: str) -> date | None:
        if not text:
            if required:
                raise Invalid(f"{label} fehlt")
            return None
        try:
            return parse_date(text)
        except ValueError:
            raise Invalid(f"{label} „{text}“ ist kein Datum (TT.MM.JJJJ)") from None
    return parse


def _int(label: str, low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise Invalid(f"{label} „{text}“ ist keine ganze Zahl") from None
        if not low <= value <= high:
            raise Invalid(f"{label} {value} liegt nicht zwischen {low} und {high}")
        return value
    return parse


def _ags(text: str) -> str | None:
    problem = rules.ags_problem(text)
    if problem:
        raise Invalid(f"Gemeindeschlüssel „{text}“: {problem}")
    return text or None


def _nationality(text: str) -> str | None:
    value = text.strip()
    if value.lower() in ("staatenlos", "ungeklärt", "ungeklaert"):
        return "ungeklärt" if value.lower().startswith("ungekl") else "staatenlos"
    value = value.upper()
    problem = rules.nationality_problem(value or None)
    if problem:
        raise Invalid(f"Staatsangehörigkeit „{text}“: ISO-Code mit zwei Buchstaben (z. B. DE), staatenlos "
                      "oder ungeklärt")
    return value or None


SHELTER_COLUMNS = (
    Column("unterkunft", "unterkunft", parse=_required("unterkunft")),
    Column("art", "art", parse=_code("art", rules.SHELTER_TYPES)),
    Column("anbieter", "anbieter", parse=_code("anbieter", rules.PROVIDER_TYPES)),
    Column("verband", "verband", required=False, parse=lambda t: t.strip().lower() or None),
    Column("gemeindeschluessel", "gemeindeschluessel", parse=_ags),
    Column("plaetze", "plaetze", parse=_int("plaetze", 0, 5000)),
)

OCCUPANCY_COLUMNS = (
    Column("haushalt", "haushalt", parse=_required("haushalt")),
    Column("person", "person", parse=_required("person")),
    Column("name", "name", parse=_required("name")),
    Column("vorname", "vorname", parse=lambda t: t or None),
    Column("geburtsdatum", "geburtsdatum", parse=_date("geburtsdatum", required=False)),
    Column("geschlecht", "geschlecht", parse=_code("geschlecht", tuple(rules.SEX_CODES), required=False)),
    Column("staatsangehoerigkeit", "staatsangehoerigkeit", parse=_nationality),
    Column("zuwanderungsgeschichte", "zuwanderungsgeschichte", parse=_code("zuwanderungsgeschichte", ("ja", "nein"),
                                                                           required=False)),
    Column("rolle", "rolle", parse=_code("rolle", rules.HOUSEHOLD_ROLES)),
    Column("unterkunft", "unterkunft", parse=_required("unterkunft")),
    Column("platz", "platz", parse=_required("platz")),
    Column("einzug", "einzug", parse=_date("einzug")),
    Column("auszug", "auszug", parse=_date("auszug", required=False)),
    Column("rechtsgrundlage", "rechtsgrundlage", parse=_code("rechtsgrundlage", rules.LEGAL_BASES)),
)


@dataclass
class ImportResult:
    file_name: str
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    warnings: list[str] = field(default_factory=list)

    def report(self, dry_run: bool = False) -> str:
        head = (f"Probelauf für {self.file_name}: so würde importiert, gespeichert wurde nichts." if dry_run
                else f"{self.file_name}: importiert.")
        parts = [f"{label}: {n}" for label, n in self.counts.items()]
        return "\n".join([head, *(parts or ["nichts zu tun"]), *self.warnings])


def _values(session: Session, catalogue: str) -> dict[str, CatalogueValue]:
    return {v.code: v for v in session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == catalogue))}


def default_org_unit(session: Session, code: str | None) -> OrgUnit:
    if code:
        unit = session.scalars(select(OrgUnit).where(OrgUnit.code == code)).first()
        if unit is None:
            raise ImportFailed("Dienststelle", [], heading=f"Dienststelle „{code}“ gibt es nicht. Nichts importiert.",
                               listed=False)
        return unit
    unit = session.scalars(select(OrgUnit).where(OrgUnit.code == "obdach")).first()
    return unit or session.scalars(select(OrgUnit).order_by(OrgUnit.id)).first()


def import_shelters(session: Session, path: Path, actor: Actor, file_name: str | None = None,
                    org_unit: str | None = None, progress=None) -> ImportResult:
    csv_file = CsvFile.open(path, file_name)
    index = map_columns(csv_file, SHELTER_COLUMNS, SHELTER_COLUMNS_TEXT)
    problems = Collector(csv_file.file_name)
    associations = _values(session, "welfare_association")

    def check(values, texts):
        found = []
        if values.get("verband") and values["verband"] not in associations:
            found.append(("verband", f"verband „{texts['verband']}“ unbekannt (möglich: {', '.join(associations)})"))
        return found
    rows = list(parse_rows(csv_file, SHELTER_COLUMNS, index, problems, progress, check=check))
    seen: dict[str, int] = {}
    for line, v in rows:
        key = v["unterkunft"].lower()
        if key in seen:
            problems.add(INVALID_VALUE, f"unterkunft „{v['unterkunft']}“ steht schon in Zeile {seen[key]}", line,
                         "unterkunft")
        seen[key] = line
    problems.raise_if_any()
    Shelter = M("shelter")
    types, providers = _values(session, "shelter_type"), _values(session, "provider_type")
    unit = default_org_unit(session, org_unit)
    existing = {s.name.lower(): s for s in session.scalars(select(Shelter))}
    result = ImportResult(csv_file.file_name)
    with acting_as(actor):
        for line, v in rows:
            wanted = {"shelter_type": types[v["art"]], "provider_type": providers[v["anbieter"]],
                      "association": associations.get(v["verband"]) if v.get("verband") else None,
                      "ags": v["gemeindeschluessel"], "capacity": v["plaetze"]}
            shelter = existing.get(v["unterkunft"].lower())
            if shelter is None:
                shelter = Shelter(name=v["unterkunft"], **wanted)
                shelter.org_unit_id = unit.id
                session.add(shelter)
                result.counts["Unterkünfte neu"] += 1
                continue
            changed = False
            for name, value in wanted.items():
                if getattr(shelter, name) != value:
                    setattr(shelter, name, value)
                    changed = True
            result.counts["Unterkünfte aktualisiert" if changed else "Unterkünfte unverändert"] += 1
        _flush(session, csv_file.file_name, None)
    return result


def _flush(session: Session, file_name: str, line: int | None) -> None:
    try:
        session.flush()
    except DomainError as exc:
        session.rollback()
        where = f"Zeile {line}: " if line else ""
        raise ImportFailed(file_name, [], listed=False,
                           heading=f"{file_name}: Nichts importiert. {where}{exc.message}") from None


def import_occupancy(session: Session, path: Path, actor: Actor, file_name: str | None = None,
                     progress=None) -> ImportResult:
    csv_file = CsvFile.open(path, file_name)
    index = map_columns(csv_file, OCCUPANCY_COLUMNS, OCCUPANCY_COLUMNS_TEXT)
    problems = Collector(csv_file.file_name)
    Shelter = M("shelter")
    shelters = {s.name.lower(): s for s in session.scalars(select(Shelter))}

    def check(values, texts):
        found = []
        if values.get("unterkunft") and values["unterkunft"].lower() not in shelters:
            found.append(("unterkunft", f"unterkunft „{texts['unterkunft']}“ unbekannt (erst mit "
                                        "import-shelters anlegen)"))
        if values.get("einzug") and values.get("auszug") and values["auszug"] < values["einzug"]:
            found.append(("auszug", f"auszug {values['auszug']:%d.%m.%Y} liegt vor dem einzug "
                                    f"{values['einzug']:%d.%m.%Y}"))
        return found
    rows = list(parse_rows(csv_file, OCCUPANCY_COLUMNS, index, problems, progress, check=check))
    # Within the file: one person, one set of personal data; never two stays on one night.
    by_person: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for line, v in rows:
        by_person[v["person"]].append((line, v))
    for person, stays in by_person.items():
        first_line, first = stays[0]
        for line, v in stays[1:]:
            if (v["name"], v["vorname"], v["geburtsdatum"]) != (first["name"], first["vorname"], first["geburtsdatum"]):
                problems.add(INVALID_VALUE, f"person {person} hat in Zeile {first_line} andere Namen oder ein anderes "
                                            "Geburtsdatum", line, "person")
            if v["haushalt"] != first["haushalt"]:
                problems.add(INVALID_VALUE, f"person {person} gehört in Zeile {first_line} zu haushalt "
                                            f"{first['haushalt']}", line, "haushalt")
        ordered = sorted(stays, key=lambda s: s[1]["einzug"])
        for (l1, a), (l2, b) in zip(ordered, ordered[1:]):
            if rules.overlaps(a["einzug"], a["auszug"], b["einzug"], b["auszug"]):
                problems.add(INVALID_VALUE, f"person {person} ist schon laut Zeile {l1} in dieser Zeit untergebracht "
                             "(eine Person kann nicht zweimal in derselben Nacht untergebracht sein)", l2, "einzug")
    problems.raise_if_any()
    result = ImportResult(csv_file.file_name)
    with acting_as(actor), session.no_autoflush:
        writer = _OccupancyWriter(session, shelters, result, csv_file.file_name)
        for line, v in sorted(rows, key=lambda r: (r[1]["einzug"], r[0])):
            writer.row(line, v)
            _flush(session, csv_file.file_name, line)
    return result


class _OccupancyWriter:
    def __init__(self, session: Session, shelters: dict, result: ImportResult, file_name: str):
        self.session, self.shelters, self.result, self.file_name = session, shelters, result, file_name
        self.sex = _values(session, "sex")
        self.yes_no = _values(session, "yes_no")
        self.roles = _values(session, "household_role")
        self.basis = _values(session, "accommodation_basis")
        self.kind_person = _values(session, "partner_kind")["person"]
        self.open = _values(session, "case_status")["open"]
        self.persons: dict[str, object] = {}
        self.cases: dict[str, object] = {}
        self.new_cases: set[str] = set()

    def person(self, line: int, v: dict, unit_id: int):
        key = v["person"]
        if key in self.persons:
            return self.persons[key]
        Partner = M("partner")
        found = self.session.scalars(select(Partner).where(Partner.external_ref == key)).first()
        if found is None:
            system = Actor.system("import")
            dups = find_duplicates(self.session, v["name"], v["vorname"], v["geburtsdatum"], actor=system)
            sure = [d for d in dups if d.score >= SURE_SCORE and v["geburtsdatum"] is not None
                    and d.partner.birth_date == v["geburtsdatum"] and not d.partner.external_ref]
            if sure:
                found = sure[0].partner
                found.external_ref = key
                self.result.counts["Personen wiedererkannt (Dublettenprüfung)"] += 1
            elif dups:
                self.result.warnings.append(
                    f"Zeile {line}: {v['name']}, {v['vorname'] or ''} neu angelegt; ähnlich: "
                    + "; ".join(str(d.partner) for d in dups[:3]) + " (bitte prüfen, ggf. zusammenführen)")
        if found is None:
            found = Partner(kind=self.kind_person, surname=v["name"], first_name=v["vorname"],
                            birth_date=v["geburtsdatum"], external_ref=key)
            found.org_unit_id = unit_id
            self.session.add(found)
            self.result.counts["Personen neu"] += 1
        wanted = {"sex": self.sex[rules.SEX_CODES[v["geschlecht"]]] if v["geschlecht"] else None,
                  "nationality_code": v["staatsangehoerigkeit"],
                  "migration_background": self.yes_no[v["zuwanderungsgeschichte"]] if v["zuwanderungsgeschichte"]
                  else None}
        for name, value in wanted.items():
            if value is not None and getattr(found, name) != value:
                setattr(found, name, value)
        self.persons[key] = found
        return found

    def case(self, v: dict, client, unit_id: int):
        key = v["haushalt"]
        if key in self.cases:
            return self.cases[key]
        Case = M("case")
        found = self.session.scalars(select(Case).where(Case.external_ref == key)).first()
        if found is None:
            found = Case(client=client, opened_on=v["einzug"], status=self.open, external_ref=key)
            found.org_unit_id = unit_id
            self.session.add(found)
            self.session.flush()
            found.file_number = f"{found.opened_on.year}/{found.id:06d}"
            self.result.counts["Fallakten (Haushalte) neu"] += 1
            self.new_cases.add(key)
        self.cases[key] = found
        return found

    def member(self, case, person, role: str):
        HM = M("household_member")
        found = None
        if case.id is not None and person.id is not None:
            found = self.session.scalars(select(HM).where(HM.case_id == case.id, HM.member_id == person.id)).first()
        if found is None:
            found = HM(case=case, member=person, household_role=self.roles[role])
            found.org_unit_id = case.org_unit_id
            self.session.add(found)
            self.result.counts["Haushaltsmitglieder neu"] += 1
        elif found.household_role is None or found.household_role.code != role:
            found.household_role = self.roles[role]

    def room(self, shelter, label: str):
        Room = M("room")
        room = self.session.scalars(select(Room).where(Room.shelter_id == shelter.id, Room.label == label)).first()
        if room is None:
            room = Room(shelter=shelter, label=label, places=1)
            room.org_unit_id = shelter.org_unit_id
            self.session.add(room)
            self.session.flush()
            self.result.counts["Räume neu"] += 1
        return room

    def free_place(self, room, start: date, end: date | None, person_id: int):
        """A place of the room free on every night of the stay; a room of the legacy list that was fuller
        than its places gets one more place (the list is what happened)."""
        from ..services.occupancy import nights_overlap_sql
        Place, Occ = M("place"), M("occupancy")
        places = list(self.session.scalars(select(Place).where(Place.room_id == room.id).order_by(Place.id)))
        busy = set(self.session.scalars(select(Occ.place_id).where(Occ.place_id.in_([p.id for p in places]),
                                                                   Occ.person_id != person_id,
                                                                   nights_overlap_sql(Occ, start, end))))
        for p in places:
            if p.id not in busy:
                return p
        room.places = len(places) + 1
        self.session.flush()
        return self.free_place(room, start, end, person_id)

    def row(self, line: int, v: dict) -> None:
        Occ = M("occupancy")
        shelter = self.shelters[v["unterkunft"].lower()]
        unit_id = shelter.org_unit_id
        person = self.person(line, v, unit_id)
        # The household's client is its Bezugsperson (else the first person listed).
        case = self.case(v, person, unit_id)
        if v["rolle"] == "bezugsperson" and case.client is not person and v["haushalt"] in self.new_cases:
            case.client = person
        self.member(case, person, v["rolle"])
        self.session.flush()
        ref = f"{v['haushalt']}/{v['person']}/{v['einzug']:%Y-%m-%d}"
        occ = self.session.scalars(select(Occ).where(Occ.external_ref == ref)).first()
        if occ is not None:
            room = occ.place.room if occ.place else None
            if room is None or room.label != v["platz"] or occ.shelter_id != shelter.id:
                raise ImportFailed(self.file_name, [], listed=False, heading=(
                    f"{self.file_name}: Nichts importiert. Zeile {line}: Diese Belegung wurde schon mit einem "
                    "anderen Platz importiert; Verlegungen bitte als neue Zeile mit eigenem Einzug."))
            changed = False
            if occ.move_out != v["auszug"]:
                occ.move_out, changed = v["auszug"], True
            if occ.legal_basis is not self.basis[v["rechtsgrundlage"]]:
                occ.legal_basis, changed = self.basis[v["rechtsgrundlage"]], True
            self.result.counts["Belegungen aktualisiert" if changed else "Belegungen unverändert"] += 1
            return
        room = self.room(shelter, v["platz"])
        place = self.free_place(room, v["einzug"], v["auszug"], person.id)
        occ = Occ(case=case, person=person, place=place, move_in=v["einzug"], move_out=v["auszug"],
                  legal_basis=self.basis[v["rechtsgrundlage"]], external_ref=ref)
        occ.org_unit_id = case.org_unit_id
        self.session.add(occ)
        self.result.counts["Belegungen neu"] += 1
