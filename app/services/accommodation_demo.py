"""Demo shelters and occupancies (#12), so the occupancy board of ``fachstelle demo`` is not empty.

Per org unit (at most four) two shelters with rooms, offer attributes and places; about half of the places
are occupied by the unit's clients through the normal booking service (history, checks), one is reserved.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from .. import clock
from ..actor import Actor
from ..core_models import CatalogueValue, OrgUnit
from .history import acting_as
from .occupancy import Booking, book, reserve

SHELTERS = [
    # name, type, provider, district, rooms: (label, places, m², attributes)
    ("Notunterkunft {city} Am Bahnhof", "notunterkunft", "gemeinde", "Am Bahnhof",
     [("EG 1", 4, "32.5", ["mehrbettzimmer", "barrierefrei", "rollstuhl"]), ("EG 2", 2, "18", ["barrierefrei"]),
      ("OG 1", 4, "30", ["mehrbettzimmer", "nur_maenner"]), ("OG 2", 3, "24", ["nur_frauen", "qualitaetsgeprueft"])]),
    ("Familienhaus {city}", "gemeinschaftsunterkunft", "freier_traeger", "Südstadt",
     [("Wohnung 1", 4, "58", ["familiengeeignet", "kueche", "barrierefrei", "rollstuhl", "qualitaetsgeprueft"]),
      ("Wohnung 2", 5, "64", ["familiengeeignet", "kueche", "haustiere"]),
      ("Wohnung 3", 2, "35", ["familiengeeignet", "kueche", "barrierefrei", "rollstuhl"]),
      ("Zimmer 4", 1, "14", ["einzelzimmer", "raucher"])]),
]


KEEP_FREE = ("Wohnung 1", "Wohnung 3")


def demo_accommodation(session, registry, seed: int = 42) -> int:
    Shelter, Room, Place, Case = (registry.model(n) for n in ("shelter", "room", "place", "case"))
    if session.scalar(select(Shelter.id).limit(1)) is not None:
        return 0
    rnd = random.Random(seed + 12)
    values = {(v.catalogue, v.code): v for v in session.scalars(select(CatalogueValue))}
    today = clock.today()
    made = 0
    units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))[:4]
    for unit in units:
        actor = Actor.system("demo", home_unit=unit.id)
        city = unit.name.split()[-1]
        with acting_as(actor):
            for name, stype, provider, district, rooms in SHELTERS:
                shelter = Shelter(name=name.format(city=city), shelter_type=values[("shelter_type", stype)],
                                  provider_type=values[("provider_type", provider)],
                                  association=values.get(("welfare_association", "caritas")) if provider == "freier_traeger"
                                  else None, district=district, ags="05158016",
                                  capacity=sum(r[1] for r in rooms), valid_from=today - timedelta(days=3 * 365))
                shelter.org_unit_id = unit.id
                session.add(shelter)
                for label, places, area, attrs in rooms:
                    room = Room(shelter=shelter, label=label, places=places, area_m2=area,
                                attributes=[values[("offer_attribute", a)] for a in attrs if ("offer_attribute", a) in values])
                    room.org_unit_id = unit.id
                    session.add(room)
            session.flush()
        # The family flats with wheelchair access stay free: the demo's family of four finds them.
        places = [p for p in session.scalars(select(Place).where(Place.org_unit_id == unit.id).order_by(Place.id))
                  if p.room.label not in KEEP_FREE]
        cases, clients = [], set()
        for case in session.scalars(select(Case).where(Case.org_unit_id == unit.id, Case.closed_on.is_(None))
                                    .order_by(Case.id).limit(4 * len(places))):
            if case.client_id not in clients and len(cases) < len(places):
                clients.add(case.client_id)
                cases.append(case)
        waiting = list(cases)
        for i, place in enumerate(places):
            if i % 2 or not waiting:
                continue  # every other place stays free
            codes = {a.code for a in place.room.attributes}
            wanted = "female" if "nur_frauen" in codes else "male" if "nur_maenner" in codes else None
            case = next((c for c in waiting if wanted is None or (c.client.sex and c.client.sex.code == wanted)), None)
            if case is None:
                continue
            waiting.remove(case)
            move_in = today - timedelta(days=rnd.randint(3, 200))
            move_out = today + timedelta(days=rnd.randint(5, 60)) if rnd.random() < 0.3 else None
            book(session, actor, Booking(case.id, case.client_id, place.id, move_in, move_out,
                                         "obg" if rnd.random() < 0.8 else "sgb12_67", "jobcenter"), commit=False)
            made += 1
        free_cases = waiting
        free = [p for i, p in enumerate(places) if i % 2]
        if free and free_cases:
            reserve(session, actor, case_id=free_cases[0].id, place_id=free[0].id, reserved_from=today,
                    expires_on=today + timedelta(days=2), commit=False)
        session.commit()
    return made
