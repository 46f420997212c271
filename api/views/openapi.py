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

from api.models import Bug, Build, Run
from api.pagination import MAX_PAGE_SIZE
from api.storage import MAX_PARTS
from api.views.base import method_not_allowed
from api.views.upload_input import MAX_TAG_LENGTH, MAX_TAGS, TIMEOUT_RANGE
from api.views.uploads import MAX_PART_URLS
from apikeys.allowlist import MAX_ENTRIES as MAX_ALLOWED_IPS
from apikeys.decorators import public
from apikeys.exposure.views import (
    MAX_CREDENTIAL_LENGTH,
    MAX_REVOKE_CREDENTIALS,
    MAX_SCANNING_TOKENS,
)
from apikeys.guard.decision import EXPIRES_HEADER
from apikeys.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, PERMISSIONS, READ_RUNS

# The guard answers these before any view runs (SPEC §4, checks 1-8).
GUARD_401 = ["MISSING_API_KEY", "INVALID_API_KEY"]
GUARD_403_USABLE = ["HTTPS_REQUIRED", "EXPIRED_API_KEY", "DISABLED_API_KEY", "IP_NOT_ALLOWED"]
GUARD_403 = [*GUARD_403_USABLE, "MISSING_PERMISSION"]
# Operations that need a usable key but no permission (@key_required).
ANY_KEY = "any usable key"

