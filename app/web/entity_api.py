"""The REST API every generated entity gets: same org-unit filter and save rules as the HTML views."""
from __future__ import annotations

from flask_appbuilder.api import ModelRestApi
from werkzeug.exceptions import BadRequest

from ..errors import DomainError
from ..scoping import OrgUnitFilter
from ..services import records


class Refused(BadRequest):
    """A 400 whose message is only the German text (FAB's ``safe`` answers with ``str(exc)``)."""

    def __str__(self) -> str:
        return str(self.description)


class EntityRestApi(ModelRestApi):
    entity_spec = None  # set by build_views

    def _get_list_related_field(self, field, filter_rel_field, page=None, page_size=None):
        # ``_info`` lists the choices of every reference field; without the org-unit filter it would
        # name the partners and cases of every other unit.
        related = self.datamodel.get_related_interface(field.name)
        if hasattr(related.obj, "org_unit_id"):
            filter_rel_field = [*(filter_rel_field or []), ["id", OrgUnitFilter, None]]
        return super()._get_list_related_field(field, filter_rel_field, page=page, page_size=page_size)

    def pre_add(self, item):
        try:
            records.assign_org_unit(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None

    def pre_update(self, item):
        try:
            records.check_refs_visible(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None

    def pre_delete(self, item):
        try:
            records.check_deletable(self.entity_spec, item)
        except DomainError as exc:
            raise Refused(str(exc)) from None
