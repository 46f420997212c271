"""Django REST framework front end of the guard (SPEC §12).

    from apikeys.contrib.drf import APIKeyAuthentication, HasAPIKeyPermission

    class ReportList(APIView):
        authentication_classes = [APIKeyAuthentication]
        permission_classes = [HasAPIKeyPermission]
        required_permission = "reports:read"          # or {"GET": ..., "POST": ...}

``APIKeyAuthentication`` runs checks 1-6 (and 8) of :mod:`apikeys.guard.decision` when
the request presents a key, and sets ``request.auth`` (and ``request.api_key``) to
the key; ``request.user`` is ``AnonymousUser``: a key is not a person, so DRF and
Django permissions meant for users never take it for one. With no key it returns
None, so other authentication classes may try. ``HasAPIKeyPermission`` runs check 7
for the view's ``required_permission`` (authenticating first when no
``APIKeyAuthentication`` did, so a request without a key answers 401
MISSING_API_KEY), records the key's usage, and stamps ``X-Api-Key-Expires`` on the
answer. A view that names no ``required_permission``, or a method its mapping does
not name, is refused to every key (deny by default; ``manage.py check`` says so,
apikeys.E006).

Refusals are :class:`APIKeyRefused`, an ``APIException`` whose ``detail`` is the
envelope of SPEC §4 (``{"error", "code", "details"}``) with its status; DRF's default
exception handler renders it as is, always as JSON, and every header of the refusal
(``WWW-Authenticate``, ``Retry-After``, ``X-Accepted-Permissions``,
``X-Api-Key-Expires``) is put on the view's response headers, so no
``EXCEPTION_HANDLER`` setting is needed. A host's own handler must pass
``APIKeyRefused`` through unchanged. Refusals are counted (per IP, per key) and
logged by the decision path, exactly as under the middleware.

With the middleware: a view under APIKEYS_API_PREFIX whose ``permission_classes``
hold ``HasAPIKeyPermission`` (the class or a subclass, not composed with ``|`` or
``&``) is recognised as guarded here (:mod:`apikeys.contrib`); the middleware lets it
through after check 1 and judges it no further, so it is judged once. Any other DRF
view under the prefix is refused by the middleware (deny by default, apikeys.E001).
The class attribute is what is recognised: a view that overrides ``get_permissions()``
is guarded by whatever that returns.

Under ``ATOMIC_REQUESTS`` DRF rolls back the view's transaction on any APIException,
so a refusal's usage write (the first of a key in a window; later ones are batched)
is rolled back with it; the middleware writes outside the view's transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from apikeys import contrib
from apikeys.decorators import BY_METHOD, FRONT_END, permission_for_method
from apikeys.guard import decision, frontend
from apikeys.models import APIKey

NAME = "drf"


class APIKeyRefused(APIException):
    """A refusal of the guard, rendered by DRF: status, §4 body and headers as decided."""

    def __init__(self, refused: frontend.Refused) -> None:
        super().__init__()
        self.status_code = refused.status
        self.detail = refused.body  # the envelope as it is, not DRF's ErrorDetail strings
        self.headers = refused.headers
        # DRF's default exception handler copies these two onto the answer.
        self.auth_header = refused.headers.get("WWW-Authenticate")
        retry_after = refused.headers.get("Retry-After")
        self.wait = int(retry_after) if retry_after else None


def _refused(refused: frontend.Refused, request: Request, view: Any) -> APIKeyRefused:
    _add_headers(view, refused.headers)
    # A refusal is JSON whatever the client accepts: a browser asking for text/html would
    # otherwise get the browsable API's page (or a 500 where its templates are not installed).
    request.accepted_renderer = JSONRenderer()
    request.accepted_media_type = JSONRenderer.media_type
    return APIKeyRefused(refused)


def _add_headers(view: Any, headers: dict[str, str]) -> None:
    # APIView.finalize_response copies view.headers onto every answer, an exception's too.
    if headers and isinstance(getattr(view, "headers", None), dict):
        view.headers.update(headers)


def _django_request(request: Request | HttpRequest) -> HttpRequest:
    return getattr(request, "_request", request)


class APIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AnonymousUser, APIKey] | None:
        http_request = _django_request(request)
        if not frontend.wants_key(http_request):
            return None
        try:
            key = frontend.authenticate(http_request)
        except frontend.Refused as refused:
            raise _refused(refused, request, request.parser_context.get("view")) from None
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        """The 401s DRF itself answers (NotAuthenticated) name the key header too."""
        return decision.www_authenticate()


class HasAPIKeyPermission(BasePermission):
    # Lets apikeys.contrib recognise the views guarded here without importing DRF there.
    apikeys_front_end = NAME

    def has_permission(self, request: Request, view: Any) -> bool:
        http_request = _django_request(request)
        try:
            key = request.auth if isinstance(request.auth, APIKey) else None
            if key is None:
                # No APIKeyAuthentication ran, or it found no key: judge the request
                # here, so no key answers 401 MISSING_API_KEY (or 429 while limited).
                key = frontend.authenticate(http_request)
            permission, declared = required_for(view, request.method or "GET")
            frontend.grant(http_request, key, permission, declared=declared)
        except frontend.Refused as refused:
            raise _refused(refused, request, view) from None
        _add_headers(view, decision.expiry_headers(key))
        return True


def required_for(view: Any, method: str) -> tuple[str | None, bool]:
    """(the permission ``method`` needs on ``view``, whether the view declared one).

    A mapping by method that does not name ``method`` declares nothing for it when the
    view serves it (deny by default), and needs no permission when the view does not
    (DRF answers 405 after the key was checked), as under the middleware.
    """
    required = getattr(view, "required_permission", None)
    if isinstance(required, str):
        return required, True
    if isinstance(required, dict):
        by_method = {name.upper(): code for name, code in required.items()}
        permission = permission_for_method((BY_METHOD, by_method), method)
        if permission is not None:
            return permission, True
        return None, not hasattr(view, method.lower())
    return None, False


# --- Recognising the views guarded here (apikeys.contrib) -----------------------


def _guarded_view_class(view: Any) -> type | None:
    view_class = getattr(view, "cls", None)  # APIView.as_view() and viewsets set it
    if not isinstance(view_class, type):
        return None
    for permission in getattr(view_class, "permission_classes", ()) or ():
        if isinstance(permission, type) and issubclass(permission, HasAPIKeyPermission):
            return view_class
    return None


def _access(view: Any) -> tuple[str, Any] | None:
    return (FRONT_END, NAME) if _guarded_view_class(view) is not None else None


def _problems(view: Any) -> list[str]:
    view_class = _guarded_view_class(view)
    if view_class is None:
        return []
    required = getattr(view_class, "required_permission", None)
    if isinstance(required, str):
        return []
    if (
        isinstance(required, dict)
        and required
        and all(isinstance(code, str) for code in required.values())
    ):
        return []
    return [
        f"The DRF view {view_class.__module__}.{view_class.__qualname__} uses "
        f"HasAPIKeyPermission but its required_permission is {required!r}, not a code or "
        "a mapping of methods to codes, so every key is refused."
    ]


contrib.register(_access, _problems)
