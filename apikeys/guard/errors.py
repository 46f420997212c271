"""The JSON error envelope every /api/ refusal uses (SPEC §4).

    {"error": "<one sentence a person can act on>", "code": "UPPER_SNAKE", "details": {...}}

``details.request_id`` always carries the request's X-Request-Id, so a user can
quote it and an operator can find the log line.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse

REQUEST_ID_HEADER = "X-Request-Id"
unavailable_log = logging.getLogger("apikeys.unavailable")


# An incoming X-Request-Id is kept when it is short and plain, so it is safe to log and echo.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_of(request: HttpRequest) -> str:
    return getattr(request, "request_id", "") or ""


def incoming_request_id(request: HttpRequest) -> str:
    """The client's X-Request-Id when it is plain, else a new one."""
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    if incoming and _REQUEST_ID_RE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def error_body(
    request: HttpRequest, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The envelope itself, for a front end whose framework renders the answer (DRF)."""
    return {
        "error": message,
        "code": code,
        "details": {**(details or {}), "request_id": request_id_of(request)},
    }


def json_error(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(error_body(request, code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def validation_error(
    request: HttpRequest, field_errors: dict[str, list[str] | str], message: str | None = None
) -> JsonResponse:
    """400 VALIDATION_ERROR with ``details.fields = {"field": ["what is wrong", ...]}``."""
    fields = {
        name: errors if isinstance(errors, list) else [errors]
        for name, errors in field_errors.items()
    }
    if message is None:
        first_field, first_errors = next(iter(fields.items()))
        message = f"The request is not valid: {first_field}: {first_errors[0]}"
    return json_error(request, 400, "VALIDATION_ERROR", message, {"fields": fields})


def not_found(request: HttpRequest, what: str = "resource") -> JsonResponse:
    return json_error(
        request, 404, "NOT_FOUND", f"No {what} with that id exists in this key's project."
    )


# --- The database is down or hung (SPEC §10) ------------------------------------

# What Django raises when the database cannot be reached, refuses the connection,
# times out connecting, or drops it mid-request. Anything else is a bug: a 500.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# Seconds a client is told to wait: long enough for a failover or a restart to
# begin, short enough that an integration retries soon after the database is back.
UNAVAILABLE_RETRY_AFTER = 5
_UNAVAILABLE_LOG_INTERVAL = 60.0
_last_unavailable_log = [-_UNAVAILABLE_LOG_INTERVAL]
_unavailable_log_lock = threading.Lock()


def log_unavailable(error: BaseException) -> None:
    """One WARNING per minute while the database fails, not one traceback per request."""
    now = time.monotonic()
    with _unavailable_log_lock:
        if now - _last_unavailable_log[0] < _UNAVAILABLE_LOG_INTERVAL:
            return
        _last_unavailable_log[0] = now
    unavailable_log.warning(
        "The database is unavailable (%s: %s); answering 503 until it is back.",
        type(error).__name__,
        str(error).strip().splitlines()[0] if str(error).strip() else "",
    )


UNAVAILABLE_MESSAGE = (
    "The service cannot reach its database right now; retry in "
    f"{UNAVAILABLE_RETRY_AFTER} seconds. Nothing was changed by this request."
)


def service_unavailable(request: HttpRequest) -> JsonResponse:
    """503 SERVICE_UNAVAILABLE with Retry-After: the API's answer while the database is out."""
    return json_error(
        request,
        503,
        "SERVICE_UNAVAILABLE",
        UNAVAILABLE_MESSAGE,
        details={"retry_after": UNAVAILABLE_RETRY_AFTER},
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )
