"""Who acts: made once at the edge (web request, CLI command, job) and passed down.

Services and ``scope_query`` take an Actor instead of reading ``current_user``, ``g`` or the server's date
deep inside, so a job or a test can call them. Fail closed: without an actor nothing is visible; only an
explicit ``Actor.system(...)`` sees every unit.
"""
from __future__ import annotations

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
