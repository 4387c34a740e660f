"""Behaviour of Flask-AppBuilder's internals the wall (app/web/fab_compat/) relies on, in a running app.

tests/unit/test_fab_contract.py pins the signatures; here each touchpoint is called the way the app calls
it and the shape of its answer is checked: which keys a widget dict has, what a filter list holds, which
record a key finds. A FAB upgrade that keeps a name but changes what it returns fails here, naming it.
"""
from __future__ import annotations

from contextlib import contextmanager

import jsonschema
import pytest
from flask import g
from flask_appbuilder import api as fab_api
from flask_appbuilder.models.sqla.filters import FilterRelationOneToManyEqual
from flask_login import login_user
from werkzeug.exceptions import NotFound

from app.scoping import OrgUnitFilter
from app.web import fab_compat
from app.web.api_schemas import public_columns
from app.web.entity_api import EntityRestApi

README = "app/web/fab_compat/README.md"
_G_KEYS = ("user", "_login_user", "_fs_org_units", "_fs_permissions", "_fs_fast_user", "fs_shown")


def _broken(touchpoint: str, what: str) -> str:
    return f"FAB-Vertrag gebrochen: {touchpoint} — {what}; siehe {README}."


def _view(app, entity: str):
    cls = app.config["FACHSTELLE_VIEWS"][entity]
    return next(v for v in fab_compat.registered_views(app.appbuilder) if type(v) is cls)


def _api(app, entity: str):
    return next(v for v in fab_compat.registered_views(app.appbuilder)
                if isinstance(v, EntityRestApi) and v.resource_name == entity)


@contextmanager
def _as(app, username: str, path: str = "/", method: str = "GET"):
    """A request of ``username`` (the ctx fixture's app context shares g: cleared before and after)."""
    for key in _G_KEYS:
        g.pop(key, None)
    with app.test_request_context(path, method=method):
        g.user = app.appbuilder.sm.find_user(username=username)  # FAB's before_request sets it
        login_user(g.user)
        try:
            yield
        finally:
            for key in _G_KEYS:
                g.pop(key, None)


@pytest.fixture
def partners(factory):
    kind = factory.value("partner_kind", "person")
    own = factory("partner", "nord", kind=kind, surname="Wandel", first_name="Wiebke")
    other = factory("partner", "sued", kind=kind, surname="Wendt", first_name="Wolf")
    return own, other


# --- views -----------------------------------------------------------------------------------------
def test_view_attributes(ctx):
    partner, case = _view(ctx, "partner"), _view(ctx, "case")
    assert any(isinstance(f, OrgUnitFilter) for f in fab_compat.filter_list(fab_compat.base_filters(partner))), \
        _broken("BaseModelView._base_filters", "enthält die base_filters der Seite nicht als Filters")
    search = fab_compat.search_filters(partner).get_search_filters()
    assert set(partner.search_columns) <= set(search) and all(f.arg_name for f in search["surname"]), \
        _broken("BaseModelView._filters", "kein Filters-Objekt der Suchspalten mit ihren Operatoren")
    related = fab_compat.related_view_instances(case)
    assert related and {type(v) for v in related} == set(case.related_views), \
        _broken("BaseCRUDView._related_views", "nicht die registrierten Instanzen der related_views")
    assert fab_compat.deserialize_pk(partner, "12") == "12", _broken("_deserialize_pk_if_composite", "")


