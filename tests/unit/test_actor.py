"""The web edge's actor of an account: visible units, home unit, admin sees all, nobody sees nothing."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace as NS

import pytest

from app.actor import ALL, Actor, actor_for_user


def user(*unit_ids, roles=("Sachbearbeitung",), authenticated=True):
    return NS(id=5, username="meier", is_authenticated=authenticated, org_units=[NS(id=i) for i in unit_ids],
              roles=[NS(name=r) for r in roles])


@pytest.mark.parametrize(("account", "units", "home"), [
    (user(3, 2), (2, 3), 2),                     # several units: sees them all, files into the first by id
    (user(), (), None),                          # no unit: sees nothing and may not create (no fallback unit)
    (user(4, roles=("Admin",)), ALL, 4),         # Admin sees every unit, files into their own
    (user(roles=("Admin",)), ALL, None),         # an Admin without a unit sees all but files nowhere
    (user(1, authenticated=False), (), None),    # anonymous: Actor.nobody()
    (None, (), None),                            # no user at all
], ids=["units", "no-unit", "admin", "admin-no-unit", "anonymous", "none"])
def test_actor_for_user(account, units, home):
    actor = actor_for_user(account, day=date(2026, 1, 2))
    assert (actor.units, actor.home_unit) == (units, home)


def test_system_sees_all_and_nobody_nothing():
    assert Actor.system().sees_all and Actor.system().visible_units is None
    assert Actor.nobody().visible_units == [] and not Actor.nobody().can_see_unit(1)
    assert Actor(name="x", units=(1,)).can_see_unit(1) and not Actor(name="x", units=(1,)).can_see_unit(None)
