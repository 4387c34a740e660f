"""Seed catalogues and org units from YAML into the database (missing values only).

Admins edit them in the running app afterwards; a later seed never overwrites their changes.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core_models import CatalogueValue, OrgUnit
from ..metamodel.spec import AppSpec


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


def catalogue_value(session: Session, catalogue: str, code: str) -> CatalogueValue | None:
    return session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == catalogue,
                                                        CatalogueValue.code == code)).first()
