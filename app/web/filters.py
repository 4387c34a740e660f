"""Search filters that stay fast at city size and read German dates.

FAB's "starts with" is ``ILIKE 'x%'``, which scans the table on both databases. A string field that is
searched has a lower-cased twin column with a plain index; "beginnt mit" becomes the range
``x <= col_lc < x + U+FFFF``, which both SQLite and PostgreSQL answer from the index.
"""
from __future__ import annotations

from flask_appbuilder.models.sqla import filters as fab
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import asc, desc, func, select
from flask_appbuilder.utils.base import is_column_dotted
from sqlalchemy.orm import Load, selectinload

from ..scoping import OrgUnitFilter
from .fields import parse_german_date

PREFIX_END = "\uffff"
# Lists count at most this many rows: COUNT(*) over 100,000 visible rows costs more than the page itself.
# A list with more shows "mehr als 10.000"; filters narrow it down.
COUNT_CAP = 10_000


def normalise(text: str) -> str:
    return (text or "").strip().lower()


class FilterPrefix(fab.BaseFilter):
    name = "beginnt mit"
    arg_name = "sw"

    def apply(self, query, value):
        value = normalise(value)
        twin = getattr(self.model, f"{self.column_name}_lc", None)
        if twin is None:
            query, field = fab.get_field_setup_query(query, self.model, self.column_name)
            return query.filter(field.ilike(value + "%"))
        if not value:
            return query
        return query.filter(twin >= value, twin < value + PREFIX_END)


class _GermanDateFilter(fab.BaseFilter):
    def _date(self, value):
        try:
            return value if hasattr(value, "year") else parse_german_date(str(value))
        except ValueError:
            return None


class FilterDateEqual(_GermanDateFilter):
    name = "ist gleich"
    arg_name = "eq"

    def apply(self, query, value):
        day = self._date(value)
        return query if day is None else query.filter(getattr(self.model, self.column_name) == day)


class FilterDateFrom(_GermanDateFilter):
    name = "ab (einschließlich)"
    arg_name = "gt"

    def apply(self, query, value):
        day = self._date(value)
        return query if day is None else query.filter(getattr(self.model, self.column_name) >= day)


class FilterDateUntil(_GermanDateFilter):
    name = "bis (einschließlich)"
    arg_name = "lt"

    def apply(self, query, value):
        day = self._date(value)
        return query if day is None else query.filter(getattr(self.model, self.column_name) <= day)


class FachstelleFilterConverter(fab.SQLAFilterConverter):
    conversion_table = tuple(
        ("is_string", [FilterPrefix, fab.FilterContains, fab.FilterEqual, fab.FilterNotEqual])
        if kind == "is_string" else
        ("is_date", [FilterDateEqual, FilterDateFrom, FilterDateUntil])
        if kind == "is_date" else (kind, filters)
        for kind, filters in fab.SQLAFilterConverter.conversion_table
    )

    def convert(self, col_name):
        # FAB builds a fresh ``Filters`` (a filter per operator for every column of the model) several times
        # per request: ~100 filter objects and type checks per list page. They depend only on the model, and
        # FAB already shares them across requests in ``view._filters``, so they are made once per column.
        cache = self.datamodel.__dict__.setdefault("_fs_converted", {})
        if col_name not in cache:
            cache[col_name] = super().convert(col_name)
        found = cache[col_name]
        return list(found) if found is not None else None  # a copy: FAB appends custom search filters


