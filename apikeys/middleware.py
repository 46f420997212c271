"""The /api/ guard: one middleware, the checks of SPEC §4, one rejection path.

Every request under ``/api/`` passes, in this order:

1. HTTPS in production (403 HTTPS_REQUIRED; never a redirect, which would make
   the client send its key again in clear).
2. An ``X-Api-Key`` header (401 MISSING_API_KEY; a key in the query string is
   never read).
3. A well-formed key with a right checksum, a known id and the right secret
   (401 INVALID_API_KEY: one answer for all of them, so nothing is revealed).
4. Not expired (403 EXPIRED_API_KEY).
5. Not deactivated (403 DISABLED_API_KEY).
6. Holding the permission the view declares (403 MISSING_PERMISSION); a view
   that declares nothing refuses every request (deny by default).
7. A client IP under its limit of failed attempts (429 RATE_LIMITED). It
   counts the refusals of checks 2-5, so it cannot simply come last: while an
   IP is over its limit, a request from it that would be refused as missing or
   invalid answers 429 instead, and a key is verified there only if this
   process verified its secret recently (one hash and a constant-time compare);
   anything else is answered 429 before argon2 runs, so a flood of guesses
   costs no argon2 at all. A working integration behind the same address (a
   shared NAT or CI runner) keeps working. The limit is read from the cache
   only on that slow path, never for a recently verified key.

Public and self-authenticated views (the OpenAPI document, signed upload URLs)
pass after check 1. Unknown paths answer JSON 404 after authentication, and
every error Django itself would render as HTML under /api/ (404, 405, 400,
500, even with DEBUG on) is answered as JSON instead.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from apikeys.decorators import PUBLIC, SELF_AUTHENTICATED, access_of, permission_for_method
from apikeys.guard import ratelimit, usage
from apikeys.guard.authentication import authenticate
from apikeys.guard.clientip import client_ip
from apikeys.guard.errors import REQUEST_ID_HEADER, json_error
from apikeys.models import APIKey
from apikeys.permissions import PERMISSION_CODES

request_log = logging.getLogger("apikeys.requests")
security_log = logging.getLogger("apikeys.security")

API_PREFIX = "/api/"
KEY_HEADER = "HTTP_X_API_KEY"
WWW_AUTHENTICATE = 'ApiKey header="X-Api-Key"'
# Query parameters a client might put a key in by mistake: we never read them, but say so.
_KEY_QUERY_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "x-api-key", "key", "token"})
# An incoming X-Request-Id is kept when it is short and plain, so it is safe to log and echo.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Refusals that count towards an IP's limit: the key did not authenticate or cannot be used.
_COUNTED_CODES = frozenset(
    {"MISSING_API_KEY", "INVALID_API_KEY", "EXPIRED_API_KEY", "DISABLED_API_KEY"}
)
_HTML_ERRORS = {
    400: ("BAD_REQUEST", "The request could not be understood; check its syntax and headers."),
    403: ("FORBIDDEN", "This request is not allowed."),
    404: ("NOT_FOUND", "Nothing exists at this path; check it against the API documentation."),
    405: ("METHOD_NOT_ALLOWED", "This endpoint does not accept that HTTP method."),
    413: ("PAYLOAD_TOO_LARGE", "The request body is larger than this endpoint accepts."),
    500: (
        "INTERNAL_ERROR",
        "Something went wrong on our side; quote the request id if it persists.",
    ),
}


class Refusal(Exception):
    """The one way a check says no; the middleware turns it into the JSON answer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        key: APIKey | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        self.key = key


class APIKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        request.request_id = _request_id(request)  # type: ignore[attr-defined]
        # An API key is not a cookie: cross-site requests cannot forge it, so CSRF
        # protection has nothing to protect here.
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        try:
            response = self._guarded(request)
        except Exception:
            security_log.exception("The API guard failed (request %s).", request.request_id)  # type: ignore[attr-defined]
            response = _error_for_status(request, 500)
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        return response

    def _guarded(self, request: HttpRequest) -> HttpResponse:
        if settings.APIKEYS_BENCH_GUARD_OFF:
            request.api_key = _bench_key()  # type: ignore[attr-defined]
            return _as_json_error(request, self.get_response(request))
        try:
            key, permission = _check(request)
        except Refusal as refusal:
            return _refuse(request, refusal)
        if key is not None:
            request.api_key = key  # type: ignore[attr-defined]
        response = _as_json_error(request, self.get_response(request))
        if key is not None:
            usage.record_use(key, permission=permission, ip=client_ip(request))
            _log(request, response.status_code, key.key_id)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Exceptions a view raises under /api/ become JSON, never Django's HTML pages."""
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, Http404):
            return _error_for_status(request, 404)
        if isinstance(exception, RequestDataTooBig):
            return _error_for_status(request, 413)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return _error_for_status(request, 400)
        if isinstance(exception, PermissionDenied):
            return _error_for_status(request, 403)
        request_log.error(
            "Unhandled error in %s %s (request %s).",
            request.method,
            request.path,
            getattr(request, "request_id", ""),
            exc_info=exception,
        )
        return _error_for_status(request, 500)


# --- The checks -------------------------------------------------------------