ERROR_CODES: dict[str, str] = {
    "VALIDATION_ERROR": "A field, parameter or the body is wrong; `details.fields` says which.",
    "BAD_REQUEST": "The request could not be parsed at all.",
    "MISSING_API_KEY": "No `X-Api-Key` header (a live key sent in the URL is exposed).",
    "INVALID_API_KEY": "Malformed, unknown, wrong or deleted key (one answer for all).",
    "HTTPS_REQUIRED": "Plain HTTP in production; retry over HTTPS with a new key if it leaked.",
    "EXPIRED_API_KEY": "The key has expired; rotate it.",
    "DISABLED_API_KEY": "The key is deactivated, or exposed for good (`details.reason`).",
    "IP_NOT_ALLOWED": "The key has an IP allowlist and `details.client_ip` is not in it.",
    "MISSING_PERMISSION": "The key lacks the permission named in `details.required_permissions`.",
    "RATE_LIMITED": "Too many refused requests from this IP; wait `Retry-After` seconds.",
    "INVALID_SIGNATURE": "The report is not signed by a GitHub secret scanning key we know.",
    "NOT_FOUND": "No such resource in this key's project (another project's id answers the same).",
    "METHOD_NOT_ALLOWED": "The path does not serve this HTTP method.",
    "PAYLOAD_TOO_LARGE": "The body or the declared file_size is over the limit.",
    "BUILD_UPLOAD_IN_PROGRESS": "The build is still uploading; cancel the upload instead.",
    "UPLOAD_NOT_IN_PROGRESS": "The upload is complete, canceled, or being completed.",
    "UPLOAD_EXPIRED": "The upload missed its deadline (`upload_timeout`); start a new one.",
    "INVALID_UPLOAD_URL": "The upload URL was altered or is for another object or part.",
    "UPLOAD_URL_EXPIRED": "The upload URL's deadline has passed.",
    "LENGTH_REQUIRED": "A PUT without Content-Length (and not chunked).",
    "PART_MISSING": "A part was not uploaded or not listed; `details.missing_parts`.",
    "PARTS_OUT_OF_ORDER": "The parts list is not in ascending part_number order.",
    "ETAG_MISMATCH": "A listed ETag is not the one that part's PUT answered.",
    "SIZE_MISMATCH": "The uploaded bytes do not add up to the declared file_size.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


TIMESTAMP = {"type": "string", "format": "date-time"}
UUID = {"type": "string", "format": "uuid"}


def _envelope(data: dict[str, Any], *, paginated: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["data", "pagination"] if paginated else ["data"],
        "properties": {"data": data},
    }
    if paginated:
        schema["properties"]["pagination"] = _ref("Pagination")
    return schema


def _json(schema: dict[str, Any], description: str, headers: dict | None = None) -> dict:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _error(description: str, codes: list[str], headers: dict | None = None) -> dict[str, Any]:
    schema = {"allOf": [_ref("Error"), {"properties": {"code": {"type": "string", "enum": codes}}}]}
    listed = "; ".join(f"`{code}`: {ERROR_CODES[code]}" for code in codes)
    return _json(schema, f"{description} Codes: {listed}", headers)


def _header(description: str, schema: dict | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


def _guarded_errors(permission: str | None) -> dict[str, Any]:
    """What the guard may answer before the view: by key, or only HTTPS and rate limit.
    ``permission`` is a code, ANY_KEY (a usable key, no permission) or None (no key)."""
    retry = {"Retry-After": _header("Seconds to wait.", {"type": "integer"})}
    errors: dict[str, Any] = {
        "429": _error("Too many refused requests from this client IP.", ["RATE_LIMITED"], retry),
        "405": _error("This path does not serve the method.", ["METHOD_NOT_ALLOWED"]),
    }
    if permission is None:
        errors["403"] = _error("Refused by the guard.", ["HTTPS_REQUIRED"])
        return errors
    errors["401"] = _error(
        "The key is missing or not valid.",
        GUARD_401,
        {"WWW-Authenticate": _header('Always `ApiKey header="X-Api-Key"`.')},
    )
    if permission == ANY_KEY:
        errors["403"] = _error("The key cannot be used.", GUARD_403_USABLE)
        return errors
    errors["403"] = _error(
        "The key cannot be used for this operation.",
        GUARD_403,
        {"X-Accepted-Permissions": _header("The permission this operation needs.")},
    )
    return errors


EXPIRES = _header(
    "When the key expires (ISO 8601, UTC, e.g. `2026-12-31T23:59:59Z`): on every answer "
    "to a request whose key is valid, not expired and not deactivated, when the key has "
    "an expiry.",
    {"type": "string", "format": "date-time"},
)


def _with_expiry_header(responses: dict[str, Any]) -> dict[str, Any]:
    """Every answer but the guard's 401 and 429 (no usable key) may name the expiry."""
    stamped = {}
    for status, response in responses.items():
        if status not in ("401", "429"):
            response = {
                **response,
                "headers": {**response.get("headers", {}), EXPIRES_HEADER: EXPIRES},
            }
        stamped[status] = response
    return stamped


def _operation(
    *,
    summary: str,
    permission: str | None,
    responses: dict[str, Any],
    authenticated_by: str | None = None,
    public: bool = False,
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    body_media_type: str = "application/json",
    tag: str,
) -> dict[str, Any]:
    if permission == ANY_KEY:
        needs = "Any valid, usable API key; no permission needed."
    elif permission is not None:
        needs = f"Requires the permission `{permission}`."
    elif public:
        needs = "Public: no API key."
    else:
        needs = f"No API key: the {authenticated_by} is the credential."
    answers = {**_guarded_errors(permission), **responses}
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": summary,
        "description": f"{needs}\n\n{description}".strip(),
        "x-required-permission": None if permission == ANY_KEY else permission,
        "responses": answers if permission is None else _with_expiry_header(answers),
    }
    if permission == ANY_KEY:
        operation["x-key-required"] = True
    elif permission is None:
        operation["security"] = []
        if public:
            operation["x-public"] = True
        else:
            operation["x-authenticated-by"] = authenticated_by
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {body_media_type: {"schema": body}},
        }
    return operation


def _query(name: str, schema: dict[str, Any], description: str, *, required: bool = False):
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


