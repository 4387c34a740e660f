"""The web request's edge: the signed-in user as an ``Actor``, made once per request and user."""
from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user

from .. import clock
from ..actor import Actor, actor_for_user


def request_actor_or_none() -> Actor | None:
    """For ``app.actor.request_actor``: the request's actor, None outside a request."""
    return current_actor() if has_request_context() else None


def current_actor() -> Actor:
    """The actor of this request (``Actor.nobody()`` when nobody is signed in or outside a request).

    Cached on ``g`` by user and Berlin day: tests run several clients (and logins) in one app context,
    and a frozen clock may move between their requests.
    """
    if not has_request_context():
        return Actor.nobody()
    user = current_user._get_current_object()
    key = (getattr(user, "id", None), clock.today())
    cached = g.get("_fs_actor")
    if cached is not None and cached[0] == key:
        return cached[1]
    actor = actor_for_user(user, day=key[1])
    g._fs_actor = (key, actor)
    return actor
