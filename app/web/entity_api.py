"""The REST API every generated entity gets: same org-unit filter and save rules as the HTML views."""
from __future__ import annotations

from flask_appbuilder.api import ModelRestApi
from werkzeug.exceptions import BadRequest

from ..errors import DomainError
from ..services import records


class EntityRestApi(ModelRestApi):
    entity_spec = None  # set by build_views

    def pre_add(self, item):
        try:
            records.assign_org_unit(self.entity_spec, item)
        except DomainError as exc:
            raise BadRequest(str(exc)) from None

    def pre_update(self, item):
        try:
            records.check_refs_visible(self.entity_spec, item)
        except DomainError as exc:
            raise BadRequest(str(exc)) from None

    def pre_delete(self, item):
        try:
            records.check_deletable(self.entity_spec, item)
        except DomainError as exc:
            raise BadRequest(str(exc)) from None
