"""Model2SchemaConverter internals: how a reference is nested in the REST API's marshmallow schemas.

``SchemaConverterWall`` overrides FAB's private ``_column2relation`` and hands it to two hooks:
``nested_columns`` (which columns of a referenced record to nest, FAB's ``TreeNode`` children) and
``relation_field`` (the marshmallow field FAB made, to wrap or replace).
"""
from __future__ import annotations

from flask_appbuilder.api.convert import Model2SchemaConverter, TreeNode


class SchemaConverterWall(Model2SchemaConverter):
    """FAB's schema converter with its relation step turned into hooks."""

    def nested_columns(self, datamodel, column_name: str) -> list[str] | None:
        """Columns of the referenced record to nest for a many-to-one ``column_name`` without explicit
        children; None: FAB's choice (every column)."""
        return None

    def relation_field(self, field):
        """The marshmallow field FAB made for a relation (``fields.Nested`` when nested); return it or another."""
        return field

    # --- FAB's private method, overridden here only ----------------------------------------------------
    def _column2relation(self, datamodel, column, nested=False, parent_schema_name=None):
        if nested and not column.children and datamodel.is_relation_many_to_one(column.name):
            names = self.nested_columns(datamodel, column.name)
            if names:
                node = TreeNode(column.name)
                node.children = [TreeNode(name) for name in names]
                column = node
        field = super()._column2relation(datamodel, column, nested=nested, parent_schema_name=parent_schema_name)
        if not nested and column.name in self.validators_columns:
            # FAB applies ``validators_columns`` to plain columns only; a reference (catalogue value,
            # colleague) is checked the same way, on the object the Related field loaded.
            field.validators.append(self.validators_columns[column.name])
        return self.relation_field(field)
