"""The permission matrix: every profile × entity × action × channel, expected from config/roles.yaml.

Nothing here is hard-coded per profile: the expected result comes from the profile's level for the
entity (none/read/write/delete, ``build_roles.LEVEL_ACTIONS``); the users are ``<profile>_nord`` and
``admin`` (role Admin, everything). Allowed means 2xx/3xx and the data is there (or written);
denied means 401/403/404 (or a redirect to the login) and neither the record's data in the body nor
any change in the database. HTML delete is a POST (with CSRF on, FAB refuses a GET delete).

One record set per module (``matrix``); adds and deletes clean up after themselves.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from app.web.build_roles import LEVEL_ACTIONS
from app.metamodel.loader import load_spec
from app.metamodel.spec import AppSpec, EntitySpec, FieldSpec
from tests.conftest import ROOT, purge_entity_rows, username

FILE_SPEC = load_spec(ROOT / "config", None)
PROFILES = ["Admin", *(p.name for p in FILE_SPEC.roles.profiles)]
ENTITIES = [e.name for e in FILE_SPEC.entities]
ACTIONS = ("list", "show", "add", "edit", "delete")
CHANNELS = ("html", "rest")
UNIT = "nord"
DENIED = (401, 403, 404)
_counter = itertools.count(1)


def is_allowed(spec: AppSpec, profile_name: str, entity_name: str, action: str) -> bool:
    """What roles.yaml grants: the profile's level for the entity, mapped through LEVEL_ACTIONS."""
    if profile_name == "Admin":  # FAB's admin role holds every permission
        return True
    profile = next(p for p in spec.roles.profiles if p.name == profile_name)
    level = profile.entities.get(entity_name, profile.default)
    return f"can_{action}" in LEVEL_ACTIONS[level]


def user_of(profile_name: str) -> str:
    return "admin" if profile_name == "Admin" else username(profile_name, UNIT)


def route(entity_name: str) -> str:
    return "/" + entity_name.replace("_", "-")


# --- values derived from the entity spec ------------------------------------------------------------

_PLAIN = ("string", "text", "date", "money", "decimal", "integer")


def marker_field(entity: EntitySpec) -> FieldSpec:
    """The field whose (unique) value proves a body shows this record: listed strings first, then dates.
    Not a sensitive field where there is another: a profile that may only list the page sees it masked (#15)."""
    fields = [f for f in entity.fields if not f.hidden and f.show_in_edit and not f.regex and not f.read_only]
    for plain in ([f for f in fields if not f.sensitive], fields):
        for kinds, listed in ((("string",), True), (("date",), True), (("string", "text"), False), (("date",), False)):
            for f in plain:
                if f.type in kinds and (f.show_in_list or not listed):
                    return f
    raise AssertionError(f"{entity.name}: kein Feld für eine Markierung")


def edit_field(entity: EntitySpec) -> FieldSpec:
    """A plain field other than the marker that an edit changes."""
    marker = marker_field(entity)
    return next(f for f in entity.fields if f.type in _PLAIN and f.name != marker.name and not f.regex
                and not f.hidden and f.show_in_edit and not f.read_only)


def marker_value(spec: AppSpec, entity: EntitySpec):
    f = marker_field(entity)
    if f.type == "date":  # a year no other record uses
        return date(1901 + [e.name for e in spec.entities].index(entity.name), 4, 3)
    return f"Mx{entity.name.replace('_', '')}"


def marker_texts(value) -> tuple[str, str]:
    """How the marker reads in HTML and in JSON."""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y"), value.isoformat()
    return value, value


# Entities whose rules refuse a second record like the first: the variant gets values of its own.
# #12: a place is booked once a night and a person accommodated once a night, so the second stay ends the
# day the first begins (back to back).
VARIANTS = {
    "occupancy": lambda values, variant: {} if not variant else {
        "move_in": values["move_in"] - timedelta(days=10 * variant),
        "move_out": values["move_in"] - timedelta(days=10 * (variant - 1))},
}


