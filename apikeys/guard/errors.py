"""The JSON error envelope every /api/ refusal uses (SPEC §4).

    {"error": "<one sentence a person can act on>", "code": "UPPER_SNAKE", "details": {...}}

``details.request_id`` always carries the request's X-Request-Id, so a user can
quote it and an operator can find the log line.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

REQUEST_ID_HEADER = "X-Request-Id"


def request_id_of(request: HttpRequest) -> str:
    return getattr(request, "request_id", "") or ""


def json_error(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body = {
        "error": message,
        "code": code,
        "details": {**(details or {}), "request_id": request_id_of(request)},
    }
    response = JsonResponse(body, status=status)
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
