"""roles.yaml -> FAB roles and permissions, and the way back (``fachstelle roles export``).

A profile names an access level per entity (none/read/write/delete) and admin functions. Each level
grants a fixed set of FAB permissions on the entity's one permission name, for HTML and REST alike.
Run once per deploy (``init``/``sync-roles``); web workers start with FAB_UPDATE_PERMS=False.
"""
from __future__ import annotations

import yaml

from ..metamodel.issues import Found
from ..metamodel.spec import AppSpec, ProfileSpec
from ..problems import Problem
from . import menus
from .build_views import PERMISSION_ACTIONS, permission_name
from .fab_compat import registered_views

LEVEL_ACTIONS = {
    "none": (),
    "list": ("can_list",),  # #15: the list only, sensitive fields masked; no record opens
    "read": ("can_list", "can_show"),
    "write": ("can_list", "can_show", "can_add", "can_edit"),
    "delete": PERMISSION_ACTIONS,
}
# Every signed-in user may see their own account and change their password. "Mein Profil" and "Passwort
# ändern" (app/web/account.py) need no permission; FAB's own-password page only leads there (#11).
BASE_PERMISSIONS = [
    ("can_userinfo", "UserDBModelView"), ("resetmypassword", "UserDBModelView"),
    ("can_get", "OpenApi"), ("can_get", "MenuApi"),
]
# Hand-written pages that come with reading an entity: the worklist with the tasks.
PAGE_PERMISSIONS = {
    "task": [("menu_access", menus.WORKLIST)],
    "case": [("menu_access", menus.MY_CASES)],
    "eviction_lawsuit": [("menu_access", menus.LAWSUIT_NOTICE)],
    # Whoever may read documentation may write letters from it and keep their letterhead.
    "doc_entry": [("menu_access", menus.DOC_OVERVIEW), ("menu_access", menus.DOCUMENTATION_CATEGORY),
                  ("can_form", "MyLetterheadView"), ("menu_access", menus.MY_LETTERHEAD)],
    "forced_eviction": [("menu_access", menus.EVICTION_NOTICE)],
    # Loans (#13): the account page of a loan and the open-loans report for whoever may read loans.
    "loan": [("can_show", "LoanAccountView"), ("can_report", "LoanAccountView"), ("menu_access", menus.LOAN_REPORT),
             ("menu_access", menus.LOANS_CATEGORY)],
    # Unterbringung (#12): board, lists and utilisation come with reading occupancies
    "occupancy": [("menu_access", menus.OCCUPANCY_BOARD), ("menu_access", menus.UTILISATION),
                  ("menu_access", "Unterbringung")],
}
# Writing letters (single and series) comes with writing documentation: a letter is an entry's result.
LETTER_WRITING = [("can_create", "LetterView"), ("can_series", "LetterView"), ("menu_access", menus.LETTER_SERIES),
                  ("can_generate", "EntryLetterView")]
