"""Who acts: made once at the edge (web request, CLI command, job) and passed down.

Services and ``scope_query`` take an Actor instead of reading ``current_user``, ``g`` or the server's date
deep inside, so a job or a test can call them. Fail closed: without an actor nothing is visible; only an
explicit ``Actor.system(...)`` sees every unit.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from . import clock

ALL = "all"  # marker for system jobs and admins: every org unit


@dataclass(frozen=True)
class Actor:
    name: str  # for the history ("created by"): a username, "import", "system"
    units: tuple[int, ...] | str = ()  # the visible org unit ids, or ALL
    user_id: int | None = None
    home_unit: int | None = None  # where a new record of this actor belongs; None: it may not create
    profiles: tuple[str, ...] = field(default=())
    day: date | None = None  # today in Berlin, fixed when the actor was made (None: ask the clock)

    @property
    def sees_all(self) -> bool:
        return self.units == ALL

    @property
    def visible_units(self) -> list[int] | None:
        """The visible unit ids, or None for every unit (the convention of ``org_condition``)."""
        return None if self.units == ALL else list(self.units)

    @property
    def today(self) -> date:
        return self.day or clock.today()

    def can_see_unit(self, unit_id: int | None) -> bool:
        return self.sees_all or unit_id in self.units

    @classmethod
    def system(cls, name: str = "system", home_unit: int | None = None) -> Actor:
        """A job that sees everything (init, demo, imports, statistics): said explicitly, never a default."""
        return cls(name=name, units=ALL, home_unit=home_unit)

    @classmethod
    def nobody(cls) -> Actor:
        return cls(name="anonym", units=())


def actor_for_user(user, day: date | None = None) -> Actor:
    """The actor of a signed-in account: its org units (role Admin: every unit) and its home unit.

    1. The home unit is the account's first unit by id; an account without a unit has none and may not
       create records (no silent filing into some other unit).
    2. An anonymous or missing user is ``Actor.nobody()``.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor.nobody()
    units = sorted(unit.id for unit in (getattr(user, "org_units", None) or []))
    is_admin = any(role.name == "Admin" for role in (getattr(user, "roles", None) or []))
    return Actor(name=user.username, units=ALL if is_admin else tuple(units), user_id=user.id,
                 home_unit=units[0] if units else None,
                 profiles=tuple(sorted(role.name for role in (getattr(user, "roles", None) or []))),
                 day=day or clock.today())


# The web layer installs how a request's actor is made (app.web.actor.current_actor); code below the web
# layer asks ``request_actor()`` instead of importing Flask-Login. None: no request, or no source installed.
_request_source: Callable[[], Actor | None] | None = None


def install_request_source(source: Callable[[], Actor | None] | None) -> None:
    global _request_source
    _request_source = source


def request_actor() -> Actor | None:
    """The actor of the current web request, or None outside a request."""
    return _request_source() if _request_source is not None else None