def edit_value(f: FieldSpec):
    n = next(_counter)
    if f.type == "date":
        return date(2030, 1, 1) + timedelta(days=n)
    if f.type in ("money", "decimal"):
        return Decimal("100.00") + n if f.max is None else min(Decimal("100.00") + n, Decimal(str(f.max)))
    if f.type == "integer":
        return 100 + n if f.max is None else min(100 + n, int(f.max))  # a field's maximum holds (#12)
    return f"E{n}"


@dataclass
class Matrix:
    spec: AppSpec
    registry: object
    ids: dict[str, int]  # entity -> the module's record in unit nord
    choice_ids: dict[str, list[int]]  # catalogue -> value ids in spec order (default first)
    unit_id: int

    def values(self, entity: EntitySpec, variant: int) -> dict:
        """Required fields and the marker, as Python values keyed by field name (refs/choices as ids).

        ``variant`` picks other catalogue values for uniquely constrained fields, so a second record
        can stand beside the first.
        """
        marker = marker_field(entity)
        unique = {name for constraint in entity.unique for name in constraint.fields}
        out = {}
        for f in entity.fields:
            if f.name == marker.name:
                out[f.name] = marker_value(self.spec, entity)
                if variant and (f.unique or f.name in unique) and isinstance(out[f.name], str):
                    out[f.name] += str(variant)  # a second shelter or room needs a name of its own
            elif not f.required or f.type in ("boolean", "multichoice", "file"):
                continue
            elif f.type == "ref":
                out[f.name] = self.ids[f.ref]
            elif f.type == "choice":
                out[f.name] = self.choice_ids[self._choice_key(f)][variant if f.name in unique else 0]
            elif f.type == "date":
                out[f.name] = date(2024, 1, 2)
            elif f.type in ("money", "decimal"):
                out[f.name] = Decimal("12.50")
            elif f.type == "integer":
                out[f.name] = 1
            elif f.unique:
                out[f.name] = f"x{variant}"  # a second record needs a value of its own
            else:
                out[f.name] = "x"
        out.update(VARIANTS.get(entity.name, lambda *_: {})(out, variant))
        return out

    def _choice_key(self, f: FieldSpec) -> str:
        return f.catalogue if f.default is None else f"{f.catalogue}:{f.default}"

    def form(self, values: dict) -> dict:
        return {name: (v.strftime("%d.%m.%Y") if isinstance(v, date) else str(v)) for name, v in values.items()}

    def body(self, values: dict) -> dict:
        return {name: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
                for name, v in values.items()}


def _attributes(entity: EntitySpec, values: dict) -> dict:
    by_name = {f.name: f for f in entity.fields}
    return {(f"{k}_id" if by_name[k].type in ("ref", "choice") else k): v for k, v in values.items()}


def _dependency_order(spec: AppSpec) -> list[EntitySpec]:
    done: list[EntitySpec] = []
    pending = list(spec.entities)
    while pending:
        for entity in pending:
            needs = {f.ref for f in entity.fields if f.type == "ref" and f.required and f.ref != entity.name}
            if needs <= {e.name for e in done}:
                done.append(entity)
                pending.remove(entity)
                break
        else:
            raise AssertionError(f"zyklische Pflichtverweise: {[e.name for e in pending]}")
    return done


def insert_record(app, matrix: Matrix, entity: EntitySpec, variant: int) -> int:
    """Write a record of unit nord directly, as the CLI would."""
    from app.extensions import db
    from app.services.history import acting_as
    with app.app_context():
        model = matrix.registry.model(entity.name)
        record = model(**_attributes(entity, matrix.values(entity, variant)))
        if hasattr(model, "org_unit_id"):
            record.org_unit_id = matrix.unit_id
        with acting_as("test"):
            db.session.add(record)
            db.session.commit()
        record_id = record.id
        db.session.remove()
    return record_id


