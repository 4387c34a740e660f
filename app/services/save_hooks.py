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


# --- before a new record is saved from a form: look-alikes the clerk confirms first ----------------------
_CHECKS: dict[str, list[Callable]] = {}


def on_adding(entity_name: str):
    """Register ``check(values) -> list[(text, url)]``: records the new one may duplicate (``values`` is the
    posted form). A non-empty answer stops the save until the user confirms ("Trotzdem anlegen")."""
    def register(check: Callable) -> Callable:
        checks = _CHECKS.setdefault(entity_name, [])
        if check not in checks:
            checks.append(check)
        return check
    return register


def before_add(entity_name: str, values) -> list:
    found: list = []
    for check in _CHECKS.get(entity_name, ()):
        found.extend(check(values))
    return found


# --- before a form saves a record (add or edit): entity rules that refuse with a German message ----------
_VALIDATORS: dict[str, list[Callable]] = {}


def on_validate(entity_name: str):
    """Register ``check(item)`` that raises ``DomainError`` when a form's record may not be saved (the
    overbooking check of #12); the form shows the message and keeps the input."""
    def register(check: Callable) -> Callable:
        checks = _VALIDATORS.setdefault(entity_name, [])
        if check not in checks:
            checks.append(check)
        return check
    return register


def validate(entity_name: str, item) -> None:
    for check in _VALIDATORS.get(entity_name, ()):
        check(item)


# --- before a record is saved (form and REST alike): rules that refuse the save with a German message ----
_SAVING: dict[str, list[Callable]] = {}


def on_saving(entity_name: str):
    """Register ``check(item)`` that raises a ``DomainError`` when the record may not be saved as it is
    (e.g. a Betreuung closed without a result, #15). The form shows the message, REST answers 400."""
    def register(check: Callable) -> Callable:
        checks = _SAVING.setdefault(entity_name, [])
        if check not in checks:
            checks.append(check)
        return check
    return register


def before_save(entity_name: str, item) -> None:
    for check in _SAVING.get(entity_name, ()):
        check(item)


# --- before a record is deleted (form or REST): what goes with it ----------------------------------------
_DELETING: dict[str, list[Callable]] = {}


def on_deleting(entity_name: str):
    """Register ``hook(item)`` run before the delete check: it may remove dependent rows that only exist
    because of the record (a room's unbooked places, #12); what still refers to it then blocks the delete."""
    def register(hook: Callable) -> Callable:
        hooks = _DELETING.setdefault(entity_name, [])
        if hook not in hooks:
            hooks.append(hook)
        return hook
    return register


def before_delete(entity_name: str, item) -> None:
    for hook in _DELETING.get(entity_name, ()):
        hook(item)


# --- before a record is changed from a form or the REST API: rules of one entity (#13: a loan after its approval) ---
_UPDATE_CHECKS: dict[str, list[Callable]] = {}


def on_updating(entity_name: str):
    """Register ``check(item)`` that raises ``DomainError`` (German message) to refuse a change; nothing is saved."""
    def register(check: Callable) -> Callable:
        checks = _UPDATE_CHECKS.setdefault(entity_name, [])
        if check not in checks:
            checks.append(check)
        return check
    return register


def before_update(entity_name: str, item) -> None:
    for check in _UPDATE_CHECKS.get(entity_name, ()):
        check(item)
