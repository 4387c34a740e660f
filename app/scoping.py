"""Org-unit isolation: the one query filter every read path goes through.

A user sees the records of the org units they belong to; records without an org unit on "shared"
entities (courts, job centres) are visible to all. Users with the role "Admin" see every unit.
List, show, edit, delete, related lists, REST, type-ahead, history and exports all call
``scope_query`` or use ``OrgUnitFilter`` (which calls it), so there is a single rule to test.
"""
from __future__ import annotations

from flask import g, has_request_context
from flask_appbuilder.models.filters import BaseFilter
from flask_login import current_user
from sqlalchemy import or_

ALL_UNITS = None  # marker: no restriction


def visible_org_unit_ids() -> list[int] | None:
    """The org unit ids the current user may see, or None for all (admins, CLI, tests without request)."""
    if not has_request_context():
        return ALL_UNITS
    user = current_user
    # Cached per request, keyed by the user: a logout and login within one app context (tests) must
    # not hand the previous user's units to the next.
    key = getattr(user, "id", None)
    cached = g.get("_fs_org_units")
    if cached is not None and cached[0] == key:
        return cached[1]
    if not getattr(user, "is_authenticated", False):
        ids: list[int] | None = []
    elif any(role.name == "Admin" for role in getattr(user, "roles", [])):
        ids = ALL_UNITS
    else:
        ids = [unit.id for unit in getattr(user, "org_units", [])]
    g._fs_org_units = (key, ids)
    return ids


def home_org_unit_id() -> int | None:
    """The unit a new record of the current user belongs to (their first unit)."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return None
    units = sorted(getattr(current_user, "org_units", []), key=lambda u: u.id)
    if units:
        return units[0].id
    from .core_models import OrgUnit
    from .extensions import db
    first = db.session.query(OrgUnit.id).order_by(OrgUnit.id).first()
    return first[0] if first else None


def org_condition(model, ids: list[int] | None, shared: bool):
    """The SQL condition for ``model`` rows visible to ``ids`` (None: everything)."""
    if ids is None or not hasattr(model, "org_unit_id"):
        return None
    column = model.org_unit_id
    condition = column.in_(ids) if ids else column.in_([-1])
    return or_(condition, column.is_(None)) if shared else condition


def scope_query(query, model, shared: bool | None = None):
    """Restrict a Query (legacy) or Select to what the current user may see."""
    if shared is None:
        shared = getattr(model, "__org_scope__", "required") == "shared"
    condition = org_condition(model, visible_org_unit_ids(), shared)
    if condition is None:
        return query
    return query.filter(condition) if hasattr(query, "filter") else query.where(condition)


def can_see_record(record) -> bool:
    ids = visible_org_unit_ids()
    if ids is None or not hasattr(record, "org_unit_id"):
        return True
    if record.org_unit_id is None:
        return getattr(type(record), "__org_scope__", "required") == "shared"
    return record.org_unit_id in ids


class OrgUnitFilter(BaseFilter):
    """FAB base filter: applied to list, show, edit, delete and the REST API of every entity."""

    name = "Dienststelle"
    arg_name = "orgunit"

    def apply(self, query, value):
        return scope_query(query, self.model)


class UserOfMyUnitsFilter(BaseFilter):
    """Staff pickers (provider, assignee) offer active colleagues of the user's own org units."""

    name = "Kollegium"
    arg_name = "myunits"

    def apply(self, query, value):
        from .core_models import OrgUnit
        query = query.filter(self.model.active.is_(True))
        ids = visible_org_unit_ids()
        if ids is None:
            return query
        return query.filter(self.model.org_units.any(OrgUnit.id.in_(ids or [-1])))
