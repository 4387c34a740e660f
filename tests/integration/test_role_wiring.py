"""The roles wiring on the real app: menu items are granted by key, so a new German label keeps every
permission; a page registered under another name makes the start (and ``check-config``) refuse with
the line in roles.yaml instead of silently taking the permission away.

Models exist once per process, so each variant of the app is built in its own subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from app.web.build_roles import offered_permissions, profile_permissions, wiring_problems
from app.metamodel.loader import locator
from app.web import menus
from tests.conftest import ROOT

PROBE = """
import json
from app.web import menus
{patch}
from app import create_app
from app.web.build_roles import profile_permissions
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}})
spec = app.config["FACHSTELLE_SPEC"]
item = app.appbuilder.menu.find(menus.CATALOGUES)
admin = next(p for p in spec.roles.profiles if "catalogues" in p.admin)
print(json.dumps({{"label": item.label, "granted": ("menu_access", item.name) in profile_permissions(spec, admin)}}))
"""


def _run(code: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FACHSTELLE_INSTANCE_DIR": str(tmp_path), "FACHSTELLE_CONFIG_DIR": str(ROOT / "config"),
           "FACHSTELLE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    env.pop("FACHSTELLE_CITY", None)
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_shipped_profiles_are_wired_to_registered_views(app):
    spec = app.config["FACHSTELLE_SPEC"]
    offered = offered_permissions(app.appbuilder)
    assert wiring_problems(spec, offered, locator(ROOT / "config", None)) == []
    assert all(profile_permissions(spec, p) <= offered for p in spec.roles.profiles)


def test_hand_written_menu_items_are_named_by_key_and_labelled_in_german(app):
    for key, label in menus.LABELS.items():
        item = app.appbuilder.menu.find(key)
        assert item is not None and item.label == label, key


def test_a_new_label_keeps_the_permission(tmp_path):
    result = _run(PROBE.format(patch='menus.LABELS[menus.CATALOGUES] = "Wertelisten"'), tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"label": "Wertelisten", "granted": True}


def test_a_page_registered_under_another_name_stops_check_config_with_the_line_in_roles_yaml(tmp_path):
    # The old way: the German label as the item's name. The profiles grant the key, which no item offers.
    patch = ("from app.web import menus\n_item = menus.item\n"
             "menus.item = lambda key, category=None: {**_item(key, category), 'name': menus.LABELS[key]}\n"
             "import sys; from app.cli import main; sys.argv = ['fachstelle', 'check-config']; main()")
    result = _run(patch, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    roles = (ROOT / "config" / "roles.yaml").read_text(encoding="utf-8").splitlines()
    profiles = [n for n, text in enumerate(roles, start=1) if text.startswith("  - name: ")]
    admin_lines = [n for n, text in enumerate(roles, start=1) if "admin: [" in text and "catalogues" in text]
    assert admin_lines, "roles.yaml: kein Profil mit der Admin-Funktion 'catalogues'"
    line = admin_lines[0]
    index = sum(1 for n in profiles if n < line) - 1
    expected = (f"config/roles.yaml:{line}: profiles[{index}].admin[0]: (roles.E001) Profil 'Fachadmin': "
                f"Admin-Funktion 'catalogues' – keine registrierte Seite bietet menu_access auf 'catalogues'")
    assert expected in result.stderr
    assert "Die Konfiguration enthält" in result.stderr and "Traceback" not in result.stderr
