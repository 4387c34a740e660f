"""SQLA filter internals: FAB's filter converter table and its dotted-column join helper."""
from __future__ import annotations

from flask_appbuilder.models.sqla import filters as fab


def filter_conversion_table() -> tuple:
    """FAB's ``SQLAFilterConverter.conversion_table``: (type test, [filter classes]) in the order FAB tries them."""
    return fab.SQLAFilterConverter.conversion_table


def field_for_filter(query, model, column_name: str):
    """``(query, column)`` for a filter on ``column_name``, joined when dotted (FAB's ``get_field_setup_query``)."""
    return fab.get_field_setup_query(query, model, column_name)
