"""The REST API's schemas (app/web/api_schemas.py) dump exactly what FAB's own schemas dump.

For every generated API, list and show schemas are built twice, with FAB's ``Model2SchemaConverter`` and
with ours (``PlainNested`` for nested records of plain columns), and both dump the same records.
"""
from __future__ import annotations

from datetime import date

from flask_appbuilder.api.convert import Model2SchemaConverter

from app.web.api_schemas import PlainNested, public_columns
from app.web.entity_api import EntityRestApi


def _records(factory):
    value = factory.value
    person = factory("partner", "nord", kind=value("partner_kind", "person"), surname="Schema", first_name="Sina",
                     birth_date=date(1977, 7, 7), sex=value("sex", "female"),
                     person_group=value("person_group", "sonstige"))
    officer = factory("partner", "nord", kind=value("partner_kind", "person"), surname="Bewährung")
    case = factory("case", "nord", client=person, opened_on=date(2026, 3, 2), file_number="2026/S1",
                   status=value("case_status", "open"))
    factory("household_member", "nord", case=case, member=person, moved_in_on=date(2020, 1, 1))
    factory("social_situation", "nord", case=case, person=person, probation_officer=officer,
            probation_until=date(2027, 1, 31), addiction=[value("addiction", "alkohol")])


def _with_public_children(datamodel, columns):
    # FAB's own way to nest only some columns of a reference: dotted names ("client.surname").
    out = []
    for column in columns:
        public = (public_columns(datamodel.get_related_model(column))
                  if datamodel.is_relation_many_to_one(column) else None)
        out += [f"{column}.{name}" for name in public] if public else [column]
    return out


def test_plain_nested_dumps_like_fab(ctx, factory):
    from app.extensions import db

    _records(factory)
    apis = [api for api in ctx.appbuilder.baseviews if isinstance(api, EntityRestApi)]
    assert len(apis) == len(ctx.config["FACHSTELLE_REGISTRY"].entities)
    compared = plain_used = 0
    for api in apis:
        rows = db.session.query(api.datamodel.obj).order_by(api.datamodel.obj.id).limit(5).all()
        fab = Model2SchemaConverter(api.datamodel, api.validators_columns)
        for kind, columns in (("list", api.list_columns), ("show", api.show_columns)):
            ours = getattr(api, f"{kind}_model_schema")
            theirs = fab.convert(_with_public_children(api.datamodel, columns),
                                 parent_schema_name=getattr(api, f"{kind}_model_schema_name"))
            assert ours.dump(rows, many=True) == theirs.dump(rows, many=True), (api.resource_name, kind)
            compared += len(rows)
            plain_used += sum(isinstance(f, PlainNested) and f._plain_fields() is not None
                              for f in ours.dump_fields.values())
    assert compared >= 10 and plain_used >= 3


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_nested_records_show_no_engine_columns(client, factory):
    # Search twins, phonetic codes and audit columns of a referenced record stay inside the engine.
    from tests.conftest import login

    _records(factory)
    login(client, "admin")
    for url in ("/api/v1/case/", "/api/v1/household_member/", "/api/v1/social_situation/"):
        result = client.get(url).get_json()["result"]
        assert result, url
        keys = _keys(result)
        assert not {k for k in keys if k.endswith(("_lc", "_phon")) or k == "org_unit_id"}, url
    nested = client.get("/api/v1/case/").get_json()["result"][0]["client"]
    assert {"id", "surname", "first_name", "birth_date"} <= set(nested) and "created_by" not in nested
