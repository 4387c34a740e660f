"""The documentation entry a letter stands for (a letter sent is documentation)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..metamodel.build_models import built_registry


def entry_for_letter(session: Session, case, template_code: str, user, on: date):
    """The documentation entry a letter stands for: the active service whose letter template it is.

    A letter sent is documentation (and for the standard letters a measurement point of the indicators),
    so letters made outside an entry (series, the case's letter page) record one. None if no service
    uses the template.
    """
    service_model = built_registry().model("service")
    query = (select(service_model).where(service_model.letter_template == template_code)
             .order_by(service_model.id))
    service = next((s for s in session.scalars(query)
                    if (s.active_to is None or s.active_to >= on) and (s.active_from is None or s.active_from <= on)),
                   None)
    if service is None:
        return None
    entry = built_registry().model("doc_entry")(case=case, service=service, entry_date=on, info="Brief",
                                                provider=user)
    entry.org_unit_id = case.org_unit_id
    session.add(entry)
    session.flush()
    return entry
