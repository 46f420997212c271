"""The /api/ guard: one middleware, the checks of SPEC §4, one rejection path.

Every request under ``/api/`` (APIKEYS_API_PREFIX) passes, in this order (SPEC §4):

1. HTTPS in production (403 HTTPS_REQUIRED; never a redirect, which would make
   the client send its key again in clear).
2. An ``X-Api-Key`` header (APIKEYS_HEADER; 401 MISSING_API_KEY; a key in the query string is
   never read: a live one there is exposed and the request gets this answer,
   with a hint, even beside a header).
3. A well-formed key with a right checksum, a known id and the right secret
   (401 INVALID_API_KEY: one answer for all of them, so nothing is revealed).
4. Not expired (403 EXPIRED_API_KEY).
5. Not deactivated, not exposed (403 DISABLED_API_KEY; ``details.reason`` is
   ``"deactivated"`` or ``"exposed"``).
6. From an address in the key's IP allowlist, when it has one (403
   IP_NOT_ALLOWED, ``details.client_ip``).
7. Holding the permission the view declares (403 MISSING_PERMISSION); a view
   that declares nothing refuses every request (deny by default), and a view
   declared ``key_required`` needs a usable key and no permission.
8. A client IP under its limit of failed attempts (429 RATE_LIMITED), asked
   only on the slow paths (see apikeys.guard.decision).

A database that cannot be reached in time answers 503 SERVICE_UNAVAILABLE.
Every answer to a request whose key passed checks 1-5 (accepted, refused by
check 6 or 7, or the view's own 400 or 404) carries ``X-Api-Key-Expires`` when
the key has an expiry.

The checks themselves live in :mod:`apikeys.guard.decision`, shared with the DRF
and ninja front ends; this module routes, declares, and keeps every answer
under /api/ JSON. A DRF or ninja view that those front ends guard
(:mod:`apikeys.contrib`) is let through after check 1 without being judged here:
its framework judges it, with the same checks and records, exactly once.

Public and self-authenticated views (the OpenAPI document, GitHub secret
scanning, the revocation API, signed upload URLs) pass after check 1; a live
key in their URL is exposed all the same. Unknown paths answer JSON 404 after
authentication, and every error Django itself would render as HTML under /api/
(404, 405, 400, 500, even with DEBUG on) is answered as JSON instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse

from apikeys.conf import under_api
from apikeys.decorators import FRONT_END, KEYLESS, KINDS, permission_for_method
from apikeys.guard.decision import (
    Refusal,
    accept,
    authenticate_request,
    authorize,
    expiry_headers,
    expose_keys_in_url,
    refuse,
    require_https,
    stamp_expiry,
)
from apikeys.guard.errors import (
    DATABASE_ERRORS,
    REQUEST_ID_HEADER,
    incoming_request_id,
    json_error,
    log_unavailable,
    service_unavailable,
)
from apikeys.guard.request import APIRequest, api_request
from apikeys.guard.routing import route
from apikeys.models import APIKey

request_log = logging.getLogger("apikeys.requests")
security_log = logging.getLogger("apikeys.security")

_HTML_ERRORS = {
    400: ("BAD_REQUEST", "The request could not be understood; check its syntax and headers."),
    403: ("FORBIDDEN", "This request is not allowed."),
    404: ("NOT_FOUND", "Nothing exists at this path; check it against the API documentation."),
    405: ("METHOD_NOT_ALLOWED", "This endpoint does not accept that HTTP method."),
    413: ("PAYLOAD_TOO_LARGE", "The request body is larger than this endpoint accepts."),
    503: (
        "SERVICE_UNAVAILABLE",
        "The service cannot reach its database right now; retry in a few seconds.",
    ),
    500: (
        "INTERNAL_ERROR",
        "Something went wrong on our side; quote the request id if it persists.",
    ),
}


class APIKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        if not under_api(http_request.path):
            return self.get_response(http_request)
        request = api_request(http_request)
        request.api_key = None
        request.request_id = incoming_request_id(request)
        # An API key is not a cookie: cross-site requests cannot forge it, so CSRF
        # protection has nothing to protect here.
        request._dont_enforce_csrf_checks = True
        try:
            response = self._guarded(request)
        except DATABASE_ERRORS as error:  # the guard's own queries: 503, never a 500
            log_unavailable(error)
            response = service_unavailable(request)
        except Exception:
            security_log.exception("The API guard failed (request %s).", request.request_id)
            response = _error_for_status(request, 500)
        response[REQUEST_ID_HEADER] = request.request_id
        return response

    def _guarded(self, request: APIRequest) -> HttpResponse:
        try:
            key, permission = _check(request)
        except Refusal as refusal:
            return refuse(request, refusal)
        if key is not None:
            request.api_key = key
        response = as_json_error(request, self.get_response(request))
        if key is not None:
            stamp_expiry(response, key)
            accept(request, key, permission, response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Exceptions a view raises under /api/ become JSON, never Django's HTML pages."""
        if not under_api(request.path):
            return None
        if isinstance(exception, Http404):
            return _error_for_status(request, 404)
        if isinstance(exception, RequestDataTooBig):
            return _error_for_status(request, 413)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return _error_for_status(request, 400)
        if isinstance(exception, PermissionDenied):
            return _error_for_status(request, 403)
        if isinstance(exception, DATABASE_ERRORS):
            log_unavailable(exception)
            return service_unavailable(request)
        request_log.error(
            "Unhandled error in %s %s (request %s).",
            request.method,
            request.path,
            getattr(request, "request_id", ""),
            exc_info=exception,
        )
        return _error_for_status(request, 500)


# --- Routing ---------------------------------------------------------------


def _check(request: HttpRequest) -> tuple[APIKey | None, str | None]:
    """(the key, the permission it exercises), or Refusal. Public views: (None, None)."""
    require_https(request)
    found = route(request.path_info)  # resolved once per path, not once per request
    access = found.access
    if access is not None and access[0] == FRONT_END:
        # A DRF or ninja view that apikeys.contrib guards: its framework runs the same
        # checks; judging it here too would count and record every request twice.
        return None, None
    if access is not None and access[0] in KEYLESS:
        # No key is needed here, but one sent in the URL is exposed all the same.
        expose_keys_in_url(request)
        return None, None
    key = authenticate_request(request)
    if not found.found:
        raise Refusal(404, *_HTML_ERRORS[404], headers=expiry_headers(key))
    declared = access is not None and access[0] in KINDS
    if not declared:
        security_log.error("View %r under /api/ declares no permission.", found.view_name)
    permission = permission_for_method(access, request.method or "GET")
    authorize(key, permission, declared=declared)
    return key, permission


# --- Answers ----------------------------------------------------------------


def _error_for_status(request: HttpRequest, status: int) -> HttpResponse:
    code, message = _HTML_ERRORS.get(
        status, _HTML_ERRORS[500] if status >= 500 else _HTML_ERRORS[400]
    )
    return json_error(request, status, code, message)


def as_json_error(request: HttpRequest, response: HttpResponse) -> HttpResponse:
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
