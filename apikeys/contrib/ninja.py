"""django-ninja front end of the guard (SPEC §12).

    from ninja import NinjaAPI
    from apikeys.contrib.ninja import APIKeyAuth, install

    api = NinjaAPI(docs_decorator=apikeys.decorators.public)  # docs under the prefix
    install(api)

    @api.get("/reports", auth=APIKeyAuth(permission="reports:read"))
    def reports(request):
        ...                                  # request.auth is the key

``APIKeyAuth(permission=code)`` runs the checks of SPEC §4 through
:mod:`apikeys.guard.decision` (HTTPS, the key, its expiry and status, the IP
allowlist, ``code``, the rate limit and argon2 budget), sets ``request.auth`` (and
``request.api_key``) to the key and records its usage. It never lets a request through
without a usable key, so when it is combined with other schemes
(``auth=[django_auth, APIKeyAuth(...)]``) it goes last: ninja tries the schemes in
order and stops at the first that refuses.

:func:`install` registers the exception handler that answers a refusal with its
status, §4 body (top-level ``code``) and headers, and stamps ``X-Api-Key-Expires`` on
the answers of guarded operations that return data (an operation that returns its
own ``HttpResponse`` sets it itself, if it wants it). Without it ninja would answer
500; ``manage.py check`` names an API that uses ``APIKeyAuth`` without it
(apikeys.E006).

With the middleware: a ninja path under APIKEYS_API_PREFIX whose every operation has an
``APIKeyAuth`` among its ``auth`` is recognised as guarded here (:mod:`apikeys.contrib`)
and let through after check 1, so it is judged once, here; the API's root (which
only ever answers 404) needs a usable key, as an unknown path does. A method that no
operation of a guarded path serves is ninja's own 405 (made JSON by the middleware),
answered before any key is asked for. Any other ninja
view under the prefix is refused by the middleware (deny by default, apikeys.E001),
including the OpenAPI document and docs unless ``docs_decorator`` declares them
(``apikeys.decorators.public``, or ``require_permission(code)``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.openapi.views import default_home
from ninja.operation import PathView
from ninja.security import APIKeyHeader

from apikeys import contrib
from apikeys.conf import apikeys_settings
from apikeys.decorators import FRONT_END, KEY_REQUIRED
from apikeys.guard import decision, frontend
from apikeys.models import APIKey

NAME = "ninja"
Refused = frontend.Refused


class APIKeyAuth(APIKeyHeader):
    def __init__(self, *, permission: str) -> None:
        if not isinstance(permission, str) or not permission:
            raise TypeError(
                f"APIKeyAuth needs the permission code the operation requires, not {permission!r}."
            )
        # The header named in the OpenAPI document's security scheme; the guard reads
        # APIKEYS_HEADER itself on every request.
        self.param_name = apikeys_settings.HEADER
        super().__init__()
        self.permission = permission
        contrib.declare(permission, f"The ninja operation guarded by APIKeyAuth({permission!r})")

    def __call__(self, request: HttpRequest) -> APIKey:
        return self.authenticate(request, None)

    def authenticate(self, request: HttpRequest, key: str | None) -> APIKey:
        """``key`` is unused: the decision path reads the header (and only the header)."""
        api_key = frontend.authenticate(request)
        frontend.grant(request, api_key, self.permission)
        return api_key

    def __repr__(self) -> str:
        return f"APIKeyAuth(permission={self.permission!r})"


def install(api: NinjaAPI) -> NinjaAPI:
    """Make ``api`` answer the guard's refusals as SPEC §4 does; returns ``api``."""
    api.add_exception_handler(Refused, _answer_refusal)
    if not getattr(api, "_apikeys_installed", False):
        api.create_temporal_response = _stamping(api.create_temporal_response)  # type: ignore[method-assign]
        api._apikeys_installed = True  # type: ignore[attr-defined]
    return api


def _answer_refusal(request: HttpRequest, exc: Any) -> HttpResponse:
    return exc.response()


def _stamping(create: Any) -> Any:
    @functools.wraps(create)
    def create_temporal_response(request: HttpRequest) -> HttpResponse:
        response: HttpResponse = create(request)
        key = getattr(request, "auth", None)
        if isinstance(key, APIKey):
            decision.stamp_expiry(response, key)
        return response

    return create_temporal_response


# --- Recognising the views guarded here (apikeys.contrib) -----------------------


def _path_view(view: Any) -> PathView | None:
    """The PathView behind a URL pattern's callback (ninja's view is a closure over it)."""
    for cell in getattr(view, "__closure__", None) or ():
        try:
            candidate = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(candidate, PathView):
            return candidate
    return None


def _guards(operation: Any) -> bool:
    return any(isinstance(auth, APIKeyAuth) for auth in operation.auth_callbacks or ())


def _access(view: Any) -> tuple[str, Any] | None:
    if isinstance(view, functools.partial) and view.func is default_home:
        return (KEY_REQUIRED, None)  # ninja's root: always 404, after the key (as unknown paths)
    path_view = _path_view(view)
    if path_view is None or not path_view.operations:
        return None
    return (FRONT_END, NAME) if all(_guards(op) for op in path_view.operations) else None


def _problems(view: Any) -> list[str]:
    path_view = _path_view(view)
    if path_view is None:
        return []
    found = []
    for operation in path_view.operations:
        api = operation.api
        if _guards(operation) and api is not None and not getattr(api, "_apikeys_installed", False):
            found.append(
                f"The ninja operation {operation.view_func.__module__}."
                f"{operation.view_func.__qualname__} uses APIKeyAuth, but its NinjaAPI "
                f"{api.urls_namespace!r} was not passed to apikeys.contrib.ninja.install(), "
                "so its refusals would answer 500."
            )
    return found


contrib.register(_access, _problems)
