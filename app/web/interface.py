"""The data interface of every generated view and API: FAB's SQLAInterface, made to stay fast at city size."""
from __future__ import annotations

from contextlib import contextmanager

from flask import g, has_request_context
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.security.sqla.models import User
from flask_login import current_user
from sqlalchemy import Enum, asc, bindparam, desc, exists, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload, lazyload, scoped_session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..core_models import CatalogueValue
from ..scoping import OrgUnitFilter, scope_query, visible_org_unit_ids
from .fab_compat import InterfaceWall, filter_list, filter_pairs, is_dotted, is_parent_filter
from .filters import FachstelleFilterConverter
from .render_cache import FlushInvalidatedCache

# Lists count at most this many rows: COUNT(*) over 100,000 visible rows costs more than the page itself.
# A list with more shows "mehr als 10.000"; filters narrow it down.
COUNT_CAP = 10_000
COUNT_CACHE_SECONDS = 10.0

#: Capped counts per table, filters, user and units: the next page, the next sort of the same list do not
#: count again. Any flush in this process empties it (a filter may join other tables); other workers count
#: afresh after COUNT_CACHE_SECONDS, and the rows of each page correct what they can (see _settled).
count_cache = FlushInvalidatedCache("counts", None, COUNT_CACHE_SECONDS)


