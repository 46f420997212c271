"""The OpenAPI 3.1 document of /api/v1/, served at /api/openapi.json (public).

It is written here, next to the views, and checked against them: a test walks
the URL resolver and fails on any path or method the document does not
describe (or describes but the API does not serve), another compares each
operation's ``x-required-permission`` with the view's declaration and the
permission registry, and a schemathesis run fuzzes the live API against it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from api.openapi.components import ERROR_CODES
from api.openapi.exposure import exposure_paths
from api.openapi.paths import build_paths, key_and_run_paths
from api.openapi.schemas import schemas
from api.openapi.uploads import upload_paths
from api.views.base import method_not_allowed
from apikeys.decorators import public
from apikeys.permissions import registry

__all__ = ["ERROR_CODES", "document", "openapi_json"]


@cache
def _document() -> dict[str, Any]:
    permissions = "\n".join(
        f"- `{p.code}`: {p.description} ({', '.join(p.endpoints)})"
        for p in registry.permissions.values()
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "nunu admin API",
            "version": "1.0.0",
            "description": (
                "The guarded API of nunu admin, compatible with nunu.ai's public API. "
                'Success: `{"data": ..., "pagination": {...}}` (pagination on lists). '
                'Errors: `{"error": "...", "code": "UPPER_SNAKE", "details": {"request_id": '
                '"..."}}`. Every answer carries `X-Request-Id`.\n\nPermissions:\n' + permissions
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"ApiKey": []}],
        "tags": [
            {"name": "keys", "description": "The API key itself."},
            {"name": "runs", "description": "Runs and the bugs they find."},
            {"name": "builds", "description": "Stored builds."},
            {"name": "uploads", "description": "The build upload protocol."},
            {"name": "exposure", "description": "Leaked keys: secret scanning, revocation."},
        ],
        "paths": {
            **key_and_run_paths(),
            **build_paths(),
            **upload_paths(),
            **exposure_paths(),
        },
        "components": {
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Api-Key",
                    "description": "`nunu_<12-char id>_<38 chars>`; never in the query string.",
                }
            },
            "schemas": schemas(),
        },
    }


def document() -> dict[str, Any]:
    """A fresh copy of the document: callers (tests, the fuzzer) may change theirs."""
    return copy.deepcopy(_document())


@public
def openapi_json(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(request, ["GET"])
    response = JsonResponse(_document(), json_dumps_params={"indent": 1})
    response["Cache-Control"] = "public, max-age=300"
    return response