PAGE_PARAMETERS = [
    _query("page", {"type": "integer", "minimum": 0}, "0-based page number. Not with cursor."),
    _query(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "Rows per page (default 20).",
    ),
    _query("cursor", {"type": "string"}, "The `next_cursor` of the previous page. Not with page."),
]
BAD_INPUT = _error("The request is not valid.", ["VALIDATION_ERROR"])
BAD_JSON_BODY = _error("The body is too large for a JSON request.", ["PAYLOAD_TOO_LARGE"])


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    tags = {"type": "array", "items": text}
    return {
        "Error": {
            "type": "object",
            "required": ["error", "code", "details"],
            "properties": {
                "error": {"type": "string", "description": "One sentence a person can act on."},
                "code": {"type": "string", "enum": list(ERROR_CODES)},
                "details": {
                    "type": "object",
                    "required": ["request_id"],
                    "properties": {
                        "request_id": {"type": "string", "description": "Same as X-Request-Id."},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": text},
                        },
                        "required_permissions": {"type": "array", "items": text},
                    },
                },
            },
        },
        "Pagination": {
            "type": "object",
            "required": ["page", "page_size", "total_count", "has_more", "next_cursor"],
            "properties": {
                "page": {"type": ["integer", "null"]},
                "page_size": {"type": "integer"},
                "total_count": {"type": "integer"},
                "total_pages": {"type": "integer"},
                "has_more": {"type": "boolean"},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        "Run": {
            "type": "object",
            "required": ["id", "name", "state", "created_at", "initiator", "tags"],
            "properties": {
                "id": UUID,
                "name": text,
                "state": {"type": "string", "enum": list(Run.State.values)},
                "result": {"type": ["string", "null"], "enum": [*Run.Result.values, None]},
                "build": _nullable(
                    {
                        "type": "object",
                        "required": ["id", "name"],
                        "properties": {"id": UUID, "name": text},
                    }
                ),
                "tags": tags,
                "initiator": _nullable(
                    {
                        "type": "object",
                        "description": '`{"type": "api", "value": {"key_id": "<12-char id>"}}`',
                        "properties": {"type": text, "value": {"type": "object"}},
                    }
                ),
                "bug_info": _nullable(
                    {"type": "object", "properties": {"bug_count": {"type": "integer"}}}
                ),
                "created_at": TIMESTAMP,
                "started_at": _nullable(TIMESTAMP),
                "completed_at": _nullable(TIMESTAMP),
                "duration_ms": {"type": ["integer", "null"]},
            },
        },
        "Bug": {
            "type": "object",
            "required": ["id", "title", "severity", "created_at"],
            "properties": {
                "id": UUID,
                "title": text,
                "severity": {"type": "string", "enum": list(Bug.Severity.values)},
                "description": text,
                "created_at": TIMESTAMP,
            },
        },
        "Build": {
            "type": "object",
            "required": ["id", "name", "file_name", "file_size", "platform", "status"],
            "properties": {
                "id": UUID,
                "name": text,
                "description": text,
                "file_name": text,
                "file_size": {"type": "integer"},
                "platform": text,
                "tags": tags,
                "status": {"type": "string", "enum": list(Build.Status.values)},
                "multipart": {"type": "boolean"},
                "sha256": {"type": ["string", "null"], "description": "Hex, once READY."},
                "created_at": TIMESTAMP,
                "completed_at": _nullable(TIMESTAMP),
            },
        },
        "StopResult": {
            "type": "object",
            "required": ["run_id", "ok", "status", "message"],
            "properties": {
                "run_id": text,
                "ok": {"type": "boolean"},
                "status": {"type": "integer", "enum": [200, 404, 409]},
                "code": {"type": "string", "enum": ["NOT_FOUND", "RUN_ALREADY_FINISHED"]},
                "state": {"type": "string", "enum": list(Run.State.values)},
                "message": text,
            },
        },
        "StopSummary": {
            "type": "object",
            "required": ["received_count", "stopped_count", "results"],
            "properties": {
                "received_count": {"type": "integer"},
                "stopped_count": {"type": "integer"},
                "results": {"type": "array", "items": _ref("StopResult")},
            },
        },
        "UploadStarted": {
            "type": "object",
            "description": "Single-part: `upload_url`. Multipart: `upload_id`, `total_parts`, "
            "`part_size` (ask GET /builds/upload/parts for the URLs).",
            "required": ["build_id", "object_key", "multipart", "expires_at"],
            "properties": {
                "build_id": UUID,
                "object_key": text,
                "multipart": {"type": "boolean"},
                "expires_at": TIMESTAMP,
                "upload_url": {"type": "string", "format": "uri"},
                "upload_id": text,
                "total_parts": {"type": "integer", "minimum": 1, "maximum": MAX_PARTS},
                "part_size": {"type": "integer"},
            },
        },
        "PartUrls": {
            "type": "object",
            "required": ["upload_urls"],
            "properties": {
                "upload_urls": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["part_number", "url"],
                        "properties": {
                            "part_number": {"type": "integer"},
                            "url": {"type": "string", "format": "uri"},
                        },
                    },
                },
                "expires_at": TIMESTAMP,
            },
        },
        "KeyInfo": {
            "type": "object",
            "required": [
                "key_id",
                "name",
                "project",
                "permissions",
                "created_at",
                "expires_at",
                "allowed_ips",
            ],
            "properties": {
                "key_id": {"type": "string", "pattern": "^[0-9A-Za-z]{12}$"},
                "name": text,
                "project": {
                    "type": "object",
                    "required": ["slug", "name"],
                    "properties": {"slug": text, "name": text},
                },
                "permissions": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(PERMISSIONS)},
                },
                "created_at": TIMESTAMP,
                "expires_at": _nullable(TIMESTAMP),
                "allowed_ips": {
                    "type": "array",
                    "maxItems": MAX_ALLOWED_IPS,
                    "description": "CIDR ranges the key may be used from; empty: any address.",
                    "items": text,
                },
            },
        },
        "PartReceived": {
            "type": "object",
            "required": ["part_number", "etag", "size"],
            "properties": {
                "part_number": {"type": "integer"},
                "etag": {"type": "string", "description": "Also the ETag header; quoted MD5."},
                "size": {"type": "integer"},
            },
        },
    }


