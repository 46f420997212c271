"""``GET /api/v1/key``: what the presented key is, as Cloudflare's ``tokens/verify`` answers.

A pipeline calls it first and fails fast with a clear reason (expired, disabled,
wrong address, about to expire) instead of failing later on a real call. Any
usable key may ask (``@key_required``: checks 1-6 and 8, no permission), and it
learns only about itself: its id, name, project, permissions, dates and IP
allowlist; never its secret, never another key.

A host routes it under its API prefix, where the guard runs:

    path("v1/key", key_introspection, name="key")
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, JsonResponse

from apikeys.decorators import key_required
from apikeys.guard.errors import json_error
from apikeys.models import APIKey

ALLOWED_METHODS = ("GET", "HEAD")


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as the API writes every time."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def describe(key: APIKey) -> dict[str, Any]:
    """The introspection answer's ``data`` for ``key`` (its project loaded)."""
    return {
        "key_id": key.key_id,
        "name": key.name,
        "project": {"slug": key.project.slug, "name": key.project.name},
        "permissions": list(key.permissions),
        "created_at": timestamp(key.created_at),
        "expires_at": timestamp(key.expires_at),
        "allowed_ips": list(key.allowed_ips),
    }


@key_required
def key_introspection(request: HttpRequest) -> JsonResponse:
    if request.method not in ALLOWED_METHODS:
        listed = ", ".join(ALLOWED_METHODS)
        return json_error(
            request,
            405,
            "METHOD_NOT_ALLOWED",
            f"{request.method} is not allowed on {request.path}; use {listed}.",
            {"allowed_methods": list(ALLOWED_METHODS)},
            headers={"Allow": listed},
        )
    # The guard read only the columns it checks; one more query for the name, dates
    # and project, on a call a pipeline makes once per run.
    presented = request.api_key  # type: ignore[attr-defined]
    key = APIKey.objects.select_related("project").filter(pk=presented.pk).first()
    if key is None:  # deleted since the guard read it a moment ago
        return json_error(
            request,
            401,
            "INVALID_API_KEY",
            "The API key is not valid; check that it was copied whole, or create a new one.",
            headers={"WWW-Authenticate": 'ApiKey header="X-Api-Key"'},
        )
    return JsonResponse({"data": describe(key)})