class FachstelleInterface(InterfaceWall):
    """FAB's interface, made to stay fast at city size.

    1. Counts stop at ``COUNT_CAP + 1`` (a LIMIT subquery) instead of counting every visible row.
    2. A query without paging (catalogue choices of a search form) is not counted at all.
    3. References shown in a list (``eager_refs``, set by build_views) are loaded with one extra
       query each instead of one query per row.
    4. A string column with a lower-cased twin is sorted by the twin (case-insensitive, indexed).
    5. A filtered list with at most ``COUNT_CAP`` matches picks its page among the matches (see
       ``_page_among_matches``) instead of letting the database walk the sort index.
    6. The related list of one record is not counted when its first page is not full, and its first page
       is one ``select()`` (``_one_parent_select``).
    7. Counts are cached (``count_cache``) and settled by the rows each page shows (``_settled``).
    8. Selected columns (REST) load with one ``load_only``; list values are read as plain attributes.
    9. A show page asks once which of its related lists have no row of the record at all
       (``note_empty_related_lists``, one query of EXISTS probes); those lists are answered without a query.
    10. Catalogue references the list neither shows nor names in its title are not joined
        (``unjoined_in_lists``, set by build_views); a record read for its page still joins them.
    11. A form's or REST call's commit keeps the request's objects loaded (``_kept_after_commit``).
    12. One record read by key (``get``: its page, its form) joins its references to records and staff
        (``record_refs``, set by build_views): a case file's client and its clerk come with the case.
    13. The choices of a select box (FAB asks without order and without paging) come in a stable order:
        catalogue values as their catalogue sorts them, colleagues by name (``choice_order``). Without it
        PostgreSQL gives heap order, which moves a row to the end whenever it is updated (a login, a label).
    """

    filter_converter_class = FachstelleFilterConverter
    eager_refs: tuple[str, ...] = ()
    unjoined_in_lists: tuple[str, ...] = ()
    record_refs: tuple[str, ...] = ()

    def sort_column(self, order_column):
        # A name sorts by its lower-cased twin: case-insensitive ("de Vries" among the D), and the same
        # index serves "beginnt mit" and the order, so the first page stops after 25 index entries.
        twin = f"{order_column}_lc"
        if order_column and "." not in order_column and hasattr(self.obj, twin) and self.is_string(order_column):
            order_column = twin
        return order_column

    def get_values(self, lst, list_columns):
        # FAB's list values ask hasattr/getattr three times per cell to allow dotted names, methods and
        # enums; for mapped columns and relations of the model (what generated lists show) the value is
        # the attribute itself.
        if not self._plain_attributes(tuple(list_columns)):
            return super().get_values(lst, list_columns)
        return [{column: getattr(item, column) for column in list_columns} for item in lst]

    def _plain_attributes(self, columns: tuple[str, ...]) -> bool:
        known = self.__dict__.setdefault("_fs_plain_columns", {})
        if columns not in known:
            attrs = sa_inspect(self.obj).attrs
            known[columns] = all(column in attrs and not (
                hasattr(attrs[column], "columns") and isinstance(attrs[column].columns[0].type, Enum))
                for column in columns)
        return known[columns]

    def add(self, item, commit: bool = True) -> None:
        with _kept_after_commit(self.session):
            return super().add(item, commit)

    def edit(self, item, commit: bool = True) -> None:
        # A save over a version saved meanwhile by someone else (optimistic locking): the view or API then
        # answers with the changes instead of FAB's "Database Error" (see EntityModelView.edit).
        try:
            with _kept_after_commit(self.session):
                return super().edit(item, commit)
        except DatabaseException as exc:
            if isinstance(exc.__cause__, StaleDataError) and has_request_context():
                g.fs_stale_save = True
            raise

    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        # One record by key (show, edit, delete, REST get): FAB copies the filters, adds an "equal" filter
        # for the key and runs its whole query pipeline (select options per column included). With only
        # the org-unit filter, the same row is one select(): the key (converted as FAB's filter does, so
        # "abc" finds nothing) and the org-unit condition. Anything else takes FAB's path.
        flts = filter_list(filters)
        if (self.is_pk_composite() or any(not isinstance(flt, OrgUnitFilter) for flt in flts)
                or (select_columns and any(is_dotted(column) for column in select_columns))):
            return super().get(id, filters, select_columns=select_columns, outer_default_load=outer_default_load)
        query = select(self.obj).where(self.get_pk() == self.key_value(id)).options(
            *(joinedload(getattr(self.obj, name)) for name in self.record_refs))
        if flts:
            query = scope_query(query, self.obj)
        return self.session.scalars(query).unique().first()

    def query_count(self, query, filters=None, select_columns=None) -> int:
        # The REST list's columns only shape what is loaded (load_only, eager options), which a count of
        # keys drops again; a related column ("client.surname") joins, so those are kept.
        if select_columns and not any("." in column for column in select_columns):
            select_columns = None

        def count() -> int:
            inner = self.filtered_query(query, filters, select_columns=select_columns)
            capped = inner.with_entities(self.get_pk()).order_by(None).limit(COUNT_CAP + 1).subquery()
            return self.session.query(func.count()).select_from(capped).scalar()

        key = self._count_key(filters, select_columns)
        return count() if key is None else count_cache.get(key, count)

    def _count_key(self, filters, select_columns):
        """What a count depends on: table, filters with their values, the user and their units; None if unsure."""
        if not has_request_context():
            return None
        try:
            flts = tuple((type(flt).__module__, type(flt).__qualname__, flt.column_name, _frozen(value))
                         for flt, value in (filters.get_filters_values() if filters is not None else ()))
            hash(flts)
        except TypeError:
            return None
        units = visible_org_unit_ids()
        return (self.obj.__tablename__, flts, tuple(select_columns or ()), getattr(current_user, "id", None),
                None if units is None else frozenset(units))

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        if page_size and not page and _of_one_parent(filters) and self._known_empty(filters):
            return 0, []
        query = self.session.query(self.obj).options(*self._list_loading())
        if not order_column and not page_size:
            query = query.order_by(*choice_order(self.obj))
        if page_size and not page and _of_one_parent(filters):
            # The pages of one case (or partner) are a few rows each: a first page that is not full is the
            # whole list, and its count query (four per case file) is saved.
            lean = None if select_columns else self._one_parent_select(filters, order_column, order_direction,
                                                                       page_size)
            if lean is not None:
                rows = list(self.session.scalars(lean).unique())
            else:
                rows = self._rows(self.apply_all(query, filters, order_column, order_direction, page, page_size,
                                                 select_columns, outer_default_load))
            return (len(rows) if len(rows) < page_size else self.query_count(query, filters, select_columns)), rows
        count = self.query_count(query, filters, select_columns) if page_size else None
        sort_key = self._sort_key(order_column)
        requested_page, requested_size = page, page_size
        if (count is not None and count <= COUNT_CAP and sort_key is not None and _narrowed(filters)
                and not (select_columns and self.exists_col_to_many(select_columns))):
            query = self._page_among_matches(query, filters, sort_key, order_direction, page, page_size)
            page, page_size = None, None
        rows = self._rows(self.apply_all(query, filters, order_column, order_direction, page, page_size,
                                         select_columns, outer_default_load))
        if count is None:
            return len(rows), rows
        return _settled(count, requested_page, requested_size, len(rows)), rows

    def _list_loading(self) -> list:
        """Loader options of a list's rows: listed references in one query each, unlisted catalogues not joined."""
        return [*(selectinload(getattr(self.obj, name)) for name in self.eager_refs),
                *(lazyload(getattr(self.obj, name)) for name in self.unjoined_in_lists)]

    def note_empty_related_lists(self, item, related: list) -> None:
        """Find, with one query, the related lists (their datamodels) without any row of ``item``.

        Only "no row at all" is noted, whatever the user may see: then no filter (org units, a search inside
        the list) can find one either, so ``query`` answers those lists with no rows for this request.
        """
        if not has_request_context():
            return
        pk = self.get_pk_value(item)
        if pk is None:
            return
        # Built once per set of related views (a profile sees its own tabs) and kept on this interface.
        probes = self.__dict__.setdefault("_empty_probes", {})
        key = tuple(id(datamodel) for datamodel in related)
        if key not in probes:
            probes[key] = self._empty_related_probe(related)
        columns, statement = probes[key]
        if not columns:
            return
        found = self.session.execute(statement, {"parent_pk": pk}).one()
        empty = g.setdefault("_fs_empty_related", set())
        empty.update((column.table.name, column.name, pk) for column, has in zip(columns, found) if not has)

    def _empty_related_probe(self, related: list) -> tuple[list, object]:
        """The foreign-key columns of the related lists and one statement of EXISTS probes, one per column."""
        columns = []
        for datamodel in related:
            fk = datamodel.get_related_fk(self.obj)
            if fk is not None and datamodel.is_relation_many_to_one(fk):
                columns.append(datamodel.get_relation_fk(fk))
        parent_pk = bindparam("parent_pk")
        probes = [exists().where(column == parent_pk).label(f"p{i}") for i, column in enumerate(columns)]
        return columns, (select(*probes) if probes else None)

    def _known_empty(self, filters) -> bool:
        noted = g.get("_fs_empty_related") if has_request_context() else None
        if not noted:
            return False
        for flt, value in filter_pairs(filters):
            if is_parent_filter(flt) and self.is_relation_many_to_one(flt.column_name):
                column = self.get_relation_fk(flt.column_name)
                return (column.table.name, column.name, getattr(value, "id", value)) in noted
        return False

    def _one_parent_select(self, filters, order_column, order_direction, limit):
        """The first page of one record's related list as one ``select()``, or None where FAB must build it.

        A case file shows nine such lists; FAB builds each through its filter classes (the parent compared
        as a relationship, loaded first), the org-unit filter and its order and paging steps, which costs
        more than reading the rows. Here: the parent's key, the org-unit condition, the list's order with
        the key as tie-break (FAB's, names by their lower-cased twin), the page size. A search inside the
        related list, or an order by a relation, goes to FAB.
        """
        parent, scoped = None, False
        for flt, value in filter_pairs(filters):
            if is_parent_filter(flt) and parent is None and self.is_relation_many_to_one(flt.column_name):
                parent = (self.get_relation_fk(flt.column_name), getattr(value, "id", value))
            elif isinstance(flt, OrgUnitFilter):
                scoped = True
            else:
                return None
        sort_key = self._sort_key(order_column)
        if parent is None or (order_column and sort_key is None):
            return None
        fk, value = parent
        query = select(self.obj).where(fk == value).options(*self._list_loading())
        if scoped:
            query = scope_query(query, self.obj)
        if sort_key is not None:
            direction = asc if order_direction == "asc" else desc
            pk = self.get_pk()
            tie = [] if sort_key.key == self.get_pk_name() else [direction(pk)]
            query = query.order_by(direction(sort_key), *tie)
        return query.limit(limit)

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
        matches = (self.filtered_query(self.session.query(self.obj), filters)
                   .with_entities(pk.label("pk"), sort_key.label("sort_key")).order_by(None).offset(0).subquery())
        direction = asc if order_direction == "asc" else desc
        keys = select(matches.c.pk).order_by(direction(matches.c.sort_key), direction(matches.c.pk))
        if page:
            keys = keys.offset(page * page_size)
        return query.filter(pk.in_(keys.limit(page_size)))