ADMIN_FUNCTIONS = {
    "catalogues": [("can_list", "CatalogueValueView"), ("can_show", "CatalogueValueView"),
                   ("can_add", "CatalogueValueView"), ("can_edit", "CatalogueValueView"),
                   ("can_usage", "CatalogueValueView"), ("menu_access", menus.CATALOGUES)],
    "org_units": [("can_list", "OrgUnitView"), ("can_show", "OrgUnitView"), ("can_add", "OrgUnitView"),
                  ("can_edit", "OrgUnitView"), ("menu_access", menus.ORG_UNITS)],
    "streets": [("can_list", "StreetView"), ("can_show", "StreetView"), ("can_add", "StreetView"),
                ("can_edit", "StreetView"), ("can_delete", "StreetView"), ("menu_access", menus.STREETS)],
    "merge": [("can_form", "PartnerMergeView"), ("menu_access", menus.PARTNER_MERGE)],
    # The upload page of every file import (app/web/imports.py): check, then import.
    "imports": [("can_form", "ImportView"), ("menu_access", menus.IMPORTS)],
    "users": [(a, "UserDBModelView") for a in ("can_list", "can_show", "can_add", "can_edit", "can_delete")]
             + [("menu_access", "List Users"), ("menu_access", "Security")],
    # The profile editor (Administration › Berechtigungsprofile): these profiles, edited in the browser.
    # FAB's raw role and permission screens stay with the technical "Admin" role (#11).
    "profiles": [(a, "AccessProfileView") for a in ("can_list", "can_edit", "can_export")]
                + [("menu_access", menus.PROFILES)],
    # The history of each record is on its page; the export history (#14) is its own page.
    "history": [("can_list", "ExportHistory"), ("menu_access", menus.EXPORT_HISTORY)],
    "letters": [("can_read", "LetterTemplateAdminView"), ("can_write", "LetterTemplateAdminView"),
                ("menu_access", menus.LETTER_TEMPLATES),
                *[(a, v) for v in ("StaffDetailsView", "OfficeDetailsView")
                  for a in ("can_list", "can_show", "can_add", "can_edit", "can_delete")],
                ("menu_access", menus.STAFF_DETAILS), ("menu_access", menus.OFFICE_DETAILS)],
    # QS 1.1-1.5 report with drill-down and downloads (menu "Berichte"), QS 1.5 confirmations per district.
    "indicators": [("can_show", "IndicatorReport"), ("menu_access", menus.INDICATOR_REPORT),
                   ("menu_access", menus.REPORTS)],
    # The login audit (#11): every sign-in attempt, lockout and sign-out, read-only.
    "login_audit": [("can_list", "LoginAuditView"), ("menu_access", menus.LOGIN_AUDIT)],
    "access_standards": [("can_list", "AccessStandard"), ("can_edit", "AccessStandard"),
                         ("menu_access", menus.ACCESS_STANDARDS)],
    # Official housing statistics (#14): NRW form and federal records, snapshots, drill-down (menu "Berichte").
    "statistics": [("can_show", "HousingStatistics"), ("can_edit", "HousingStatistics"),
                   ("menu_access", menus.HOUSING_STATISTICS), ("menu_access", menus.REPORTS)],
    # The research module (#14): free queries within the profile's pages and units, saved and shared.
    "research": [("can_show", "Research"), ("menu_access", menus.RESEARCH), ("menu_access", menus.REPORTS)],
    # #12: the monthly fee run of the whole city (Obdachverwaltung › Gebührenlauf) and its preview.
    "fees": [("can_show", "FeeRunView"), ("can_run", "FeeRunView"), ("menu_access", menus.FEE_RUN),
             ("menu_access", "Unterbringung")],
    # The treasury (#13): export to the Stadtkasse, payment import, Klärfälle.
    "treasury": [("can_export", "TreasuryView"), ("can_payments", "TreasuryView"), ("can_clear", "TreasuryView"),
                 ("menu_access", menus.TREASURY), ("menu_access", menus.TREASURY_PAYMENTS),
                 ("menu_access", menus.TREASURY_CLEAR), ("menu_access", menus.LOANS_CATEGORY)],
    # --- Datenschutz (#15) ---
    "privacy": [("can_list", "AccessLogView"), ("menu_access", menus.ACCESS_LOG),
                ("can_list", "RetentionProtocolView"), ("menu_access", menus.RETENTION_PROTOCOL),
                ("menu_access", menus.PRIVACY)],
    "subject_access": [("can_export", "SubjectAccessView"), ("menu_access", menus.SUBJECT_ACCESS),
                       ("menu_access", menus.PRIVACY)],
}
# Before #11 "roles" granted FAB's role screens; it now means the profile editor, as "profiles" does.
ADMIN_FUNCTION_ALIASES = {"roles": "profiles"}
ADMIN_FUNCTIONS.update({alias: ADMIN_FUNCTIONS[name] for alias, name in ADMIN_FUNCTION_ALIASES.items()})
OWN_MENU_FUNCTIONS = {"indicators", "statistics", "research", "fees", "treasury", "privacy", "subject_access"}  # not under "Administration"
# What the profile editor calls the levels and the admin functions.
LEVEL_LABELS = {"none": "kein Zugriff", "list": "nur Liste (vertrauliche Felder verdeckt)", "read": "lesen", "write": "schreiben", "delete": "löschen"}
ADMIN_FUNCTION_LABELS = {
    "catalogues": "Kataloge (Wertelisten) pflegen",
    "users": "Benutzerkonten verwalten",
    "profiles": "Berechtigungsprofile bearbeiten",
    "org_units": "Dienststellen pflegen",
    "streets": "Straßenverzeichnis pflegen",
    "merge": "Partner zusammenführen",
    "imports": "Dateien importieren",
    "history": "Änderungsverlauf",
    "letters": "Briefvorlagen und Briefkopf-Angaben",
    "indicators": "Kennzahlen Prävention (Berichte)",
    "access_standards": "Einheitlicher Zugang (QS 1.5)",
    "login_audit": "Anmeldeprotokoll lesen",
    "statistics": "Amtliche Statistik (NRW 30.06., Bund 31.01.)",
    "research": "Recherche (freie Abfragen, Berichte)",
    "fees": "Gebührenlauf der Unterbringung (ganze Stadt)",
    "treasury": "Stadtkasse: Export, Zahlungsimport, Klärfälle",
    "privacy": "Datenschutz: Zugriffsprotokoll und Aufbewahrung",
    "subject_access": "Auskunft nach Art. 15 DSGVO erteilen",
}


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
            perms.add(("menu_access", menus.ADMIN))
    return perms


def apply_profile(sm, spec: AppSpec, profile: ProfileSpec):
    """Create or update the FAB role of one profile: exactly the permissions the profile grants.
    The caller commits (``sync_roles`` after all profiles, the profile editor after its history)."""
    role = sm.find_role(profile.name) or sm.add_role(profile.name)
    role.permissions = [sm.add_permission_view_menu(action, view)
                        for action, view in sorted(profile_permissions(spec, profile))]
    return role