def test_show_and_edit_widgets(ctx, partners, monkeypatch):
    own, other = partners
    case_view, view = _view(ctx, "case"), _view(ctx, "partner")
    edited = []
    monkeypatch.setattr(view, "fill_edit_form", edited.append)  # the hook for edit-form additions
    with _as(ctx, "sachbearbeitung_nord", f"/partner/show/{own.id}"):
        widgets = fab_compat.show_widgets(view, str(own.id))
        assert {"show", "related_views"} <= set(widgets), _broken("BaseCRUDView._show", f"liefert {set(widgets)}")
        assert g.get("fs_shown") is own, _broken("BaseCRUDView._get_show_widget", "record_shown nicht erreicht")
        assert len(widgets["related_views"]) == len(view.related_views_shown())
        with pytest.raises(NotFound):
            fab_compat.show_widgets(view, str(other.id))  # another unit's record: 404, as a missing one
    with _as(ctx, "sachbearbeitung_nord", f"/partner/edit/{own.id}"):
        widgets = fab_compat.edit_widgets(view, str(own.id))
        assert widgets and "edit" in widgets, _broken("BaseCRUDView._edit", "liefert beim GET kein Formular-Widget")
        assert fab_compat.widget_args(widgets["edit"])["form"].surname.data == "Wandel"
        assert edited == [fab_compat.widget_args(widgets["edit"])["form"]], \
            _broken("BaseCRUDView._get_edit_widget", "fill_edit_form nicht erreicht")
    assert case_view.related_views_shown is not None


def test_list_widget_arguments(ctx, partners):
    # list_table.py reads exactly these widget arguments (FAB's _get_list_widget passes them).
    view = _view(ctx, "partner")
    with _as(ctx, "sachbearbeitung_nord", "/partner/list/?_oc_PartnerView=nonsense&_od_PartnerView=asc"):
        widgets = view._get_list_widget(filters=fab_compat.search_filters(view), order_column="nonsense",
                                        order_direction="asc")
        args = fab_compat.widget_args(widgets["list"])
    expected = {"label_columns", "include_columns", "value_columns", "order_columns", "formatters_columns", "page",
                "page_size", "count", "pks", "actions", "filters", "modelview_name", "count_cap"}
    assert expected <= set(args), _broken("BaseCRUDView._get_list_widget", f"es fehlen {expected - set(args)}")
    assert args["count"] == 1 and len(args["pks"]) == 1  # the own unit's partner; the sort fell back (list_order)


def test_search_widget_renders_through_its_template(ctx):
    view = _view(ctx, "partner")
    with _as(ctx, "sachbearbeitung_nord", "/partner/list/"):
        widget = view._get_search_widget(form=view.search_form.refresh())["search"]
        assert widget.cache_prefix == "PartnerView", _broken("_get_search_widget", "search_widget_options fehlt")
        html = str(fab_compat.render_widget_template(widget, label_columns={}, form_fields={}, search_filters={},
                                                     active_filters=[]))
    assert "AdminFilters" in html, _broken("RenderTemplateWidget.__call__", "rendert die Suchvorlage nicht")
    assert fab_compat.as_text(b"Stra\xc3\x9fe") == "Straße"


# --- interface and filters -------------------------------------------------------------------------
def test_interface_helpers(ctx, partners):
    own, other = partners
    from app.extensions import db

    datamodel = _view(ctx, "partner").datamodel
    assert datamodel.key_value("abc") is None and datamodel.key_value(str(own.id)) == own.id, \
        _broken("filters.set_value_to_type", "wandelt Schlüssel anders")
    filters = datamodel.get_filters().add_filter("surname", datamodel.FilterEqual, "Wendt")
    query = fab_compat.InterfaceWall.filtered_query(datamodel, db.session.query(datamodel.obj), filters)
    assert [p.id for p in query] == [other.id], _broken("SQLAInterface._apply_inner_all", "filtert anders")
    sql = str(datamodel.apply_order_by(db.session.query(datamodel.obj), "surname", "asc"))
    assert "surname_lc" in sql, _broken("SQLAInterface.apply_order_by", "sort_column wird nicht gefragt")
    assert fab_compat.is_dotted("client.surname") and not fab_compat.is_dotted("surname")

    address = _view(ctx, "address").datamodel
    assert address.get_related_obj("partner", own.id) is db.session.get(type(own), own.id)
    parent = address.get_filters().add_filter_related_view("partner", FilterRelationOneToManyEqual, own.id)
    pairs = fab_compat.filter_pairs(parent)
    assert len(pairs) == 1 and fab_compat.is_parent_filter(pairs[0][0]) and pairs[0][1] == own.id, \
        _broken("Filters.add_filter_related_view", f"Filterpaare {pairs}")
    assert fab_compat.filter_pairs(None) == [] and fab_compat.filter_list(None) == []


