"""The document's component schemas: Run, Bug, Build and their parts."""

from __future__ import annotations

from typing import Any

from api.models import Bug, Build, Run
from api.openapi.components import (
    ERROR_CODES,
    TIMESTAMP,
    UUID,
    nullable,
    ref,
)
from api.storage import MAX_PARTS
from apikeys.allowlist import MAX_ENTRIES as MAX_ALLOWED_IPS
from apikeys.permissions import registry


def schemas() -> dict[str, Any]:
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
                "build": nullable(
                    {
                        "type": "object",
                        "required": ["id", "name"],
                        "properties": {"id": UUID, "name": text},
                    }
                ),
                "tags": tags,
                "initiator": nullable(
                    {
                        "type": "object",
                        "description": '`{"type": "api", "value": {"key_id": "<12-char id>"}}`',
                        "properties": {"type": text, "value": {"type": "object"}},
                    }
                ),
                "bug_info": nullable(
                    {"type": "object", "properties": {"bug_count": {"type": "integer"}}}
                ),
                "created_at": TIMESTAMP,
                "started_at": nullable(TIMESTAMP),
                "completed_at": nullable(TIMESTAMP),
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
                "completed_at": nullable(TIMESTAMP),
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
                "results": {"type": "array", "items": ref("StopResult")},
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
                    "items": {"type": "string", "enum": list(registry.codes)},
                },
                "created_at": TIMESTAMP,
                "expires_at": nullable(TIMESTAMP),
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