def sync_roles(sm, spec: AppSpec) -> list[str]:
    """Create or update one FAB role per profile; returns the role names."""
    names = []
    for profile in spec.roles.profiles:
        apply_profile(sm, spec, profile)
        names.append(profile.name)
    sm.session.commit()
    return names


def role_profile(spec: AppSpec, role) -> dict:
    """A role as it is in the database, read back as a roles.yaml profile (name, label, levels, admin)."""
    levels_by_actions = {frozenset(actions): level for level, actions in LEVEL_ACTIONS.items()}
    perms = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
    entities = {}
    for entity in spec.entities:
        actions = frozenset(a for a in PERMISSION_ACTIONS if (a, permission_name(entity.name)) in perms)
        entities[entity.name] = levels_by_actions.get(actions, "read" if actions else "none")
    admin = [name for name, needed in ADMIN_FUNCTIONS.items()
             if needed and name not in ADMIN_FUNCTION_ALIASES and set(needed) <= perms]
    known = next((p for p in spec.roles.profiles if p.name == role.name), None)
    label = {"label": known.label} if known is not None and known.label else {}
    return {"name": role.name, **label, "entities": entities, **({"admin": admin} if admin else {})}


def editable_roles(sm) -> list:
    """The roles that are profiles: all but FAB's technical "Admin" and "Public"."""
    return sorted((r for r in sm.get_all_roles() if r.name not in ("Admin", "Public")), key=lambda r: r.name)


def export_roles(sm, spec: AppSpec) -> str:
    """The roles as they are in the database, written back as roles.yaml profiles."""
    profiles = [role_profile(spec, role) for role in editable_roles(sm)]
    return yaml.safe_dump({"profiles": profiles}, allow_unicode=True, sort_keys=False)


# --- wiring: every permission a profile grants must be offered by a registered view -----------------

def offered_permissions(appbuilder) -> set[tuple[str, str]]:
    """Every (permission, view or menu name) that the registered views and menu items offer."""
    offered = {(permission, view.class_permission_name)
               for view in registered_views(appbuilder) for permission in (view.base_permissions or ())}
    offered.update(("menu_access", name) for name in appbuilder.menu.get_flat_name_list())
    return offered


def _shown(pairs: set[tuple[str, str]]) -> str:
    return ", ".join(f"{action} auf '{view}'" for action, view in sorted(pairs))


def wiring_problems(spec: AppSpec, offered: set[tuple[str, str]], locate) -> list[Problem]:
    """A profile that grants a page or admin function no registered view offers: one Problem each, at
    its place in roles.yaml (``locate(Found) -> Problem`` adds file and line). Without this check a
    renamed view or menu item would silently take the permission away."""
    found: list[Found] = []
    for i, profile in enumerate(spec.roles.profiles):
        at = ("roles", "profiles", i)
        base = set(BASE_PERMISSIONS) - offered
        if base:
            found.append(Found("roles.E003", (*at, "name"),
                               f"Profil '{profile.name}': Grundrechte ohne Seite: {_shown(base)}",
                               "Die Sicherheitsseiten von Flask-AppBuilder müssen registriert sein."))
        by_entity: dict[str, set[tuple[str, str]]] = {}
        for entity_name, extra in PAGE_PERMISSIONS.items():
            if spec.entity(entity_name) and profile.entities.get(entity_name, profile.default) != "none":
                by_entity.setdefault(entity_name, set()).update(extra)
        if spec.entity("doc_entry") and profile.entities.get("doc_entry", profile.default) in ("write", "delete"):
            by_entity.setdefault("doc_entry", set()).update(LETTER_WRITING)
        for entity_name, needed in by_entity.items():
            missing = needed - offered
            if missing:
                key = (*at, "entities", entity_name) if entity_name in profile.entities else (*at, "default")
                found.append(Found("roles.E002", key,
                                   f"Profil '{profile.name}', Seite '{entity_name}': keine registrierte Seite "
                                   f"bietet {_shown(missing)}",
                                   "Seite registrieren oder build_roles.PAGE_PERMISSIONS anpassen "
                                   "(Menünamen sind Schlüssel aus app/web/menus.py)."))
        for k, function in enumerate(profile.admin):
            missing = set(ADMIN_FUNCTIONS[function]) - offered
            if missing:
                found.append(Found("roles.E001", (*at, "admin", k),
                                   f"Profil '{profile.name}': Admin-Funktion '{function}' – keine registrierte "
                                   f"Seite bietet {_shown(missing)}",
                                   "Seite registrieren oder build_roles.ADMIN_FUNCTIONS anpassen "
                                   "(Menünamen sind Schlüssel aus app/web/menus.py)."))
    return [locate(f) for f in found]