def _build_paths() -> dict[str, Any]:
    run_id = _path("runId", {"type": "string"}, "The run's id (a UUID).")
    build_id = _path("buildId", {"type": "string"}, "The build's id (a UUID).")
    not_found = _error("No such id in this key's project.", ["NOT_FOUND"])
    build_answer = _json(_envelope(_ref("Build")), "The build.")
    upload_gone = _error("The upload is past its deadline.", ["UPLOAD_EXPIRED"])
    upload_conflict = _error("The upload is no longer in progress.", ["UPLOAD_NOT_IN_PROGRESS"])
    too_large = _error("Over the declared file_size or the maximum.", ["PAYLOAD_TOO_LARGE"])
    string = {"type": "string"}
    return {
        "/key": {
            "get": _operation(
                tag="keys",
                summary="Describe the key making the request",
                permission=ANY_KEY,
                description="Its id, name, project, permissions, expiry and IP allowlist, "
                "so a pipeline can check its key before it needs it. A key that cannot be "
                "used gets the guard's refusal, which says why.",
                responses={"200": _json(_envelope(_ref("KeyInfo")), "The key.")},
            ),
        },
        "/runs": {
            "get": _operation(
                tag="runs",
                summary="List the project's runs, newest first",
                permission=READ_RUNS,
                parameters=[
                    _query("state", string, "One state or several, comma-separated, or all."),
                    _query("tag", string, "Only runs with this tag."),
                    _query("created_after", string, "ISO 8601 date or date-time."),
                    *PAGE_PARAMETERS,
                ],
                responses={
                    "200": _json(
                        _envelope({"type": "array", "items": _ref("Run")}, paginated=True),
                        "A page of runs.",
                    ),
                    "400": BAD_INPUT,
                },
            ),
            "post": _operation(
                tag="runs",
                summary="Start a run (state QUEUED)",
                permission=OPERATE_RUNS,
                description="`build_id` must name a READY build of the key's project.",
                body={
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "build_id": _nullable(UUID),
                        "tags": _nullable(
                            {"type": "array", "items": {"type": "string"}, "maxItems": 50}
                        ),
                    },
                },
                responses={
                    "201": _json(_envelope(_ref("Run")), "The run, QUEUED."),
                    "400": BAD_INPUT,
                    "413": BAD_JSON_BODY,
                },
            ),
        },
        "/runs/stop": {
            "post": _operation(
                tag="runs",
                summary="Stop one or more runs",
                permission=OPERATE_RUNS,
                description="200 when every run was stopped, 207 with one result per id otherwise.",
                body={
                    "type": "object",
                    "required": ["run_ids"],
                    "properties": {
                        "run_ids": {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": 1,
                            "maxItems": 100,
                        }
                    },
                },
                responses={
                    "200": _json(_envelope(_ref("StopSummary")), "Every run stopped."),
                    "207": _json(_envelope(_ref("StopSummary")), "Some runs could not be stopped."),
                    "400": BAD_INPUT,
                    "413": BAD_JSON_BODY,
                },
            ),
        },
        "/runs/{runId}": {
            "get": _operation(
                tag="runs",
                summary="Read one run",
                permission=READ_RUNS,
                parameters=[run_id],
                responses={"200": _json(_envelope(_ref("Run")), "The run."), "404": not_found},
            ),
        },
        "/runs/{runId}/bugs": {
            "get": _operation(
                tag="runs",
                summary="The bugs a run found",
                permission=READ_RUNS,
                parameters=[run_id],
                responses={
                    "200": _json(
                        _envelope({"type": "array", "items": _ref("Bug")}, paginated=True),
                        "The bugs.",
                    ),
                    "404": not_found,
                },
            ),
        },
        "/builds": {
            "get": _operation(
                tag="builds",
                summary="List the project's builds, newest first",
                permission=MANAGE_BUILD_STORAGE,
                parameters=[
                    _query("status", string, "One status or several, comma-separated, or all."),
                    *PAGE_PARAMETERS,
                ],
                responses={
                    "200": _json(
                        _envelope({"type": "array", "items": _ref("Build")}, paginated=True),
                        "A page of builds.",
                    ),
                    "400": BAD_INPUT,
                },
            ),
        },
        "/builds/{buildId}": {
            "delete": _operation(
                tag="builds",
                summary="Delete a finished build and its file",
                permission=MANAGE_BUILD_STORAGE,
                parameters=[build_id],
                responses={
                    "204": {"description": "Deleted."},
                    "404": not_found,
                    "409": _error("The build is still uploading.", ["BUILD_UPLOAD_IN_PROGRESS"]),
                },
            ),
        },
        "/builds/upload": {
            "post": _operation(
                tag="uploads",
                summary="Initiate an upload",
                permission=MANAGE_BUILD_STORAGE,
                description=(
                    "Single-part below the multipart threshold (answers `upload_url`); "
                    "multipart at or above it, or with `multipart: true` (answers "
                    "`upload_id`, `total_parts`, `part_size`). `upload_timeout` is in "
                    "minutes (default 10 single-part, 60 multipart)."
                ),
                body={
                    "type": "object",
                    "required": ["name", "file_name", "file_size", "platform"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "file_name": {"type": "string", "minLength": 1, "maxLength": 255},
                        "file_size": {"type": "integer", "minimum": 1},
                        "platform": {"type": "string", "minLength": 1, "maxLength": 50},
                        "description": {"type": ["string", "null"], "maxLength": 5000},
                        "tags": _nullable(
                            {
                                "type": "array",
                                "maxItems": MAX_TAGS,
                                "items": {
                                    "type": "string",
                                    "minLength": 1,
                                    "maxLength": MAX_TAG_LENGTH,
                                },
                            }
                        ),
                        "multipart": {"type": ["boolean", "null"]},
                        "upload_timeout": {
                            "type": ["integer", "null"],
                            "minimum": TIMEOUT_RANGE[0],
                            "maximum": TIMEOUT_RANGE[1],
                        },
                    },
                },
                responses={
                    "201": _json(_envelope(_ref("UploadStarted")), "The upload, ready for bytes."),
                    "400": BAD_INPUT,
                    "413": too_large,
                },
            ),
            "delete": _operation(
                tag="uploads",
                summary="Cancel an upload in progress and remove its parts",
                permission=MANAGE_BUILD_STORAGE,
                description="Idempotent: canceling a canceled or expired upload answers 200.",
                parameters=[
                    _query("build_id", string, "The build_id the upload was given.", required=True),
                    _query(
                        "object_key", string, "The object_key the upload was given.", required=True
                    ),
                    _query("upload_id", string, "Multipart: the upload_id."),
                ],
                responses={
                    "200": build_answer,
                    "404": _error("No such upload in this key's project.", ["NOT_FOUND"]),
                    "409": upload_conflict,
                },
            ),
        },
        "/builds/upload/parts": {
            "get": _operation(
                tag="uploads",
                summary="Signed URLs for the parts of a multipart upload",
                permission=None,
                authenticated_by="upload_id",
                description=f"At most {MAX_PART_URLS} parts per request; all parts by default.",
                parameters=[
                    _query("upload_id", string, "From POST /builds/upload.", required=True),
                    _query("object_key", string, "From POST /builds/upload.", required=True),
                    _query("part_numbers", string, "Comma-separated, such as `1,2,3`."),
                ],
                responses={
                    "200": _json(_envelope(_ref("PartUrls")), "One URL per part."),
                    "400": BAD_INPUT,
                    "404": _error("No upload with that upload_id and object_key.", ["NOT_FOUND"]),
                    "409": upload_conflict,
                    "410": upload_gone,
                },
            ),
        },
        "/builds/upload/{buildId}/{partNumber}": {
            "put": _operation(
                tag="uploads",
                summary="Send the bytes of the file (partNumber 0) or of one part",
                permission=None,
                authenticated_by="signed URL",
                description=(
                    "Only with local storage; with S3 the URLs are the bucket's own. Use the "
                    "URL exactly as given: `expires` and `signature` bind it to one object, one "
                    "part and a deadline."
                ),
                parameters=[
                    build_id,
                    _path("partNumber", {"type": "integer", "minimum": 0}, "0: the whole file."),
                    _query("expires", string, "Part of the signed URL.", required=True),
                    _query("signature", string, "Part of the signed URL.", required=True),
                ],
                body={"type": "string", "format": "binary"},
                body_media_type="application/octet-stream",
                responses={
                    "200": _json(
                        _envelope(_ref("PartReceived")),
                        "Stored.",
                        {"ETag": _header("Quoted MD5 of the bytes; send it back at completion.")},
                    ),
                    "400": BAD_INPUT,
                    "404": _error(
                        "No such path (a part number that is not a number).", ["NOT_FOUND"]
                    ),
                    "403": _error(
                        "The URL is not valid.",
                        ["HTTPS_REQUIRED", "INVALID_UPLOAD_URL", "UPLOAD_URL_EXPIRED"],
                    ),
                    "409": upload_conflict,
                    "410": upload_gone,
                    "411": _error("Content-Length is missing.", ["LENGTH_REQUIRED"]),
                    "413": too_large,
                },
            ),
        },
        "/builds/upload/complete": {
            "post": _operation(
                tag="uploads",
                summary="Complete an upload: check the parts, assemble, record the sha256",
                permission=MANAGE_BUILD_STORAGE,
                description="The build becomes READY and can be used by POST /runs.",
                body={
                    "type": "object",
                    "required": ["build_id"],
                    "properties": {
                        "build_id": UUID,
                        "upload_id": {"type": "string"},
                        "object_key": {"type": "string"},
                        "parts": {
                            "type": "array",
                            "maxItems": MAX_PARTS,
                            "items": {
                                "type": "object",
                                "required": ["part_number", "etag"],
                                "properties": {
                                    "part_number": {"type": "integer", "minimum": 1},
                                    "etag": {"type": "string", "minLength": 1, "maxLength": 200},
                                },
                            },
                        },
                    },
                },
                responses={
                    "200": build_answer,
                    "400": _error(
                        "The request or the uploaded parts are not valid.",
                        [
                            "VALIDATION_ERROR",
                            "PART_MISSING",
                            "PARTS_OUT_OF_ORDER",
                            "ETAG_MISMATCH",
                            "SIZE_MISMATCH",
                        ],
                    ),
                    "404": not_found,
                    "409": upload_conflict,
                    "410": upload_gone,
                    "413": too_large,
                },
            ),
        },
    }


