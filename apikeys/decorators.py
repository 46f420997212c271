"""How a view under /api/ declares who may call it. Deny by default.

The guard (apikeys.middleware) reads the declaration before the view runs; a
view that declares nothing refuses every request, and the system check in
apikeys.checks names it at `manage.py check`, as it names a declared code that
no registered permission has (apikeys.permissions).

    @require_permission(READ_RUNS)      # a key holding this permission
    @require_permissions_by_method({"GET": READ_RUNS, "POST": OPERATE_RUNS})
                                        # one URL, one permission per method
    @key_required                       # any usable key, no permission (introspection)
    @public                             # anyone (the OpenAPI document)
    @authenticated_by("upload_id")      # the view checks its own credential

Contract for the guard: ``access_of(view)`` returns ``(kind, value)``:

    ("permission", code)                  every method needs ``code``
    ("by-method", {"GET": code, ...})     the method's code; HEAD counts as GET.
                                          A method not in the mapping needs no
                                          permission but still a valid, usable key
                                          (checks 1-6 and 8, as "key-required"):
                                          the view answers it 405.
    ("key-required", None)                a valid, usable key (checks 1-6 and 8) and
                                          no permission: what the key may call is
                                          not the question (GET /api/v1/key)
    ("public", None)                      no key needed
    ("self-authenticated", credential)    no key needed; the view checks ``credential``
    ("front-end", "drf" | "ninja")        guarded by a framework's front end
                                          (apikeys.contrib), which runs the checks
                                          itself: the middleware lets it through
                                          after check 1. Never set by hand: the
                                          front end recognises its own views.

``permission_for_method(access, method)`` resolves the first two kinds to the
one code a request needs (or None: the other kinds), so the guard need not know
the kinds beyond "no key needed" (:data:`KEYLESS`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest

from apikeys import contrib

View = TypeVar("View", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "apikeys_access"
PERMISSION = "permission"
PUBLIC = "public"
SELF_AUTHENTICATED = "self-authenticated"
BY_METHOD = "by-method"
KEY_REQUIRED = "key-required"
FRONT_END = "front-end"
KINDS = frozenset({PERMISSION, BY_METHOD, KEY_REQUIRED, PUBLIC, SELF_AUTHENTICATED, FRONT_END})
# The kinds the guard lets through without a key.
KEYLESS = frozenset({PUBLIC, SELF_AUTHENTICATED})


def require_permission(code: str) -> Callable[[View], View]:
    # Not checked against the registry here: the host's registry is read on first use,
    # and a view module may load before it. The system check apikeys.E002 names a code
    # no permission has, and the guard refuses it to every key.
    def decorate(view: View) -> View:
        return _judged(view, (PERMISSION, code))

    return decorate


def require_permissions_by_method(codes: dict[str, str]) -> Callable[[View], View]:
    """One URL serving several methods, each with its own permission (GET/POST /runs)."""
    if not codes:
        raise ValueError("Declare at least one method and its permission.")
    by_method = {method.upper(): code for method, code in codes.items()}

    def decorate(view: View) -> View:
        return _judged(view, (BY_METHOD, by_method))

    return decorate


def key_required(view: View) -> View:
    """Any valid, usable key may call the view, whatever its permissions. Deliberately a
    declaration of its own, not "no permission": a view that forgets to declare still
    refuses every key."""
    return _judged(view, (KEY_REQUIRED, None))


def _judged(view: View, access: tuple[str, Any]) -> View:
    """``view`` declaring ``access``, and judged by its declaration even where the
    middleware is not (a host that left it out of MIDDLEWARE, a URL outside
    APIKEYS_API_PREFIX): fail closed, never open. Under the middleware the request
    arrives judged, with its key as ``request.api_key``, and passes straight through.
    An API key comes in a header, not a cookie, so CSRF has nothing to protect."""

    @functools.wraps(view)
    def judged(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if getattr(request, "api_key", None) is not None:
            return view(request, *args, **kwargs)
        return _judge_here(view, access, request, *args, **kwargs)

    setattr(judged, ACCESS_ATTRIBUTE, access)
    judged.csrf_exempt = True  # type: ignore[attr-defined]
    return judged  # type: ignore[return-value]


def _judge_here(
    view: Callable[..., Any],
    access: tuple[str, Any],
    request: HttpRequest,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Checks 1-8 as the middleware runs them, through the front ends' entry points."""
    from apikeys.guard import decision, frontend  # the guard imports this module

    try:
        key = frontend.authenticate(request)
        frontend.grant(request, key, permission_for_method(access, request.method or "GET"))
    except frontend.Refused as refused:
        return refused.response()
    response = view(request, *args, **kwargs)
    decision.stamp_expiry(response, key)
    return response


def public(view: View) -> View:
    setattr(view, ACCESS_ATTRIBUTE, (PUBLIC, None))
    return view


def authenticated_by(credential: str) -> Callable[[View], View]:
    """The view authenticates the request itself, with ``credential`` (for the docs)."""

    def decorate(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, (SELF_AUTHENTICATED, credential))
        return view

    return decorate


def access_of(view: Callable[..., Any] | None) -> tuple[str, Any] | None:
    """The declaration of a view, looking through functools.wraps layers; for a view
    that declares nothing, what a front end of apikeys.contrib says of it (a DRF or
    ninja view it guards), else None."""
    original = view
    seen = 0
    while view is not None and seen < 10:
        declared = getattr(view, ACCESS_ATTRIBUTE, None)
        if declared is not None:
            return declared
        view = getattr(view, "__wrapped__", None) or getattr(view, "view_class", None)
        seen += 1
    return contrib.access_of(original) if original is not None else None


def permission_for_method(access: tuple[str, Any] | None, method: str) -> str | None:
    """The permission code a request with ``method`` needs under ``access``, if any.

    None for public and self-authenticated views, and for a method a by-method
    view does not serve (the view answers 405 once the key is authenticated).
    """
    if access is None:
        return None
    kind, value = access
    if kind == PERMISSION:
        return value
    if kind == BY_METHOD:
        method = method.upper()
        return value.get(method) or (value.get("GET") if method == "HEAD" else None)
    return None


def declared_codes(access: tuple[str, Any] | None) -> list[str]:
    """Every permission code a declaration names (for the system check)."""
    if access is None:
        return []
    kind, value = access
    if kind == PERMISSION:
        return [value]
    if kind == BY_METHOD:
        return list(value.values())
    return []
