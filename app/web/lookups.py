"""JSON look-ups for forms: type-ahead references, the street picker, the duplicate warning.

Each goes through the same org-unit filter as the lists (``scope_query``) and asks for read access
to the entity it searches.
"""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, current_app, flash, jsonify, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select

from .. import clock
from ..core_models import Street
from ..domain.text import normalise
from ..extensions import db
from ..metamodel.build_models import lc_name, searchable_lc_fields, title_loading
from ..metamodel.kinds.form_fields import parse_german_date
from ..scoping import scope_query
from ..services.partners import find_duplicates
from ..services.save_hooks import on_adding, on_saved
from .actor import current_actor
from .build_views import permission_name
from .filters import PREFIX_END

lookups = Blueprint("lookups", __name__)
LIMIT = 20


def _require(entity_name: str) -> None:
    if not getattr(current_user, "is_authenticated", False):
        abort(401)
    if not current_app.appbuilder.sm.has_access("can_list", permission_name(entity_name)):
        abort(403)


@lookups.get("/typeahead/<entity_name>")
def typeahead(entity_name: str):
    registry = current_app.config["FACHSTELLE_REGISTRY"]
    if entity_name not in registry.entities:
        abort(404)
    _require(entity_name)
    entity, model = registry.entity(entity_name), registry.model(entity_name)
    twins = searchable_lc_fields(entity)
    words = [w for w in normalise(request.args.get("q", "")).replace(",", " ").split() if w]
    query = select(model).options(*title_loading(entity, model))
    if words and twins:
        # "meier hans" searches the first searchable field by the first word, the second by the next.
        for word, field_name in zip(words, twins):
            column = getattr(model, lc_name(field_name))
            query = query.where(column >= word, column < word + PREFIX_END)
        query = query.order_by(getattr(model, lc_name(twins[0])), model.id)
    else:
        query = query.order_by(model.id.desc())
    query = _currently_valid(scope_query(query, model), model).limit(LIMIT)
    results = [{"id": row.id, "text": str(row)} for row in db.session.scalars(query)]
    return jsonify(results=results)


def _currently_valid(query, model):
    """Records with a validity (the service catalogue's "gültig ab/bis") are offered only while valid:
    a retired service stays on old entries but is not chosen for new ones."""
    today = clock.today()
    if hasattr(model, "active_to"):
        query = query.where(or_(model.active_to.is_(None), model.active_to >= today))
    if hasattr(model, "active_from"):
        query = query.where(or_(model.active_from.is_(None), model.active_from <= today))
    return query


@lookups.get("/typeahead-street")
def typeahead_street():
    if not getattr(current_user, "is_authenticated", False):
        abort(401)
    # "Hauptstr. 12" still finds "Hauptstraße": the house number is not part of the street's name.
    word = re.sub(r"\s+\d+\s*[a-z]?$", "", normalise(request.args.get("q", ""))).replace("str.", "straße")
    query = select(Street).order_by(Street.name_lc, Street.postcode).limit(LIMIT)
    if word:
        query = query.where(Street.name_lc >= word, Street.name_lc < word + PREFIX_END)
    return jsonify(results=[{"id": s.id, "text": _street_text(s), "street": s.name, "postcode": s.postcode or "",
                             "city": s.city or "", "district": s.district or ""}
                            for s in db.session.scalars(query)])


def _street_text(street: Street) -> str:
    # What the clerk chooses from: "Hauptstraße, 47112 Musterhausen (Süd)".
    text = ", ".join(part for part in (street.name, " ".join(p for p in (street.postcode, street.city) if p)) if part)
    return f"{text} ({street.district})" if street.district else text


@lookups.get("/partner-duplicates")
def partner_duplicates():
    _require("partner")
    birth: date | None = None
    if request.args.get("birth_date"):
        try:
            birth = parse_german_date(request.args["birth_date"])
        except ValueError:
            birth = None
    exclude = request.args.get("exclude", type=int)
    found = find_duplicates(db.session, request.args.get("surname", ""), request.args.get("first_name", ""),
                            birth, exclude_id=exclude, actor=current_actor())
    return jsonify(results=[{"id": d.partner.id, "text": str(d.partner), "score": d.score,
                             "url": url_for("PartnerView.show", pk=d.partner.id)} for d in found])


@on_adding("partner")
def look_alikes_of_new_partner(values) -> list[tuple[str, str]]:
    """Before a new partner is saved: the partners it may duplicate (surname with first name or birth date)."""
    birth: date | None = None
    if (values.get("birth_date") or "").strip():
        try:
            birth = parse_german_date(values["birth_date"])
        except ValueError:
            birth = None
    found = find_duplicates(db.session, values.get("surname", ""), values.get("first_name", ""), birth,
                            actor=current_actor())
    return [(str(d.partner), url_for("PartnerView.show", pk=d.partner.id)) for d in found]


@on_saved("partner")
def warn_about_duplicates(partner, created: bool) -> None:
    """After a partner is saved from the form: a German warning with links to its likely duplicates.

    The live check in fachstelle.js warns while typing; this one also reaches clerks without JavaScript
    and those who saved anyway.
    """
    found = find_duplicates(db.session, partner.surname, partner.first_name, partner.birth_date,
                            exclude_id=partner.id, actor=current_actor())
    if not found:
        return
    links = Markup(", ").join(
        Markup('<a href="{}">{}</a>').format(url_for("PartnerView.show", pk=d.partner.id), str(d.partner))
        for d in found)
    merge = ""
    if current_app.appbuilder.sm.has_access("can_form", "PartnerMergeView"):
        merge = Markup(' (<a href="{}">zusammenführen</a>)').format(
            url_for("PartnerMergeView.form", survivor=found[0].partner.id, duplicate=partner.id))
    flash(Markup("<strong>Möglicher Doppelsatz:</strong> ") + links + Markup(merge)
          + Markup(" – bitte prüfen, ob {} schon erfasst ist.").format(str(partner)), "warning")