def _exposure_paths() -> dict[str, Any]:
    """The public endpoints that expose leaked keys (apikeys.exposure, SPEC §11)."""
    string = {"type": "string"}
    retry = {"Retry-After": _header("Seconds to wait.", {"type": "integer"})}
    return {
        "/secret-scanning/github": {
            "post": _operation(
                tag="exposure",
                summary="GitHub secret scanning: expose the keys GitHub found in public code",
                permission=None,
                public=True,
                description=(
                    "Authenticated by GitHub's signature: `Github-Public-Key-Signature` (base64 "
                    "ASN.1 DER ECDSA P-256 SHA-256 over the raw body) by the key named in "
                    "`Github-Public-Key-Identifier`, one of GitHub's published keys. Every "
                    "token that is a key of ours (right secret) is exposed: refused from now "
                    "on, for good. The answer labels each token; it is a JSON array, as GitHub "
                    "expects, not the usual envelope. Repeating a report changes nothing."
                ),
                parameters=[
                    {
                        "name": "Github-Public-Key-Identifier",
                        "in": "header",
                        "required": True,
                        "schema": string,
                        "description": "Which of GitHub's public keys signed the body.",
                    },
                    {
                        "name": "Github-Public-Key-Signature",
                        "in": "header",
                        "required": True,
                        "schema": string,
                        "description": "Base64 of the DER ECDSA signature of the raw body.",
                    },
                ],
                body={
                    "type": "array",
                    "maxItems": MAX_SCANNING_TOKENS,
                    "items": {
                        "type": "object",
                        "required": ["token", "type"],
                        "properties": {
                            "token": {"type": "string", "minLength": 1},
                            "type": {"type": "string", "minLength": 1},
                            "url": string,
                            "source": string,
                        },
                    },
                },
                responses={
                    "200": _json(
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["token_hash", "token_type", "label"],
                                "properties": {
                                    "token_hash": {
                                        "type": "string",
                                        "pattern": "^[0-9a-f]{64}$",
                                        "description": "SHA-256 (hex) of the token.",
                                    },
                                    "token_type": string,
                                    "label": {
                                        "type": "string",
                                        "enum": ["true_positive", "false_positive"],
                                    },
                                },
                            },
                        },
                        "One label per token, in order.",
                    ),
                    "400": BAD_INPUT,
                    "401": _error(
                        "Unsigned, badly signed, an unknown key identifier, or too large a "
                        "body: nothing changed.",
                        ["INVALID_SIGNATURE"],
                    ),
                },
            ),
        },
        "/credentials/revoke": {
            "post": _operation(
                tag="exposure",
                summary="Revoke credentials you found: every live key among them is exposed",
                permission=None,
                public=True,
                description=(
                    "Always 202 with the number received, whatever matched, so it tells "
                    "nothing about which keys exist. Rate limited per client IP (IPv6 per /64)."
                ),
                body={
                    "type": "object",
                    "required": ["credentials"],
                    "properties": {
                        "credentials": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_REVOKE_CREDENTIALS,
                            "items": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_CREDENTIAL_LENGTH,
                            },
                        }
                    },
                },
                responses={
                    "202": _json(
                        _envelope(
                            {
                                "type": "object",
                                "required": ["received_count"],
                                "properties": {"received_count": {"type": "integer"}},
                            }
                        ),
                        "Received.",
                    ),
                    "400": BAD_INPUT,
                    "413": BAD_JSON_BODY,
                    "429": _error(
                        "Too many revocation requests from this client IP.",
                        ["RATE_LIMITED"],
                        retry,
                    ),
                },
            ),
        },
    }


@cache
def _document() -> dict[str, Any]:
    permissions = "\n".join(
        f"- `{p.code}`: {p.description} ({', '.join(p.endpoints)})" for p in PERMISSIONS.values()
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
        "paths": {**_build_paths(), **_exposure_paths()},
        "components": {
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Api-Key",
                    "description": "`nunu_<12-char id>_<38 chars>`; never in the query string.",
                }
            },
            "schemas": _schemas(),
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