def _check(request: HttpRequest) -> tuple[APIKey | None, str | None]:
    """(the key, the permission it exercises), or Refusal. Public views: (None, None)."""
    if settings.APIKEYS_REQUIRE_HTTPS and not request.is_secure():
        raise Refusal(
            403,
            "HTTPS_REQUIRED",
            "This API is served over HTTPS only; send the request to the https:// URL "
            "and treat the key you sent in clear as exposed.",
        )

    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    access = access_of(match.func) if match is not None else None
    if access is not None and access[0] in (PUBLIC, SELF_AUTHENTICATED):
        return None, None

    block: ratelimit.Block | None = None

    def under_limit() -> bool:
        # Asked only on the slow paths (no key, an unverified secret): an accepted
        # request never parses the client's address for the rate limit.
        nonlocal block
        block = ratelimit.blocked(_client_ip(request))
        return block is None

    raw = request.META.get(KEY_HEADER)
    if not raw:
        if not under_limit():
            raise _rate_limited(block)
        hint = ""
        if _KEY_QUERY_PARAMETERS & {name.lower() for name in request.GET}:
            hint = " Keys in the URL are never read: URLs end up in logs and browser history."
        raise Refusal(
            401,
            "MISSING_API_KEY",
            "This endpoint needs an API key; send it in the X-Api-Key header." + hint,
            headers={"WWW-Authenticate": WWW_AUTHENTICATE},
        )

    key = authenticate(raw, may_verify=under_limit)
    if key is None:
        if block is not None or not under_limit():
            raise _rate_limited(block)
        raise Refusal(
            401,
            "INVALID_API_KEY",
            "The API key is not valid; check that it was copied whole, or create a new one.",
            headers={"WWW-Authenticate": WWW_AUTHENTICATE},
        )

    if key.is_expired(timezone.now()):
        raise Refusal(
            403,
            "EXPIRED_API_KEY",
            "This API key has expired; rotate it in the dashboard and use its successor.",
            details={"key_id": key.key_id, "expired_at": key.expires_at.isoformat()}  # type: ignore[union-attr]
            if key.expires_at
            else {"key_id": key.key_id},
            key=key,
        )
    if not key.is_active:
        raise Refusal(
            403,
            "DISABLED_API_KEY",
            "This API key has been deactivated; ask a project admin to reactivate it "
            "or to give you another key.",
            details={"key_id": key.key_id},
            key=key,
        )

    if match is None:
        raise Refusal(404, *_HTML_ERRORS[404])
    if access is None:
        # Deny by default: a view that declares nothing is refused to every key
        # (and `manage.py check` names it, see apikeys.checks).
        security_log.error("View %r under /api/ declares no permission.", match.view_name)
        raise _missing_permission(key, required=[])
    permission = permission_for_method(access, request.method or "GET")
    if permission is not None and permission not in key.permissions:
        raise _missing_permission(key, required=[permission])
    return key, permission


def _rate_limited(block: ratelimit.Block | None) -> Refusal:
    retry_after = block.retry_after if block is not None else 1
    return Refusal(
        429,
        "RATE_LIMITED",
        f"Too many failed attempts from this address; try again in {retry_after} seconds.",
        details={"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def _missing_permission(key: APIKey, *, required: list[str]) -> Refusal:
    if required:
        message = f"This API key lacks the permission this endpoint needs: {', '.join(required)}."
    else:
        message = "This endpoint declares no permission, so no API key may call it."
    return Refusal(
        403,
        "MISSING_PERMISSION",
        message,
        details={"key_id": key.key_id, "required_permissions": required},
        headers={"X-Accepted-Permissions": ", ".join(required)},
        key=key,
    )


# --- Answers ----------------------------------------------------------------


def _refuse(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    ip = _client_ip(request)
    if refusal.code in _COUNTED_CODES:
        ratelimit.record_failure(ip)
    if refusal.key is not None:
        usage.record_refusal(refusal.key, code=refusal.code, ip=client_ip(request))
    _log(request, refusal.status, refusal.key.key_id if refusal.key else "", refusal.code)
    return json_error(
        request,
        refusal.status,
        refusal.code,
        refusal.message,
        details=refusal.details,
        headers=refusal.headers,
    )


def _error_for_status(request: HttpRequest, status: int) -> HttpResponse:
    code, message = _HTML_ERRORS.get(
        status, _HTML_ERRORS[500] if status >= 500 else _HTML_ERRORS[400]
    )
    return json_error(request, status, code, message)


def _as_json_error(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Replace an HTML error page (a 405 from require_http_methods, a 400 from
    DisallowedHost, DEBUG's technical pages) with the JSON envelope."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    replacement = _error_for_status(request, response.status_code)
    replacement.status_code = response.status_code
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            replacement[header] = response[header]
    return replacement


def _bench_key() -> APIKey:
    """Benchmark only (APIKEYS_BENCH_GUARD_OFF): an unsaved stand-in key, so the views
    run exactly as guarded but nothing is read or verified. Its project is
    ``APIKEYS_BENCH_PROJECT_ID``."""
    return APIKey(
        project_id=int(getattr(settings, "APIKEYS_BENCH_PROJECT_ID", 0) or 0),
        key_id="bench0000000",
        permissions=list(PERMISSION_CODES),
    )


def _request_id(request: HttpRequest) -> str:
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    if incoming and _REQUEST_ID_RE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _client_ip(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _log(request: HttpRequest, status: int, key_id: str, code: str = "") -> None:
    """One line per request: the request id, the key's public id, never the key itself."""
    level = logging.WARNING if code else logging.INFO
    if not request_log.isEnabledFor(level):
        return
    request_log.log(
        level,
        json.dumps(
            {
                "request_id": getattr(request, "request_id", ""),
                "method": request.method,
                "path": request.path,  # without the query string, where a key may have been put
                "status": status,
                "code": code,
                "key_id": key_id,
                "ip": _client_ip(request),
            }
        ),
    )
