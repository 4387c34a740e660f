"""Seed catalogues and org units from YAML into the database (missing values only).

Admins edit them in the running app afterwards; a later seed never overwrites their changes.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core_models import CatalogueValue, OrgUnit
from ..letters.versions import seed_letter_templates
from ..metamodel.build_models import built_registry
from ..metamodel.spec import AppSpec
from .fees import seed_fee_tariffs
from .history import acting_as


def seed_catalogues(session: Session, spec: AppSpec) -> int:
    existing = {(c, code) for c, code in session.execute(select(CatalogueValue.catalogue, CatalogueValue.code))}
    added = 0
    for catalogue in spec.catalogues:
        for sort, value in enumerate(catalogue.values):
            if (catalogue.name, value.code) not in existing:
                session.add(CatalogueValue(catalogue=catalogue.name, code=value.code, label=value.label,
                                           group=value.group, sort=sort * 10, active=True))
                added += 1
    session.flush()
    return added


def seed_org_units(session: Session, spec: AppSpec) -> int:
    existing = set(session.scalars(select(OrgUnit.code)))
    added = 0
    for unit in spec.settings.org_units:
        if unit.code not in existing:
            session.add(OrgUnit(code=unit.code, name=unit.name, address=unit.address, email=unit.email,
                                phone=unit.phone, active=True))
            added += 1
    session.flush()
    return added


def seed_services(session: Session, spec: AppSpec) -> int:
    """The Leistungskatalog from services.yaml: missing codes are added, existing ones never overwritten."""
    registry = built_registry()
    if registry is None or "service" not in registry.entities or not spec.services:
        return 0
    model = registry.model("service")
    existing = set(session.scalars(select(model.code)))
    values = {(v.catalogue, v.code): v for v in session.scalars(select(CatalogueValue))}
    added = 0
    for item in spec.services:
        if item.code in existing:
            continue
        follow = item.follow_up
        record = model(code=item.code, name=item.name, product_number=item.product_number,
                       group=values.get(("service_group", item.group)),
                       measurement_point=values.get(("measurement_point", item.measurement_point)),
                       counts_as_contact=item.counts_as_contact, letter_template=item.letter_template,
                       follow_up_days=follow.days if follow else None, follow_up_title=follow.title if follow else None,
                       follow_up_closed_by=values.get(("measurement_point", follow.closed_by)) if follow else None,
                       follow_up_cancel_on_contact=follow.cancel_on_contact if follow else False,
                       active_from=item.active_from, active_to=item.active_to)
        with acting_as("system"):
            session.add(record)
            session.flush()
        added += 1
    return added


def seed_all(session: Session, spec: AppSpec) -> dict[str, int]:
    """Everything an installation gets from YAML: catalogues, org units, services (then the caller commits)."""
    return {"catalogues": seed_catalogues(session, spec), "org_units": seed_org_units(session, spec),
            "services": seed_services(session, spec), "letter_templates": seed_letter_templates(session),
            "fee_tariffs": seed_fee_tariffs(session)}  # #12: Gebührentarife aus fees.yaml


def catalogue_value(session: Session, catalogue: str, code: str) -> CatalogueValue | None:
    return session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == catalogue,
                                                        CatalogueValue.code == code)).first()
