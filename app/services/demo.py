"""Deterministic, realistic German demo data (Faker de_DE) and demo users per role and org unit.

Rows are written with bulk inserts (no ORM per row) so that ``--size city`` (200,000 partners,
300,000 cases with their pages) loads in minutes; derived columns (search twins, Kölner Phonetik,
created/updated) are filled exactly as the save hook would.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from faker import Faker
from sqlalchemy import func, insert, select

from .. import clock
from ..core_models import CatalogueValue, OrgUnit, Street
from ..domain.phonetics import phonetic
from ..extensions import db
from ..letters.models import OfficeDetails, StaffDetails
from ..metamodel.build_models import PHONETIC_FIELDS, lc_name, searchable_lc_fields
from .history import acting_as
from .seed import seed_all
from .sequences import reset_sequences
from .users import ensure_user

SIZES = {"small": (240, 160), "city": (200_000, 300_000)}
# Demo accounts are not production accounts: their short password is printed and exempt from the policy.
DEMO_PASSWORD = "demo"
BATCH = 5_000


def _catalogue_ids(session) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for value in session.scalars(select(CatalogueValue)):
        out.setdefault(value.catalogue, {})[value.code] = value.id
    return out


def _derived(entity, row: dict, now: datetime) -> dict:
    for name in searchable_lc_fields(entity):
        value = row.get(name)
        row[lc_name(name)] = value.strip().lower() if value else None
    for name in PHONETIC_FIELDS.get(entity.name, ()):
        row[f"{name}_phon"] = phonetic(row.get(name)) or None
    row.update(created_at=now, updated_at=now, created_by="demo", updated_by="demo")
    return row


def _insert(session, model, rows: list[dict]) -> None:
    # executemany takes its columns from the first row: give every row the same keys.
    keys = {key for row in rows for key in row}
    for row in rows:
        for key in keys - row.keys():
            row[key] = None
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model.__table__), rows[start:start + BATCH])


def _next_id(session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def demo_users(app, units: list[OrgUnit]) -> list[tuple[str, str, str]]:
    """One clerk, social worker and team lead per unit, plus controlling and city admin."""
    sm = app.appbuilder.sm
    made = []
    for unit in units:
        for prefix, role in (("sb", "Sachbearbeitung"), ("sa", "Sozialarbeit"), ("tl", "Teamleitung"),
                             ("ov", "Obdachverwaltung")):
            if sm.find_role(role) is None:
                continue
            username = f"{prefix}_{unit.code}"
            ensure_user(sm, username, DEMO_PASSWORD, role, [unit.code], first_name=role, last_name=unit.name,
                        check_policy=False)
            made.append((username, role, unit.name))
    if sm.find_role("Darlehen/Kasse") is not None:  # #13: loans and the treasury, every unit
        ensure_user(sm, "kasse", DEMO_PASSWORD, "Darlehen/Kasse", [u.code for u in units], first_name="Darlehen",
                    last_name="Kasse", check_policy=False)
        made.append(("kasse", "Darlehen/Kasse", "alle"))
    for username, role in (("controlling", "Controlling"), ("fachadmin", "Fachadmin")):
        if sm.find_role(role) is not None:
            ensure_user(sm, username, DEMO_PASSWORD, role, None, first_name=role, last_name="Stadt",
                        check_policy=False)
            made.append((username, role, "alle"))
    # #15: the data-protection officer sees every unit (lists, the access log, Art. 15 exports).
    if sm.find_role("Datenschutz") is not None:
        ensure_user(sm, "datenschutz", DEMO_PASSWORD, "Datenschutz", [unit.code for unit in units],
                    first_name="Datenschutz", last_name="Stadt", check_policy=False)
        made.append(("datenschutz", "Datenschutz", "alle"))
    return made


def load_demo(app, size: str = "small", seed: int = 42) -> str:
    session = db.session
    spec = app.config["FACHSTELLE_SPEC"]
    registry = app.config["FACHSTELLE_REGISTRY"]
    seed_all(session, spec)
    session.commit()
    units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
    users = demo_users(app, units)
    partner_model = registry.model("partner")
    if session.scalar(select(func.count()).select_from(partner_model)):
        return _summary(users, "Demodaten sind schon vorhanden; nur die Demo-Benutzer wurden aktualisiert.")
    n_partners, n_cases = SIZES[size]
    generate(session, registry, units, n_partners, n_cases, seed)
    session.commit()
    demo_letterheads(session, spec)
    entries = document_recent_cases(session, registry, seed)
    session.commit()
    from .accommodation_demo import demo_accommodation  # #12: shelters, rooms, places and occupancies
    stays = demo_accommodation(session, registry, seed) if "occupancy" in registry.entities else 0
    return _summary(users, f"Demodaten angelegt: {n_partners} Partner, {n_cases} Fallakten, {entries} Doku-Einträge, "
                           f"{stays} Belegungen.")


def _summary(users, head: str) -> str:
    lines = [head, "Demo-Anmeldungen (Passwort jeweils 'demo'):"]
    lines += [f"  {u:<24} {role:<16} {unit}" for u, role, unit in users]
    return "\n".join(lines)


def generate(session, registry, units, n_partners: int, n_cases: int, seed: int) -> None:
    """Bulk-generate partners with addresses and contacts, cases with household and emergency pages."""
    fake = Faker("de_DE")
    Faker.seed(seed)
    rnd = random.Random(seed)
    cats = _catalogue_ids(session)
    now = clock.utcnow()
    cities = _streets(session, fake, rnd)
    ent = registry.entity
    P, A, C, R = (registry.model(n) for n in ("partner", "address", "contact", "partner_role_assignment"))
    Case, HM, HE = (registry.model(n) for n in ("case", "household_member", "housing_emergency"))
    pid, aid, cid, rid = (_next_id(session, m) for m in (P, A, C, R))
    groups = list(cats.get("person_group", {}).values()) or [None]
    sexes = cats["sex"]
    partners, addresses, contacts, roles = [], [], [], []
    unit_of: dict[int, int] = {}
    # A few shared institutions (courts, job centre) without an org unit.
    institutions = [("Amtsgericht Mitte", "amtsgericht"), ("Amtsgericht Nord", "amtsgericht"),
                    ("Jobcenter", "jobcenter"), ("Obergerichtsvollzieherin Schulz", "gerichtsvollzieher")]
    for name, role in institutions:
        partners.append(_derived(ent("partner"), {"id": pid, "kind_id": cats["partner_kind"]["institution"],
                                                 "surname": name, "org_unit_id": None}, now))
        roles.append({"id": rid, "partner_id": pid, "role_id": cats["partner_role"][role], "org_unit_id": None,
                      **_stamp(now)})
        pid, rid = pid + 1, rid + 1
    first_client = pid
    for i in range(n_partners):
        unit = units[i % len(units)]
        female = rnd.random() < 0.45
        birth = date(1940, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 66))
        row = {"id": pid, "kind_id": cats["partner_kind"]["person"], "org_unit_id": unit.id,
               "surname": fake.last_name(), "first_name": fake.first_name_female() if female else fake.first_name_male(),
               "sex_id": sexes["female" if female else "male"], "birth_date": birth,
               "birth_place": fake.city(), "nationality": "deutsch" if rnd.random() < 0.7 else rnd.choice(
                   ["türkisch", "syrisch", "polnisch", "ukrainisch", "rumänisch", "afghanisch"]),
               "person_group_id": rnd.choice(groups)}
        partners.append(_derived(ent("partner"), row, now))
        street, postcode, city, district = rnd.choice(cities)
        addresses.append(_derived(ent("address"), {
            "id": aid, "partner_id": pid, "kind_id": cats["address_kind"]["main"], "street": street,
            "house_number": str(rnd.randint(1, 180)), "postcode": postcode, "city": city, "district": district,
            "country": "Deutschland", "valid_from": birth + timedelta(days=365 * 18), "org_unit_id": unit.id}, now))
        if rnd.random() < 0.6:
            contacts.append(_derived(ent("contact"), {"id": cid, "partner_id": pid,
                                                      "channel_id": cats["contact_channel"]["phone"],
                                                      "value": fake.phone_number(), "org_unit_id": unit.id}, now))
            cid += 1
        roles.append({"id": rid, "partner_id": pid, "role_id": cats["partner_role"]["klient"],
                      "org_unit_id": unit.id, **_stamp(now)})
        unit_of[pid] = unit.id
        pid, aid, rid = pid + 1, aid + 1, rid + 1
    _insert(session, P, partners)
    _insert(session, A, addresses)
    _insert(session, C, contacts)
    _insert(session, R, roles)
    cases, members, emergencies = [], [], []
    case_id, hm_id, he_id = (_next_id(session, m) for m in (Case, HM, HE))
    threats = cats["threat_type"]
    results = list(cats["case_result"].values())
    today = clock.today()
    # "Sachbearbeitung": the unit's demo clerk (sb_<unit>), so "Meine Fälle" has cases in the demo.
    from flask_appbuilder.security.sqla.models import User
    staff = dict(session.execute(select(User.username, User.id).where(User.username.like("sb\\_%", escape="\\"))).all())
    clerks = {unit.id: staff.get(f"sb_{unit.code}") for unit in session.scalars(select(OrgUnit))}
    for i in range(n_cases):
        client = first_client + rnd.randrange(n_partners)
        opened = today - timedelta(days=rnd.randrange(0, 3 * 365))
        closed = opened + timedelta(days=rnd.randint(20, 200)) if rnd.random() < 0.55 else None
        if closed and closed > today:
            closed = None
        unit_id = unit_of[client]
        cases.append(_derived(ent("case"), {
            "id": case_id, "client_id": client, "file_number": f"{opened.year}/{case_id:06d}", "opened_on": opened,
            "closed_on": closed, "status_id": cats["case_status"]["closed" if closed else "open"],
            "clerk": None, "clerk_user_id": clerks.get(unit_id), "org_unit_id": unit_id}, now))
        members.append({"id": hm_id, "case_id": case_id, "member_id": client, "org_unit_id": unit_id,
                        "relation_id": None, "moved_in_on": opened, **_stamp(now)})
        threat = rnd.choice(["raeumungsklage", "raeumungsklage", "kuendigung", "zwangsraeumung", "energiesperre"])
        emergencies.append({
            "id": he_id, "case_id": case_id, "org_unit_id": unit_id, "started_on": opened,
            "legal_basis_id": cats["legal_basis"]["sgb2_22" if rnd.random() < 0.7 else "sgb12_36"],
            "energy_debts_only": threat == "energiesperre", "known_through_id": cats["known_through"][
                "amtsgericht" if threat == "raeumungsklage" else "gerichtsvollzieher" if threat == "zwangsraeumung"
                else "selbstmelder"],
            "known_on": opened, "threatened_by_id": threats[threat],
            "eviction_date": opened + timedelta(days=rnd.randint(20, 90)) if threat == "zwangsraeumung" else None,
            "rent_arrears": Decimal(rnd.randint(300, 9000)) + Decimal("0.50"),
            "closed_on": closed, "result_id": rnd.choice(results) if closed else None, **_stamp(now)})
        case_id, hm_id, he_id = case_id + 1, hm_id + 1, he_id + 1
    _insert(session, Case, cases)
    _insert(session, HM, members)
    _insert(session, HE, emergencies)
    # The rows above carry their own ids: PostgreSQL's sequences must follow, or the next partner or
    # case typed into a form collides with id 1.
    reset_sequences(session)
    session.flush()


def demo_letterheads(session, spec) -> None:
    """Letterhead data for the demo offices and clerks, so the demo letters come out complete."""
    from flask_appbuilder.security.sqla.models import User

    have_office = set(session.scalars(select(OfficeDetails.org_unit_id)))
    for n, unit in enumerate(session.scalars(select(OrgUnit).order_by(OrgUnit.id)), start=1):
        if unit.id not in have_office:
            session.add(OfficeDetails(
                org_unit_id=unit.id, authority=spec.settings.city_name,
                consultation_hours="Offene Sprechstunde: Dienstag und Donnerstag 9–12 Uhr; telefonisch Montag bis "
                                   "Donnerstag 9–15 Uhr, Freitag 9–13 Uhr",
                legal_remedy="Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch "
                             "erhoben werden."))
        for prefix, room in (("sb", 100 + n), ("sa", 200 + n), ("tl", 300 + n)):
            user = session.scalars(select(User).where(User.username == f"{prefix}_{unit.code}")).first()
            if user is not None and session.scalars(select(StaffDetails).where(
                    StaffDetails.user_id == user.id)).first() is None:
                session.add(StaffDetails(user_id=user.id, room=str(room), phone=f"030 9018-{room}",
                                         sign=f"{prefix.upper()}-{unit.code[:3].upper()}"))
    session.flush()


def document_recent_cases(session, registry, seed: int, per_unit: int = 12) -> int:
    """The newest open cases of each unit get the lawsuit procedure's entries through the normal rules,
    so the demo worklist has overdue, due and upcoming tasks (entries written one by one, not in bulk)."""
    from flask_appbuilder.security.sqla.models import User

    rnd = random.Random(seed + 1)
    case, entry, service = (registry.model(n) for n in ("case", "doc_entry", "service"))
    services = {s.code: s for s in session.scalars(select(service))}
    if not {"klage_eingang", "einladung_raeumungsklage", "beratung_telefonisch"} <= services.keys():
        return 0
    today, made = clock.today(), 0
    for unit in session.scalars(select(OrgUnit).order_by(OrgUnit.id)):
        clerk = session.scalars(select(User).where(User.username == f"sb_{unit.code}")).first()
        cases = session.scalars(select(case).where(case.org_unit_id == unit.id, case.closed_on.is_(None))
                                .order_by(case.opened_on.desc(), case.id.desc()).limit(per_unit))
        for n, c in enumerate(cases):
            received = today - timedelta(days=rnd.randint(1, 20))
            steps = [("klage_eingang", received, "Mitteilung des Amtsgerichts")]
            if n % 3:  # two of three got their letter, some of those a reaction
                steps.append(("einladung_raeumungsklage", received + timedelta(days=rnd.randint(1, 4)),
                              "Standardanschreiben mit Termin"))
                if n % 3 == 2:
                    steps.append(("beratung_telefonisch", received + timedelta(days=6), "Rückruf der Klientin/des Klienten"))
            for code, on, info in steps:
                if on > today:
                    continue
                record = entry(case=c, service=services[code], entry_date=on, info=info,
                               provider_id=clerk.id if clerk else None)
                record.org_unit_id = c.org_unit_id
                with acting_as("demo"):
                    session.add(record)
                    session.flush()
                made += 1
    return made


def _stamp(now: datetime) -> dict:
    return {"created_at": now, "updated_at": now, "created_by": "demo", "updated_by": "demo"}


def _streets(session, fake, rnd) -> list[tuple[str, str, str, str]]:
    """Reuse the imported street directory, or make a small one and store it for the street picker."""
    existing = [(s.name, s.postcode, s.city, s.district) for s in session.scalars(select(Street).limit(2000))]
    if existing:
        return existing
    districts = ["Altstadt", "Nordviertel", "Südstadt", "Weststadt", "Oststadt", "Am Bahnhof"]
    made = {}
    while len(made) < 150:
        name = fake.street_name()
        made[name] = (name, f"{rnd.randint(10, 99)}{rnd.randint(100, 999)}", "Musterstadt", rnd.choice(districts))
    session.execute(insert(Street.__table__), [{"name": n, "name_lc": n.lower(), "postcode": p, "city": c,
                                                "district": d} for n, p, c, d in made.values()])
    return list(made.values())
