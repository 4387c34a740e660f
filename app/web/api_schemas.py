"""The REST API's marshmallow schemas, with nested records of plain columns written without a schema.

FAB nests a referenced record (``kind``, ``sex``, ``person_group`` of a partner: catalogue values) as
a marshmallow ``Nested`` schema: a schema dump per reference and row, 75 for a partner list of 25, about
a fifth of the request. When every field of the nested schema is a plain string, integer or boolean
column, its dump is just those attributes, and ``PlainNested`` writes them directly; a nested record
with dates, decimals, own references or anything else is dumped by marshmallow as before.
``tests/integration/test_api_schemas.py`` compares both on the lists and records of every entity.

A referenced YAML record is nested with its public columns only (see ``public_columns``).
"""
from __future__ import annotations

from flask import current_app
from marshmallow import fields

from ..metamodel.kinds import kind_of
from .fab_compat import SchemaConverterWall

_PLAIN = (fields.String, fields.Integer, fields.Boolean)


class PlainNested(fields.Nested):
    """``fields.Nested`` whose dump of a record with plain columns only is a dict of those attributes."""

    _plain: list[tuple[str, str]] | None | bool = False  # False: not yet decided

    def _plain_fields(self):
        if self._plain is False:
            schema = self.schema
            dump_fields = schema.dump_fields
            plain = (not schema._hooks.get("post_dump") and not schema._hooks.get("pre_dump")
                     and all(type(field) in _PLAIN for field in dump_fields.values()))
            self._plain = ([(field.data_key or name, field.attribute or name) for name, field in dump_fields.items()]
                           if plain else None)
        return self._plain

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        plain = self._plain_fields() if nested_obj is not None else None
        if plain is None:
            return super()._serialize(nested_obj, attr, obj, **kwargs)
        if self.many:
            return [{key: getattr(item, name) for key, name in plain} for item in nested_obj]
        return {key: getattr(nested_obj, name) for key, name in plain}




def public_columns(model) -> list[str] | None:
    """What a referenced record shows inside another: its key and its own visible fields.

    FAB would nest every column, the engine's too: the lower-cased search twins (``surname_lc``), the
    phonetic codes of the duplicate check (``surname_phon``), the record's audit columns. None for a
    model that is not a YAML entity (catalogue values and users keep FAB's columns).
    """
    name = getattr(model, "__entity__", None)
    registry = current_app.config.get("FACHSTELLE_REGISTRY") if name else None
    if registry is None or name not in registry.entities:
        return None
    entity = registry.entity(name)
    return ["id", *(f.name for f in entity.fields if not f.hidden and kind_of(f).storage == "column" and kind_of(f).in_forms)]


class FachstelleSchemaConverter(SchemaConverterWall):
    """FAB's converter; a nested reference shows the record's public columns, as ``PlainNested``."""

    def nested_columns(self, datamodel, column_name):
        return public_columns(datamodel.get_related_model(column_name))

    def relation_field(self, field):
        if type(field) is not fields.Nested:
            return field
        plain = PlainNested(field.nested, many=field.many, required=field.required)
        plain.unique = field.unique
        return plain