def test_select_columns_load_once(ctx, partners):
    from app.extensions import db

    datamodel = _view(ctx, "partner").datamodel
    query = datamodel.apply_inner_select_joins(db.session.query(datamodel.obj), ["surname", "first_name"])
    assert {p.surname for p in query} >= {"Wandel", "Wendt"}, _broken("SQLAInterface.apply_inner_select_joins", "")


# --- REST ------------------------------------------------------------------------------------------
def test_rest_internals(ctx, partners, user_client):
    api = _api(ctx, "partner")
    assert api.schemas_at_startup is False and api.list_model_schema is not None
    case_api = _api(ctx, "case")
    client_field = case_api.list_model_schema.fields["client"]  # a YAML record nested in another
    assert set(client_field.schema.fields) == set(public_columns(type(partners[0]))), \
        _broken("Model2SchemaConverter._column2relation", "nested_columns wird nicht gefragt")
    client = user_client("sachbearbeitung_nord")
    response = client.get("/api/v1/partner/?q=(filters:!((col:surname,opr:sw,value:wan)))")
    assert response.status_code == 200 and response.get_json()["count"] == 1, \
        _broken("ModelRestApi._handle_filters_args", str(response.get_json()))
    labels = client.get("/api/v1/partner/?q=(keys:!(label_columns))").get_json()
    assert labels["label_columns"]["surname"] == api.label_columns["surname"], \
        _broken("ModelRestApi._label_columns_json", str(labels))
    assert isinstance(fab_api.jsonschema, fab_compat.RisonSchemaCheckedOnce)


def test_rison_check_raises_jsonschemas_error():
    schema = {"type": "object", "properties": {"page": {"type": "integer"}}}
    with pytest.raises(jsonschema.ValidationError) as ours:
        fab_compat.RisonSchemaCheckedOnce().validate({"page": "x"}, schema)
    with pytest.raises(jsonschema.ValidationError) as theirs:
        jsonschema.validate(instance={"page": "x"}, schema=schema)
    assert ours.value.message == theirs.value.message


# --- security, templates ---------------------------------------------------------------------------
def test_security_internals(ctx):
    sm = ctx.appbuilder.sm
    with _as(ctx, "sachbearbeitung_nord"):
        user = fab_compat.login_user_of_request()
        assert user is not None and user.username == "sachbearbeitung_nord", \
            _broken("g._login_user", "Flask-Login hält den Benutzer nicht mehr dort")
        assert fab_compat.is_api_key_request() is False
        perms = sm.permissions_of(user)
        assert ("can_list", "entity_partner") in perms
        assert sm._has_view_access(user, "can_list", "entity_partner") is True
        menus = sm._get_user_permission_view_menus(user, "can_list", None)
        assert menus == {view for perm, view in perms if perm == "can_list"}
        names = ["Fallakten", "Administration", "nirgends"]
        assert sm.get_user_menu_access(names) == {n for n in names if ("menu_access", n) in perms}
        assert fab_compat.login_url(ctx.appbuilder, "/case/list/").startswith("/login/?next=")
    fab_compat.create_builtin_roles(sm)
    assert sm.find_role("Admin") is not None and sm.find_role("Public") is not None


def test_template_internals(ctx):
    filters = fab_compat.link_filters(ctx.appbuilder)
    assert set(filters) == {"link_page", "link_page_size", "link_order"}
    with ctx.test_request_context("/partner/list/"):
        assert "page_PartnerView=2" in filters["link_page"](2, "PartnerView")
        assert "psize_PartnerView=50" in filters["link_page_size"](50, "PartnerView")
        assert "_oc_PartnerView=surname" in filters["link_order"]("surname", "PartnerView")
    found = ctx.appbuilder.template_filters.find_views_by_name("PartnerView")
    assert found is _view(ctx, "partner"), _broken("TemplateFilters.find_views_by_name", "Index nicht installiert")
    assert ctx.appbuilder.template_filters.find_views_by_name("GibtEsNicht") is None
