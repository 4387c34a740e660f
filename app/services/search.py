"""The one search box: partners by name or birth date, cases by Aktenzeichen – only what the actor may see.

Every look-up reads an index (city size: 200,000 partners, 300,000 cases): the lower-case twin columns
for "begins with" (``surname_lc``, ``first_name_lc``, ``file_number_lc``, see ``app/web/filters.py``), the
birth date's index, the Kölner Phonetik columns of the duplicate check when no name begins so, and the
cases by their client. Each look-up is capped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..actor import Actor
from ..domain.phonetics import phonetic
from ..domain.quick_search import Query
from ..metamodel.build_models import built_registry
from ..scoping import scope_query

LIMIT = 25
PREFIX_END = "\uffff"


@dataclass
class SearchResult:
    partners: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    more: bool = False          # a look-up hit its cap: the clerk should type more
    sounds_alike: bool = False  # no name began so; these sound alike

    def single(self):
        """The one record to open directly, or None: one case (by Aktenzeichen, or the only case of the only
        partner found), else the only partner. A name that only sounds alike is listed, never opened."""
        if self.sounds_alike:
            return None
        if len(self.cases) == 1 and len(self.partners) <= 1:
            return self.cases[0]
        if len(self.partners) == 1 and not self.cases:
            return self.partners[0]
        return None


def _begins(column, text: str):
    return (column >= text) & (column < text + PREFIX_END)


def quick_search(session: Session, query: Query, actor: Actor | None, *, cases: bool = True) -> SearchResult:
    registry = built_registry()
    partner, case = registry.model("partner"), registry.model("case")
    result = SearchResult()

    def fetch(model, condition, order):
        query = scope_query(select(model).where(condition), model, actor=actor)
        if model is case:  # the result table shows client and status: loaded with the page, not per row
            query = query.options(selectinload(case.client), selectinload(case.status))
        rows = list(session.scalars(query.order_by(*order).limit(LIMIT + 1)))
        if len(rows) > LIMIT:
            result.more = True
        return rows[:LIMIT]

    by_name = (partner.surname_lc, partner.first_name_lc, partner.id)
    found: dict[int, object] = {}
    if query.birth_date:
        for row in fetch(partner, partner.birth_date == query.birth_date, by_name):
            found.setdefault(row.id, row)
    for surname, first in query.names:
        condition = _begins(partner.surname_lc, surname)
        if first:
            condition &= _begins(partner.first_name_lc, first)
        for row in fetch(partner, condition, by_name):
            found.setdefault(row.id, row)
    if query.names and not found:
        for surname, first in query.names:
            codes = phonetic(surname)
            if not codes:
                continue
            condition = partner.surname_phon == codes
            if first and phonetic(first):
                condition &= partner.first_name_phon == phonetic(first)
            for row in fetch(partner, condition, by_name):
                found.setdefault(row.id, row)
        result.sounds_alike = bool(found)
    result.partners = list(found.values())[:LIMIT]

    if not cases:
        return result
    newest = (case.opened_on.desc(), case.id.desc())
    if query.file_number:
        seen: dict[int, object] = {}
        for column in (case.file_number_lc, getattr(case, "external_ref_lc", None)):
            if column is not None:
                for row in fetch(case, _begins(column, query.file_number), newest):
                    seen.setdefault(row.id, row)
        result.cases = list(seen.values())[:LIMIT]
    elif result.partners:
        result.cases = fetch(case, case.client_id.in_([p.id for p in result.partners]), newest)
    return result


MY_CASES_LIMIT = 200


def my_cases(session: Session, actor: Actor | None, *, include_closed: bool = False,
             limit: int | None = MY_CASES_LIMIT) -> tuple[list, bool]:
    """ "Meine Fälle": the actor's cases (``clerk_user``), newest first, from the index (clerk_user, opened_on);
    open ones only unless ``include_closed``. Capped; the flag says whether there are more."""
    if actor is None or not actor.user_id:
        return [], False
    case = built_registry().model("case")
    query = select(case).where(case.clerk_user_id == actor.user_id)
    if not include_closed:
        query = query.where(case.closed_on.is_(None))
    rows = list(session.scalars(scope_query(query, case, actor=actor)
                                .options(selectinload(case.client), selectinload(case.status))
                                .order_by(case.opened_on.desc(), case.id.desc())
                                .limit(None if limit is None else limit + 1)))
    if limit is None:  # the XLSX export: every case
        return rows, False
    return rows[:limit], len(rows) > limit
