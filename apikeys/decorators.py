"""How a view under /api/ declares who may call it. Deny by default.

The guard (apikeys.middleware) reads the declaration before the view runs; a
view that declares nothing refuses every request, and the system check in
apikeys.checks names it at `manage.py check`.

    @require_permission(READ_RUNS)      # a key holding this permission
    @public                             # anyone (the OpenAPI document)
    @authenticated_by("upload_id")      # the view checks its own credential
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .permissions import PERMISSIONS

View = TypeVar("View", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "apikeys_access"
PERMISSION = "permission"
PUBLIC = "public"
SELF_AUTHENTICATED = "self-authenticated"


def require_permission(code: str) -> Callable[[View], View]:
    if code not in PERMISSIONS:
        raise ValueError(f"Unknown permission {code!r}; it is not in apikeys.permissions.")

    def decorate(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, (PERMISSION, code))
        return view

    return decorate


def public(view: View) -> View:
    setattr(view, ACCESS_ATTRIBUTE, (PUBLIC, None))
    return view


def authenticated_by(credential: str) -> Callable[[View], View]:
    """The view authenticates the request itself, with ``credential`` (for the docs)."""

    def decorate(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, (SELF_AUTHENTICATED, credential))
        return view

    return decorate


def access_of(view: Callable[..., Any] | None) -> tuple[str, str | None] | None:
    """The declaration of a view, looking through functools.wraps layers."""
    seen = 0
    while view is not None and seen < 10:
        declared = getattr(view, ACCESS_ATTRIBUTE, None)
        if declared is not None:
            return declared
        view = getattr(view, "__wrapped__", None) or getattr(view, "view_class", None)
        seen += 1
    return None
