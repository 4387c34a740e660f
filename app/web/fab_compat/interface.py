"""SQLAInterface internals: query helpers the app's interface overrides or calls, and FAB's ``Filters`` shape.

``InterfaceWall`` overrides FAB's helper methods ``apply_order_by`` (through the ``sort_column`` hook),
``apply_inner_select_joins`` and ``get_related_obj``, and names the private ``_apply_inner_all``
(``filtered_query``) and the module helpers ``set_value_to_type`` / ``is_column_dotted``. The app's
``FachstelleInterface`` derives from it and keeps its own ``query``, ``get``, ``get_values`` and
``query_count`` (the methods FAB's views call).
"""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import set_value_to_type
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.base import is_column_dotted
from sqlalchemy.orm import Load


class InterfaceWall(SQLAInterface):
    """FAB's SQLAInterface with its helpers behind names of ours (see the module docstring)."""

    # Columns whose field kind checks the length itself, with a German message ("Höchstens 120 Zeichen.").
    length_checked: frozenset = frozenset()

    def sort_column(self, order_column: str) -> str:
        """The column FAB's ``apply_order_by`` sorts by for the requested ``order_column``."""
        return order_column

    def get_max_length(self, col_name: str) -> int:
        # FAB's form converter adds its own Length check from the column (and appends it to the view's
        # shared validator list once per form it builds): the message came three times (#11).
        return -1 if col_name in self.length_checked else super().get_max_length(col_name)

    def get_min_length(self, col_name: str) -> int:
        return -1 if col_name in self.length_checked else super().get_min_length(col_name)

    def filtered_query(self, query, filters, select_columns=None):
        """``query`` with the filters (and joins for dotted ``select_columns``) applied, unordered, unpaged.

        FAB's ``_apply_inner_all``: what FAB's own ``query_count`` counts.
        """
        return self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})

    def key_value(self, value):
        """A key from a URL converted as FAB's equal filter does (``"abc"`` for an integer key: None)."""
        return set_value_to_type(self, self.get_pk_name(), value)

    # --- FAB's helper methods, overridden here only --------------------------------------------------
    def apply_order_by(self, query, order_column, order_direction, aliases_mapping=None,
                       bypass_many_to_many=False, add_pk=False):
        return super().apply_order_by(query, self.sort_column(order_column), order_direction,
                                      aliases_mapping=aliases_mapping, bypass_many_to_many=bypass_many_to_many,
                                      add_pk=add_pk)

    def apply_inner_select_joins(self, query, select_columns=None, aliases_mapping=None):
        # FAB adds one load_only option per selected column (a REST list or record: 14 options, each a
        # copy of the query); one option with all plain columns loads the same columns. Dotted columns
        # (joins) still go through FAB.
        if not select_columns:
            return query
        plain = [getattr(self.obj, column) for column in select_columns if not is_column_dotted(column)
                 and not self.is_relation(column) and not self.is_property_or_function(column)]
        if plain:
            query = query.options(Load(self.obj).load_only(*plain))
        dotted = [column for column in select_columns if is_column_dotted(column)]
        return super().apply_inner_select_joins(query, dotted, aliases_mapping) if dotted else query

    def get_related_obj(self, col_name, value):
        # FAB's related-list filter loads the parent with the legacy ``Query.get`` (a deprecation path
        # per call, nine per case file); ``Session.get`` gives the same object, from the identity map
        # when the page has already loaded it.
        return self.session.get(self.get_related_model(col_name), value)


def is_dotted(column: str) -> bool:
    """Whether a column name reaches into a relation (``"client.surname"``), as FAB decides it."""
    return is_column_dotted(column)


def filter_pairs(filters) -> list[tuple]:
    """The (filter, value) pairs of a FAB ``Filters`` object, base filters and the parent's included."""
    if filters is None:
        return []
    return list(zip(filters.filters, filters.values))


def filter_list(filters) -> list:
    """The filter objects of a FAB ``Filters`` object (none for None)."""
    return list(getattr(filters, "filters", ()))


def is_parent_filter(flt) -> bool:
    """Whether FAB added ``flt`` for a related list: the parent record's filter (``add_filter_related_view``)."""
    return bool(flt.is_related_view)