class FachstelleInterface(SQLAInterface):
    """FAB's interface, made to stay fast at city size.

    1. Counts stop at ``COUNT_CAP + 1`` (a LIMIT subquery) instead of counting every visible row.
    2. A query without paging (catalogue choices of a search form) is not counted at all.
    3. References shown in a list (``eager_refs``, set by build_views) are loaded with one extra
       query each instead of one query per row.
    4. A string column with a lower-cased twin is sorted by the twin (case-insensitive, indexed).
    5. A filtered list with at most ``COUNT_CAP`` matches picks its page among the matches (see
       ``_page_among_matches``) instead of letting the database walk the sort index.
    6. The related list of one record is not counted when its first page is not full.
    """

    filter_converter_class = FachstelleFilterConverter
    eager_refs: tuple[str, ...] = ()

    def apply_order_by(self, query, order_column, order_direction, aliases_mapping=None,
                       bypass_many_to_many=False, add_pk=False):
        # A name sorts by its lower-cased twin: case-insensitive ("de Vries" among the D), and the same
        # index serves "beginnt mit" and the order, so the first page stops after 25 index entries.
        twin = f"{order_column}_lc"
        if order_column and "." not in order_column and hasattr(self.obj, twin) and self.is_string(order_column):
            order_column = twin
        return super().apply_order_by(query, order_column, order_direction, aliases_mapping=aliases_mapping,
                                      bypass_many_to_many=bypass_many_to_many, add_pk=add_pk)

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

    def query_count(self, query, filters=None, select_columns=None) -> int:
        # The REST list's columns only shape what is loaded (load_only, eager options), which a count of
        # keys drops again; a related column ("client.surname") joins, so those are kept.
        if select_columns and not any("." in column for column in select_columns):
            select_columns = None
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        capped = inner.with_entities(self.get_pk()).order_by(None).limit(COUNT_CAP + 1).subquery()
        return self.session.query(func.count()).select_from(capped).scalar()

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        query = self.session.query(self.obj)
        if self.eager_refs:
            query = query.options(*(selectinload(getattr(self.obj, name)) for name in self.eager_refs))
        if page_size and not page and _of_one_parent(filters):
            # The pages of one case (or partner) are a few rows each: a first page that is not full is the
            # whole list, and its count query (four per case file) is saved.
            rows = self._rows(self.apply_all(query, filters, order_column, order_direction, page, page_size,
                                             select_columns, outer_default_load))
            return (len(rows) if len(rows) < page_size else self.query_count(query, filters, select_columns)), rows
        count = self.query_count(query, filters, select_columns) if page_size else None
        sort_key = self._sort_key(order_column)
        if (count is not None and count <= COUNT_CAP and sort_key is not None and _narrowed(filters)
                and not (select_columns and self.exists_col_to_many(select_columns))):
            query = self._page_among_matches(query, filters, sort_key, order_direction, page, page_size)
            page, page_size = None, None
        rows = self._rows(self.apply_all(query, filters, order_column, order_direction, page, page_size,
                                         select_columns, outer_default_load))
        return (len(rows) if count is None else count), rows

    def _rows(self, query) -> list:
        rows = query.all()
        if rows and hasattr(rows[0], self.obj.__name__):  # FAB's tuples when columns were selected
            rows = [getattr(row, self.obj.__name__) for row in rows]
        return rows

    def _sort_key(self, order_column):
        """The plain column a list is sorted by (its twin for a name), or None for a relation or dotted column."""
        if not order_column or "." in order_column or self.is_relation(order_column):
            return None
        if hasattr(self.obj, f"{order_column}_lc") and self.is_string(order_column):
            order_column = f"{order_column}_lc"
        column = getattr(self.obj, order_column, None)
        return column if getattr(column, "property", None) is not None and hasattr(column.property, "columns") \
            else None

    def _page_among_matches(self, query, filters, sort_key, order_direction, page, page_size):
        """Restrict ``query`` to the keys of the requested page, chosen among the (few) rows that match.

        PostgreSQL answers "Aktenzeichen beginnt mit 2024/14, neueste zuerst" by walking the index on
        the opening date and checking each case against the prefix: it assumes the 1,700 matches are spread
        evenly, but they all lie in 2024, so it reads 190,000 rows (80 ms) before it has 25. The count
        already says that few rows match; behind ``OFFSET 0`` (which the planner does not look through)
        the matches are found by the filter's index and only they are sorted. The outer query applies
        every filter (org units included) again and orders the page as FAB would.
        """
        pk = self.get_pk()
        matches = (self._apply_inner_all(self.session.query(self.obj), filters, aliases_mapping={})
                   .with_entities(pk.label("pk"), sort_key.label("sort_key")).order_by(None).offset(0).subquery())
        direction = asc if order_direction == "asc" else desc
        keys = select(matches.c.pk).order_by(direction(matches.c.sort_key), direction(matches.c.pk))
        if page:
            keys = keys.offset(page * page_size)
        return query.filter(pk.in_(keys.limit(page_size)))


def _of_one_parent(filters) -> bool:
    """Whether this is the related list of one record (FAB marks the parent's filter ``is_related_view``)."""
    return any(flt.is_related_view for flt in getattr(filters, "filters", ()))


def _narrowed(filters) -> bool:
    """Whether a filter beyond the org units narrows the list (a search, or the parent of a related list)."""
    return any(not isinstance(flt, OrgUnitFilter) for flt in getattr(filters, "filters", ()))