def choice_order(model) -> list:
    """The order of ``model``'s rows in a select box: a catalogue's own order, colleagues as they are shown
    (FAB shows "Vorname Nachname"), anything else by key."""
    if model is CatalogueValue:
        return [CatalogueValue.sort, CatalogueValue.label, CatalogueValue.id]
    if model is User:
        return [func.lower(User.first_name), func.lower(User.last_name), User.id]
    return [pk for pk in sa_inspect(model).primary_key]


def _settled(count: int, page: int | None, page_size: int, shown: int) -> int:
    """The count as the rows just read confirm it (a cached count may be seconds old in another worker).

    A page that is not full is the last one, so the rows before it and on it are all there are; a full
    page proves at least as many.
    """
    if not shown and page:
        return count  # beyond the end: nothing to learn
    seen = (page or 0) * page_size + shown
    return seen if shown < page_size else max(count, seen)


def _frozen(value):
    """A filter value as a hashable key part: lists as tuples, records as (table, id)."""
    if isinstance(value, (list, tuple, set)):
        return tuple(_frozen(v) for v in value)
    if hasattr(value, "__table__"):
        return (value.__table__.name, getattr(value, "id", None))
    return value


@contextmanager
def _kept_after_commit(session):
    """The form's (or REST call's) commit keeps the request's objects loaded.

    After a save the page reads the record again for its message, its after-save rules and the redirect, and
    the signed-in user for permission checks; with SQLAlchemy's default every one of them was read anew from
    the database (three statements per saved entry). What was just written is what the objects hold; columns
    the database fills itself are still read when asked for. The session ends with the request.
    """
    real = session() if isinstance(session, scoped_session) else session
    before = real.expire_on_commit
    real.expire_on_commit = False
    try:
        yield
    finally:
        real.expire_on_commit = before


def _of_one_parent(filters) -> bool:
    """Whether this is the related list of one record (FAB marks the parent's filter ``is_related_view``)."""
    return any(is_parent_filter(flt) for flt in filter_list(filters))


def _narrowed(filters) -> bool:
    """Whether a filter beyond the org units narrows the list (a search, or the parent of a related list)."""
    return any(not isinstance(flt, OrgUnitFilter) for flt in filter_list(filters))
