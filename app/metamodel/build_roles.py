"""roles.yaml -> FAB roles and permissions, and the way back (``fachstelle roles export``).

A profile names an access level per entity (none/read/write/delete) and admin functions. Each level
grants a fixed set of FAB permissions on the entity's one permission name, for HTML and REST alike.
Run once per deploy (``init``/``sync-roles``); web workers start with FAB_UPDATE_PERMS=False.
"""
from __future__ import annotations

import yaml

from .build_views import PERMISSION_ACTIONS, permission_name
from .spec import AppSpec, ProfileSpec

LEVEL_ACTIONS = {
    "none": (),
    "read": ("can_list", "can_show"),
    "write": ("can_list", "can_show", "can_add", "can_edit"),
    "delete": PERMISSION_ACTIONS,
}
# Every signed-in user may see their own account and change their password.
BASE_PERMISSIONS = [
    ("can_userinfo", "UserDBModelView"), ("resetmypassword", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"), ("can_this_form_post", "ResetMyPasswordView"),
    ("can_get", "OpenApi"), ("can_get", "MenuApi"),
]
# Hand-written pages that come with reading an entity: the worklist with the tasks.
PAGE_PERMISSIONS = {
    "task": [("menu_access", "Arbeitsliste")],
    "eviction_lawsuit": [("menu_access", "Räumungsklage erfassen")],
    # Whoever may read documentation may write letters from it and keep their letterhead.
    "doc_entry": [("menu_access", "Dokumentation (Übersicht)"), ("menu_access", "Falldokumentation"),
                  ("can_form", "MyLetterheadView"), ("menu_access", "Mein Briefkopf")],
    "forced_eviction": [("menu_access", "Zwangsräumung erfassen")],
}
# Writing letters (single and series) comes with writing documentation: a letter is an entry's result.
LETTER_WRITING = [("can_create", "LetterView"), ("can_series", "LetterView"), ("menu_access", "Serienbriefe"),
                  ("can_generate", "EntryLetterView")]
ADMIN_FUNCTIONS = {
    "catalogues": [("can_list", "CatalogueValueView"), ("can_show", "CatalogueValueView"),
                   ("can_add", "CatalogueValueView"), ("can_edit", "CatalogueValueView"),
                   ("menu_access", "Kataloge")],
    "org_units": [("can_list", "OrgUnitView"), ("can_show", "OrgUnitView"), ("can_add", "OrgUnitView"),
                  ("can_edit", "OrgUnitView"), ("menu_access", "Dienststellen")],
    "streets": [("can_list", "StreetView"), ("can_show", "StreetView"), ("can_add", "StreetView"),
                ("can_edit", "StreetView"), ("can_delete", "StreetView"), ("menu_access", "Straßenverzeichnis")],
    "merge": [("can_form", "PartnerMergeView"), ("menu_access", "Partner zusammenführen")],
    # The upload page of every file import (app/web/imports.py): check, then import.
    "imports": [("can_form", "ImportView"), ("menu_access", "Import")],
    "users": [(a, "UserDBModelView") for a in ("can_list", "can_show", "can_add", "can_edit", "can_delete")]
             + [("menu_access", "List Users"), ("menu_access", "Security")],
    "roles": [(a, "RoleModelView") for a in ("can_list", "can_show", "can_add", "can_edit", "can_delete")]
             + [("menu_access", "List Roles"), ("menu_access", "Security")],
    "history": [],
    "letters": [("can_read", "LetterTemplateAdminView"), ("can_write", "LetterTemplateAdminView"),
                ("menu_access", "Briefvorlagen"),
                *[(a, v) for v in ("StaffDetailsView", "OfficeDetailsView")
                  for a in ("can_list", "can_show", "can_add", "can_edit", "can_delete")],
                ("menu_access", "Briefkopf-Angaben"), ("menu_access", "Dienststellen-Briefkopf")],
    # QS 1.1-1.5 report with drill-down and downloads (menu "Berichte"), QS 1.5 confirmations per district.
    "indicators": [("can_show", "IndicatorReport"), ("menu_access", "Kennzahlen Prävention"),
                   ("menu_access", "Berichte")],
    "access_standards": [("can_list", "AccessStandard"), ("can_edit", "AccessStandard"),
                         ("menu_access", "Einheitlicher Zugang (QS 1.5)")],
}
OWN_MENU_FUNCTIONS = {"indicators"}  # not under "Administration"


def profile_permissions(spec: AppSpec, profile: ProfileSpec) -> set[tuple[str, str]]:
    perms: set[tuple[str, str]] = set(BASE_PERMISSIONS)
    for entity in spec.entities:
        level = profile.entities.get(entity.name, profile.default)
        actions = LEVEL_ACTIONS[level]
        perms.update((action, permission_name(entity.name)) for action in actions)
        if actions and entity.menu:
            perms.update({("menu_access", entity.plural), ("menu_access", entity.menu)})
    for entity_name, extra in PAGE_PERMISSIONS.items():
        if spec.entity(entity_name) and profile.entities.get(entity_name, profile.default) != "none":
            perms.update(extra)
    if spec.entity("doc_entry") and profile.entities.get("doc_entry", profile.default) in ("write", "delete"):
        perms.update(LETTER_WRITING)
    for function in profile.admin:
        perms.update(ADMIN_FUNCTIONS[function])
        if ADMIN_FUNCTIONS[function] and function not in OWN_MENU_FUNCTIONS:
            perms.add(("menu_access", "Administration"))
    return perms


def sync_roles(sm, spec: AppSpec) -> list[str]:
    """Create or update one FAB role per profile; returns the role names."""
    names = []
    for profile in spec.roles.profiles:
        role = sm.find_role(profile.name) or sm.add_role(profile.name)
        role.permissions = [sm.add_permission_view_menu(action, view)
                            for action, view in sorted(profile_permissions(spec, profile))]
        names.append(profile.name)
    sm.session.commit()
    return names


def export_roles(sm, spec: AppSpec) -> str:
    """The roles as they are in the database, written back as roles.yaml profiles."""
    levels_by_actions = {frozenset(actions): level for level, actions in LEVEL_ACTIONS.items()}
    profiles = []
    for role in sorted(sm.get_all_roles(), key=lambda r: r.name):
        if role.name in ("Admin", "Public"):
            continue
        perms = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
        entities = {}
        for entity in spec.entities:
            actions = frozenset(a for a in PERMISSION_ACTIONS if (a, permission_name(entity.name)) in perms)
            entities[entity.name] = levels_by_actions.get(actions, "read" if actions else "none")
        admin = [name for name, needed in ADMIN_FUNCTIONS.items() if needed and set(needed) <= perms]
        profiles.append({"name": role.name, "entities": entities, **({"admin": admin} if admin else {})})
    return yaml.safe_dump({"profiles": profiles}, allow_unicode=True, sort_keys=False)
