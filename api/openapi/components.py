"""The pieces every operation is built from: error codes, envelopes, headers, parameters."""

from __future__ import annotations

from typing import Any

from api.pagination import MAX_PAGE_SIZE
from apikeys.guard.decision import EXPIRES_HEADER

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


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


TIMESTAMP = {"type": "string", "format": "date-time"}
UUID = {"type": "string", "format": "uuid"}


def envelope(data: dict[str, Any], *, paginated: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["data", "pagination"] if paginated else ["data"],
        "properties": {"data": data},
    }
    if paginated:
        schema["properties"]["pagination"] = ref("Pagination")
    return schema


def json_answer(schema: dict[str, Any], description: str, headers: dict | None = None) -> dict:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def error_answer(description: str, codes: list[str], headers: dict | None = None) -> dict[str, Any]:
    schema = {"allOf": [ref("Error"), {"properties": {"code": {"type": "string", "enum": codes}}}]}
    listed = "; ".join(f"`{code}`: {ERROR_CODES[code]}" for code in codes)
    return json_answer(schema, f"{description} Codes: {listed}", headers)


def header(description: str, schema: dict | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


def guarded_errors(permission: str | None) -> dict[str, Any]:
    """What the guard may answer before the view: by key, or only HTTPS and rate limit.
    ``permission`` is a code, ANY_KEY (a usable key, no permission) or None (no key)."""
    retry = {"Retry-After": header("Seconds to wait.", {"type": "integer"})}
    errors: dict[str, Any] = {
        "429": error_answer(
            "Too many refused requests from this client IP.", ["RATE_LIMITED"], retry
        ),
        "405": error_answer("This path does not serve the method.", ["METHOD_NOT_ALLOWED"]),
    }
    if permission is None:
        errors["403"] = error_answer("Refused by the guard.", ["HTTPS_REQUIRED"])
        return errors
    errors["401"] = error_answer(
        "The key is missing or not valid.",
        GUARD_401,
        {"WWW-Authenticate": header('Always `ApiKey header="X-Api-Key"`.')},
    )
    if permission == ANY_KEY:
        errors["403"] = error_answer("The key cannot be used.", GUARD_403_USABLE)
        return errors
    errors["403"] = error_answer(
        "The key cannot be used for this operation.",
        GUARD_403,
        {"X-Accepted-Permissions": header("The permission this operation needs.")},
    )
    return errors


EXPIRES = header(
    "When the key expires (ISO 8601, UTC, e.g. `2026-12-31T23:59:59Z`): on every answer "
    "to a request whose key is valid, not expired and not deactivated, when the key has "
    "an expiry.",
    {"type": "string", "format": "date-time"},
)


def with_expiry_header(responses: dict[str, Any]) -> dict[str, Any]:
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


def operation(
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
    answers = {**guarded_errors(permission), **responses}
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": summary,
        "description": f"{needs}\n\n{description}".strip(),
        "x-required-permission": None if permission == ANY_KEY else permission,
        "responses": answers if permission is None else with_expiry_header(answers),
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


def query(name: str, schema: dict[str, Any], description: str, *, required: bool = False):
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


PAGE_PARAMETERS = [
    query("page", {"type": "integer", "minimum": 0}, "0-based page number. Not with cursor."),
    query(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "Rows per page (default 20).",
    ),
    query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "The same as page_size, which wins when both are sent.",
    ),
    query("cursor", {"type": "string"}, "The `next_cursor` of the previous page. Not with page."),
]
BAD_INPUT = error_answer("The request is not valid.", ["VALIDATION_ERROR"])
BAD_JSON_BODY = error_answer("The body is too large for a JSON request.", ["PAYLOAD_TOO_LARGE"])
