"""The profile editor's mapping (#11): German labels for every admin function, a posted form read back as a
roles.yaml profile (unknown values refused with the page's name), and a role read back as its profile."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from app.web.build_roles import (ADMIN_FUNCTION_ALIASES, ADMIN_FUNCTION_LABELS, ADMIN_FUNCTIONS, LEVEL_ACTIONS,
                                       LEVEL_LABELS, profile_permissions, role_profile)
from app.metamodel.loader import load_spec
from app.web.profiles import ProfileFormError, changes, editable_functions, profile_from_form
from tests.conftest import ROOT

SPEC = load_spec(ROOT / "config", None)


def test_every_admin_function_and_level_has_a_german_label():
    assert set(LEVEL_LABELS) == set(LEVEL_ACTIONS)
    assert set(ADMIN_FUNCTIONS) - set(ADMIN_FUNCTION_ALIASES) <= set(ADMIN_FUNCTION_LABELS)
    assert "roles" not in dict(editable_functions())  # the old name is only read, never offered


def test_no_admin_function_grants_fabs_raw_permission_screens():
    raw = {"RoleModelView", "PermissionModelView", "ViewMenuModelView", "PermissionViewModelView"}
    granted = {view for needed in ADMIN_FUNCTIONS.values() for _action, view in needed}
    assert not raw & granted
    assert not any(("menu_access", name) in needed for needed in ADMIN_FUNCTIONS.values()
                   for name in ("List Roles", "Base Permissions", "Views/Menus", "Permission on Views/Menus"))


def fake_role(name: str, perms: set[tuple[str, str]]):
    return SimpleNamespace(name=name, permissions=[
        SimpleNamespace(permission=SimpleNamespace(name=a), view_menu=SimpleNamespace(name=v)) for a, v in perms])


@pytest.mark.parametrize("profile", SPEC.roles.profiles, ids=lambda p: p.name)
def test_a_role_reads_back_as_the_profile_that_made_it(profile):
    read = role_profile(SPEC, fake_role(profile.name, profile_permissions(SPEC, profile)))
    assert read["label"] == profile.label
    for entity in SPEC.entities:
        assert read["entities"][entity.name] == profile.entities.get(entity.name, profile.default)
    expected = {ADMIN_FUNCTION_ALIASES.get(a, a) for a in profile.admin if ADMIN_FUNCTIONS[a]}
    assert set(read.get("admin", [])) == expected


def test_form_is_read_as_a_profile_and_changes_are_listed():
    profile = next(p for p in SPEC.roles.profiles if p.name == "Sachbearbeitung")
    role = fake_role(profile.name, profile_permissions(SPEC, profile))
    before = role_profile(SPEC, role)
    form = MultiDict([(f"level_{name}", level) for name, level in before["entities"].items()])
    form.setlist("level_social_situation", ["read"])
    form.setlist("admin", ["merge"])
    after = profile_from_form(SPEC, role, form)
    assert after.entities["social_situation"] == "read" and after.admin == ["merge"]
    assert changes(SPEC, before, after) == [("social_situation", "none", "read"), ("admin:merge", "nein", "ja")]


def test_unknown_level_or_function_is_refused_in_german():
    role = fake_role("Sachbearbeitung", set())
    with pytest.raises(ProfileFormError, match="Seite „Fallakte“: unbekannte Stufe „alles“"):
        profile_from_form(SPEC, role, MultiDict([("level_case", "alles")]))
    with pytest.raises(ProfileFormError, match="unbekannte Funktion „roles“"):
        profile_from_form(SPEC, role, MultiDict([("admin", "roles")]))
