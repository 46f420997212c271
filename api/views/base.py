"""What every API view shares: the success envelope, JSON bodies, ids, 405s.

Hostile input never raises: a body that is not JSON, an id that is not a
UUID, a wrong method — each becomes one JSON answer (400, 404, 405).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_date, parse_datetime

from apikeys.guard.errors import json_error, not_found, validation_error
from apikeys.guard.request import APIRequest
from apikeys.models import APIKey

__all__ = [
    "BadBody",
    "json_body",
    "method_not_allowed",
    "not_found",
    "ok",
    "parse_id",
    "parse_timestamp",
    "project_id_of",
    "text_problem",
    "validation_error",
]


def ok(data: Any, *, pagination: dict[str, Any] | None = None, status: int = 200) -> JsonResponse:
    body: dict[str, Any] = {"data": data}
    if pagination is not None:
        body["pagination"] = pagination
    return JsonResponse(body, status=status)


def _key_of(request: APIRequest) -> APIKey:
    # Only views that declare a permission call these, so the guard has set the key.
    if request.api_key is None:
        raise RuntimeError("This view needs the key the guard authenticates; declare one.")
    return request.api_key


def project_id_of(request: APIRequest) -> int:
    """The project of the key the guard authenticated: the scope of every query."""
    return _key_of(request).project_id


def key_id_of(request: APIRequest) -> str:
    return _key_of(request).key_id


def method_not_allowed(request: HttpRequest, allowed: Iterable[str]) -> JsonResponse:
    allowed = list(allowed)
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    listed = ", ".join(allowed)
    return json_error(
        request,
        405,
        "METHOD_NOT_ALLOWED",
        f"{request.method} is not allowed on {request.path}; use {listed}.",
        {"allowed_methods": allowed},
        headers={"Allow": listed},
    )


def is_read(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD")


def parse_id(raw: str) -> uuid.UUID | None:
    """A path id as a UUID, or None: a malformed id is answered like an unknown one."""
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        return None


class BadBody(Exception):
    """The request body cannot be used; ``response`` is the JSON answer to give."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, or BadBody carrying the 400 (or 413) to answer."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BadBody(
            json_error(
                request,
                413,
                "PAYLOAD_TOO_LARGE",
                "The request body is too large; send a JSON object of a few kilobytes.",
            )
        ) from None
    if not raw.strip():
        raise BadBody(validation_error(request, {"body": "Send a JSON object; the body is empty."}))
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadBody(
            validation_error(request, {"body": "The body is not valid JSON; send a JSON object."})
        ) from None
    if not isinstance(body, dict):
        raise BadBody(
            validation_error(
                request, {"body": f"Send a JSON object, not a JSON {_json_type(body)}."}
            )
        )
    return body


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None.

    JSON may carry a lone surrogate ("\\ud800") that no database can encode, and
    PostgreSQL refuses NUL characters: either would be a 500, so refuse them here.
    """
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (it contains a lone surrogate)."
    return None


# A query string turns the "+" of "+02:00" into a space; put it back.
_SPACED_OFFSET = re.compile(r"T(.*) (\d{2}(:?\d{2})?)$")


def parse_timestamp(raw: str) -> datetime | None:
    """An ISO 8601 date or date-time as an aware datetime in UTC (UTC when no offset), or
    None when it is not one or falls outside years 1 to 9999 once moved to UTC.

    Normalising to UTC here is what keeps an extreme but well-formed value from
    becoming a 500 further down: ``9999-12-31T23:59:59-23:59`` is past year 9999 in
    UTC (OverflowError when compared or stored), and PostgreSQL refuses any offset
    beyond ±15:59, so no offset other than +00:00 ever reaches the database."""
    raw = raw.strip()
    raw = _SPACED_OFFSET.sub(r"T\1+\2", raw)
    try:
        parsed = parse_datetime(raw)
        if parsed is None:
            day = parse_date(raw)
            if day is None:
                return None
            parsed = datetime(day.year, day.month, day.day)
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
