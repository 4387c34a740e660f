"""The REST API every generated entity gets: same org-unit filter and save rules as the HTML views."""
from __future__ import annotations

from flask import current_app
from werkzeug.exceptions import BadRequest

from ..errors import DomainError, NoHomeUnitError
from ..scoping import OrgUnitFilter
from .actor import current_actor
from ..services import records
from .api_schemas import FachstelleSchemaConverter
from .fab_compat import RestApiWall, install_rison_schema_cache
from .fab_compat import RisonSchemaCheckedOnce as _SchemaCheckedOnce  # noqa: F401  (its old name)
from .fab_compat import schema_on_first_use as _schema_on_first_use


class Refused(BadRequest):
    """A 400 whose message is only the German text (FAB's ``safe`` answers with ``str(exc)``)."""

    def __str__(self) -> str:
        return str(self.description)


#: Make FAB's REST endpoints check their rison schemas once per process (see fab_compat.api).
install_schema_cache = install_rison_schema_cache


class EntityRestApi(RestApiWall):
    """Generated entity APIs.

    FAB builds four marshmallow schemas per API while the app starts: a quarter of the start-up with
    40 entities. Here each is made on the first request that needs it (10–20 ms once per API and worker).
    """

    entity_spec = None  # set by build_views
    model2schemaconverter = FachstelleSchemaConverter
    list_model_schema = _schema_on_first_use("list", "list_columns")
    show_model_schema = _schema_on_first_use("show", "show_columns")
    add_model_schema = _schema_on_first_use("add", "add_columns", nested=False)
    edit_model_schema = _schema_on_first_use("edit", "edit_columns", nested=False)

    schemas_at_startup = False  # see the class docstring

    def schemas_wanted(self) -> None:
        """Called once FAB has registered the API: from now on a schema is made when it is read."""
        self._fs_schemas_wanted = True

    def label_translator(self):
        # FAB translates every label on every request through Flask-Babel; the templates' memoised
        # gettext (render_cache) gives the same strings.
        return current_app.extensions["fs_gettext"]

    def related_field_filters(self, field_name, filter_rel_field):
        # ``_info`` lists the choices of every reference field; without the org-unit filter it would
        # name the partners and cases of every other unit.
        related = self.datamodel.get_related_interface(field_name)
        if hasattr(related.obj, "org_unit_id"):
            filter_rel_field = [*(filter_rel_field or []), ["id", OrgUnitFilter, None]]
        return filter_rel_field

    def post_headless(self):
        try:
            return super().post_headless()
        except NoHomeUnitError as exc:
            # The account may not create records at all: 403 with the German reason, nothing saved.
            self.datamodel.session.rollback()
            return self.response(403, message=str(exc))

    def pre_add(self, item):
        try:
            records.assign_org_unit(self.entity_spec, item, current_actor())
        except NoHomeUnitError:
            raise
        except DomainError as exc:
            raise Refused(str(exc)) from None

    def pre_update(self, item):
        try:
            records.check_refs_visible(self.entity_spec, item, current_actor())
        except DomainError as exc:
            raise Refused(str(exc)) from None

    def pre_delete(self, item):
        try:
            records.check_deletable(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None
