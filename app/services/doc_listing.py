"""Documentation lists: a case's entries newest first with filters, and the overview across cases.

Filters (all optional): from/to date, provider, catalogue group, service. Every query goes through
``scope_query``; the overview is either the user's own entries (provider = me) or the team's (all
entries of the user's units).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..metamodel.build_models import built_registry
from ..actor import Actor
from ..scoping import scope_query

PAGE_SIZE = 50


@dataclass(frozen=True)
class DocFilter:
    date_from: date | None = None
    date_to: date | None = None
    provider_id: int | None = None
    group_id: int | None = None
    service_id: int | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.provider_id, self.group_id,
                                           self.service_id))


def _filtered(query, entry, service, f: DocFilter):
    if f.date_from:
        query = query.where(entry.entry_date >= f.date_from)
    if f.date_to:
        query = query.where(entry.entry_date <= f.date_to)
    if f.provider_id:
        query = query.where(entry.provider_id == f.provider_id)
    if f.service_id:
        query = query.where(entry.service_id == f.service_id)
    if f.group_id:
        query = query.where(entry.service_id.in_(select(service.id).where(service.group_id == f.group_id)))
    return query


def entries(session: Session, f: DocFilter, *, case_id: int | None = None, provider_id: int | None = None,
            page: int = 0, page_size: int = PAGE_SIZE, actor: Actor | None = None) -> tuple[list, bool]:
    """One page of entries, newest first, and whether there is a next page."""
    registry = built_registry()
    entry, service, case = registry.model("doc_entry"), registry.model("service"), registry.model("case")
    query = select(entry)
    if case_id is not None:
        query = query.where(entry.case_id == case_id)
    if provider_id is not None:
        query = query.where(entry.provider_id == provider_id)
    query = scope_query(_filtered(query, entry, service, f), entry, actor=actor)
    query = (query.order_by(entry.entry_date.desc(), entry.id.desc()).offset(page * page_size).limit(page_size + 1)
             .options(selectinload(entry.service), selectinload(entry.provider),
                      selectinload(entry.case).selectinload(case.client)))
    rows = list(session.scalars(query))
    return rows[:page_size], len(rows) > page_size
