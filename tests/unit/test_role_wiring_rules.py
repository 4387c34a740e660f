"""The roles wiring check: a profile that grants a page or admin function which no registered view
offers is a Problem at its line in roles.yaml (base file or city overlay), not a silently missing
permission. The offered permissions are what the shipped profiles need, minus the one a test breaks."""
from __future__ import annotations

from app.web.build_roles import ADMIN_FUNCTIONS, profile_permissions, wiring_problems
from app.metamodel.issues import SpecIssue
from app.metamodel.loader import load_spec, locator
from app.web import menus
from tests.unit.spec_support import write_config

ROLES = """\
    profiles:
      - name: Sachbearbeitung
        default: write
        entities:
          task: read
      - name: Verwaltung
        default: read
        admin: [merge, catalogues]
    """
HINT = "Seite registrieren oder build_roles.{} anpassen (Menünamen sind Schlüssel aus app/web/menus.py)."


def everything_granted(spec) -> set[tuple[str, str]]:
    return set().union(*(profile_permissions(spec, p) for p in spec.roles.profiles),
                       *(set(pairs) for pairs in ADMIN_FUNCTIONS.values()))


def problems_without(root, missing: set[tuple[str, str]], city: str | None = None):
    spec = load_spec(root, city)
    return wiring_problems(spec, everything_granted(spec) - missing, locator(root, city))


def test_all_offered_means_no_problem(tmp_path):
    root = write_config(tmp_path, roles=ROLES)
    assert problems_without(root, set()) == []


def test_admin_function_whose_page_is_not_registered_is_reported_at_its_line(tmp_path):
    root = write_config(tmp_path, roles=ROLES)
    assert problems_without(root, {("menu_access", menus.CATALOGUES)}) == [
        SpecIssue("roles.E001", "Profil 'Verwaltung': Admin-Funktion 'catalogues' – keine registrierte Seite "
                  "bietet menu_access auf 'catalogues'", str(root / "roles.yaml"), 8, "profiles[1].admin[1]",
                  HINT.format("ADMIN_FUNCTIONS")),
    ]


def test_page_that_comes_with_an_entity_level_is_reported_where_the_level_is_set(tmp_path):
    # The worklist comes with reading tasks: named explicitly (line 5) or by the default (line 7).
    root = write_config(tmp_path, roles=ROLES)
    assert problems_without(root, {("menu_access", menus.WORKLIST)}) == [
        SpecIssue("roles.E002", "Profil 'Sachbearbeitung', Seite 'task': keine registrierte Seite bietet "
                  "menu_access auf 'worklist'", str(root / "roles.yaml"), 5, "profiles[0].entities.task",
                  HINT.format("PAGE_PERMISSIONS")),
        SpecIssue("roles.E002", "Profil 'Verwaltung', Seite 'task': keine registrierte Seite bietet "
                  "menu_access auf 'worklist'", str(root / "roles.yaml"), 7, "profiles[1].default",
                  HINT.format("PAGE_PERMISSIONS")),
    ]


def test_a_city_overlay_profile_is_reported_in_the_overlay_file(tmp_path):
    root = write_config(tmp_path, roles=ROLES, cities={"x": {"roles.yaml": """\
        profiles:
          - name: Obdach
            admin: [streets]
        """}})
    problems = problems_without(root, {("can_delete", "StreetView")}, city="x")
    assert [(p.id, p.file, p.line, p.path) for p in problems] == [
        ("roles.E001", str(root / "cities" / "x" / "roles.yaml"), 3, "profiles[0].admin[0]"),  # as in that file
    ]
    assert "can_delete auf 'StreetView'" in problems[0].message
