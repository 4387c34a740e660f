"""After-save hooks per entity: entity-specific rules of the forms (the partner duplicate warning)
stay out of the generic view. The view calls ``after_save`` once a record is saved from a form."""
from __future__ import annotations

from collections.abc import Callable

_HOOKS: dict[str, list[Callable]] = {}


def on_saved(entity_name: str):
    """Register ``hook(item, created)`` to run after a form saved a record of ``entity_name``."""
    def register(hook: Callable) -> Callable:
        hooks = _HOOKS.setdefault(entity_name, [])
        if hook not in hooks:
            hooks.append(hook)
        return hook
    return register


def after_save(entity_name: str, item, created: bool) -> None:
    for hook in _HOOKS.get(entity_name, ()):
        hook(item, created)