@pytest.fixture(scope="module")
def matrix(app):
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    spec = app.config["FACHSTELLE_SPEC"]
    with app.app_context():
        unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == UNIT))
        choice_ids: dict[str, list[int]] = {}
        for catalogue in spec.catalogues:
            by_code = dict(db.session.execute(select(CatalogueValue.code, CatalogueValue.id)
                                              .where(CatalogueValue.catalogue == catalogue.name)).all())
            ordered = [by_code[v.code] for v in catalogue.values]
            choice_ids[catalogue.name] = ordered
            for v in catalogue.values:
                choice_ids[f"{catalogue.name}:{v.code}"] = [by_code[v.code], *[i for i in ordered if i != by_code[v.code]]]
        db.session.remove()
    result = Matrix(spec, app.config["FACHSTELLE_REGISTRY"], {}, choice_ids, unit_id)
    for entity in _dependency_order(spec):
        result.ids[entity.name] = insert_record(app, result, entity, variant=0)
    yield result
    purge_entity_rows(app)


def _row(app, matrix: Matrix, entity_name: str, record_id: int):
    """The record's current values (None if it is gone), read in a fresh session."""
    from app.extensions import db
    with app.app_context():
        model = matrix.registry.model(entity_name)
        row = db.session.get(model, record_id)
        values = None if row is None else {c.key: getattr(row, c.key) for c in model.__table__.columns}
        db.session.remove()
    return values


def _max_id(app, matrix: Matrix, entity_name: str) -> int:
    from app.extensions import db
    with app.app_context():
        model = matrix.registry.model(entity_name)
        value = db.session.scalar(select(func.coalesce(func.max(model.id), 0)))
        db.session.remove()
    return value


def _delete_above(app, matrix: Matrix, entity_name: str, record_id: int) -> int:
    from app.extensions import db
    with app.app_context():
        model = matrix.registry.model(entity_name)
        # Rows made along with the new records (#12: the places of a new room) go first.
        for other in matrix.spec.entities:
            for f in other.fields:
                if f.type == "ref" and f.ref == entity_name and other.name != entity_name:
                    child = matrix.registry.model(other.name)
                    db.session.execute(delete(child).where(getattr(child, f"{f.name}_id") > record_id))
        count = db.session.execute(delete(model).where(model.id > record_id)).rowcount
        db.session.commit()
        db.session.remove()
    return count


