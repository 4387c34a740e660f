"""Org-unit isolation: the one query filter every read path goes through.

A user sees the records of the org units they belong to; records without an org unit on "shared"
entities (courts, job centres) are visible to all. Users with the role "Admin" see every unit.
List, show, edit, delete, related lists, REST, type-ahead, history and exports all call
``scope_query`` or use ``OrgUnitFilter`` (which calls it), so there is a single rule to test.

Who is asking is an ``Actor`` (app/actor.py), made at the edge and passed in as ``actor=``. Without one,
inside a web request the signed-in user's actor is used (``app.web.actor.current_actor``); outside a
request (CLI, job, test) nothing is visible — fail closed. A job that must see everything says so with
``Actor.system()``.
"""
from __future__ import annotations

import logging

from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import or_

from .actor import Actor, request_actor
from .core_models import OrgUnit

ALL_UNITS = None  # marker: no restriction

log = logging.getLogger(__name__)


def resolve_actor(actor: Actor | None = None) -> Actor:
    """The given actor; else the web request's; else (no request) ``Actor.nobody()``, who sees nothing."""
    if actor is not None:
        return actor
    found = request_actor()
    if found is not None:
        return found
    log.warning("Scoped read outside a request without an actor: nothing is visible (pass actor=Actor.system()).")
    return Actor.nobody()


def visible_org_unit_ids(actor: Actor | None = None) -> list[int] | None:
    """The org unit ids the actor may see, or None for all (admins, ``Actor.system()``)."""
    return resolve_actor(actor).visible_units


def home_org_unit_id(actor: Actor | None = None) -> int | None:
    """The unit a new record of the actor belongs to; None: the actor may not create records."""
    return resolve_actor(actor).home_unit


def org_condition(model, ids: list[int] | None, shared: bool):
    """The SQL condition for ``model`` rows visible to ``ids`` (None: everything)."""
    if ids is None or not hasattr(model, "org_unit_id"):
        return None
    column = model.org_unit_id
    condition = column.in_(ids) if ids else column.in_([-1])
    return or_(condition, column.is_(None)) if shared else condition


def scope_query(query, model, shared: bool | None = None, *, actor: Actor | None = None):
    """Restrict a Query (legacy) or Select to what the actor may see (see the module docstring)."""
    if shared is None:
        shared = getattr(model, "__org_scope__", "required") == "shared"
    condition = org_condition(model, visible_org_unit_ids(actor), shared)
    if condition is None:
        return query
    return query.filter(condition) if hasattr(query, "filter") else query.where(condition)


def can_see_record(record, actor: Actor | None = None) -> bool:
    ids = visible_org_unit_ids(actor)
    if ids is None or not hasattr(record, "org_unit_id"):
        return True
    if record.org_unit_id is None:
        return getattr(type(record), "__org_scope__", "required") == "shared"
    return record.org_unit_id in ids


class OrgUnitFilter(BaseFilter):
    """FAB base filter: applied to list, show, edit, delete and the REST API of every entity.

    FAB calls it inside the request: the actor is the signed-in user's.
    """

    name = "Dienststelle"
    arg_name = "orgunit"

    def apply(self, query, value):
        return scope_query(query, self.model)


class UserOfMyUnitsFilter(BaseFilter):
    """Staff pickers (provider, assignee) offer active colleagues of the user's own org units."""

    name = "Kollegium"
    arg_name = "myunits"

    def apply(self, query, value):
        query = query.filter(self.model.active.is_(True))
        ids = visible_org_unit_ids()
        if ids is None:
            return query
        return query.filter(self.model.org_units.any(OrgUnit.id.in_(ids or [-1])))