def _read_flashes(client) -> None:
    """The user reads the success message of their own save ("Fallakte Mxcase gespeichert.", #11 names the
    record): left pending, it would show on this user's next page, e.g. a refused delete, and look like a leak."""
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def _assert_denied(response, *markers: str) -> None:
    body = response.get_data(as_text=True)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"], response.headers["Location"]
    else:
        assert response.status_code in DENIED, (response.status_code, body[:500])
    for marker in markers:
        assert marker not in body, f"{marker!r} im Körper einer verweigerten Antwort"


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("entity_name", ENTITIES)
@pytest.mark.parametrize("profile", PROFILES)
def test_matrix(app, matrix, user_client, profile, entity_name, action, channel):
    spec = matrix.spec
    entity = spec.entity(entity_name)
    allowed = is_allowed(spec, profile, entity_name, action)
    client = user_client(user_of(profile))
    record_id = matrix.ids[entity_name]
    html_marker, json_marker = marker_texts(marker_value(spec, entity))
    marker = html_marker if channel == "html" else json_marker
    base = route(entity_name) if channel == "html" else f"/api/v1/{entity_name}"
    show_link = f"{route(entity_name)}/show/{record_id}"

    if action == "list":
        response = client.get(f"{base}/list/" if channel == "html" else f"{base}/")
        if not allowed:
            return _assert_denied(response, marker, show_link)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, body[:500]
        if channel == "html":
            # A list-only profile (#15, level "list") sees the rows but no link into a record.
            assert (show_link in body) == is_allowed(spec, profile, entity_name, "show")
        else:
            assert record_id in response.json["ids"]
        if marker_field(entity).show_in_list or channel == "rest":
            assert marker in body

    elif action == "show":
        response = client.get(f"{base}/show/{record_id}" if channel == "html" else f"{base}/{record_id}")
        if not allowed:
            return _assert_denied(response, marker)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert marker in response.get_data(as_text=True)

    elif action == "add":
        before = _max_id(app, matrix, entity_name)
        # A help plan's review date and a measure's due date make tasks (#15): they go with the added record.
        tasks_before = _max_id(app, matrix, "task") if entity_name != "task" else None
        values = matrix.values(entity, variant=1)
        try:
            if channel == "html":
                form_page = client.get(f"{base}/add")
                assert (form_page.status_code == 200) == allowed, form_page.status_code
                response = client.post(f"{base}/add", data=matrix.form(values))
            else:
                response = client.post(f"{base}/", json=matrix.body(values))
            if not allowed:
                _assert_denied(response)
                assert _max_id(app, matrix, entity_name) == before, "verweigertes Anlegen hat geschrieben"
                return
            assert response.status_code == (302 if channel == "html" else 201), response.get_data(as_text=True)[:800]
            _read_flashes(client)
            new_id = _max_id(app, matrix, entity_name)
            assert new_id > before
            assert _row(app, matrix, entity_name, new_id) is not None
        finally:
            _delete_above(app, matrix, entity_name, max(before, record_id))
            if tasks_before is not None:
                _delete_above(app, matrix, "task", max(tasks_before, matrix.ids["task"]))

    elif action == "edit":
        f = edit_field(entity)
        column = f"{f.name}_id" if f.type in ("ref", "choice") else f.name
        old = _row(app, matrix, entity_name, record_id)[column]
        new = edit_value(f)
        if channel == "html":
            form_page = client.get(f"{base}/edit/{record_id}")
            if allowed:
                assert form_page.status_code == 200 and html_marker in form_page.get_data(as_text=True)
            else:
                _assert_denied(form_page, html_marker)
            data = matrix.form({**matrix.values(entity, variant=0), f.name: new})
            response = client.post(f"{base}/edit/{record_id}", data=data)
        else:
            response = client.put(f"{base}/{record_id}", json=matrix.body({f.name: new}))
        now = _row(app, matrix, entity_name, record_id)[column]
        if not allowed:
            _assert_denied(response, marker)
            assert now == old, "verweigertes Bearbeiten hat geschrieben"
            return
        assert response.status_code == (302 if channel == "html" else 200), response.get_data(as_text=True)[:800]
        _read_flashes(client)
        assert now == new

    elif action == "delete":
        victim = insert_record(app, matrix, entity, variant=1)
        try:
            if channel == "html":
                response = client.post(f"{base}/delete/{victim}")
            else:
                response = client.delete(f"{base}/{victim}")
            gone = _row(app, matrix, entity_name, victim) is None
            if not allowed:
                _assert_denied(response, marker)
                assert not gone, "verweigertes Löschen hat gelöscht"
                return
            assert response.status_code == (302 if channel == "html" else 200), response.get_data(as_text=True)[:800]
            assert gone
        finally:
            _delete_above(app, matrix, entity_name, max(victim - 1, record_id))


def test_get_never_deletes(app, matrix, user_client):
    """A GET on the delete URL changes nothing, even for a profile that may delete (FAB with CSRF on)."""
    entity = matrix.spec.entity("contact")
    victim = insert_record(app, matrix, entity, variant=1)
    try:
        response = user_client("admin").get(f"{route('contact')}/delete/{victim}")
        assert response.status_code in (302, 405)
        assert _row(app, matrix, "contact", victim) is not None
    finally:
        _delete_above(app, matrix, "contact", max(victim - 1, matrix.ids["contact"]))


def test_matrix_covers_every_level():
    """The matrix is only a proof if roles.yaml exercises both outcomes for every action."""
    outcomes = {(action, is_allowed(FILE_SPEC, p, e, action)) for p in PROFILES for e in ENTITIES for action in ACTIONS}
    assert outcomes == {(a, b) for a in ACTIONS for b in (True, False)}, json.dumps(sorted(outcomes))
