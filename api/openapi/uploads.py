"""The build upload protocol's paths (SPEC §4)."""

from __future__ import annotations

from typing import Any

from api.openapi.components import (
    BAD_INPUT,
    UUID,
    envelope,
    error_answer,
    header,
    json_answer,
    nullable,
    operation,
    path_parameter,
    query,
    ref,
)
from api.openapi.paths import (
    BUILD_ANSWER,
    BUILD_ID,
    NOT_FOUND_ANSWER,
    STRING,
    TOO_LARGE,
    UPLOAD_CONFLICT,
    UPLOAD_GONE,
)
from api.permissions import MANAGE_BUILD_STORAGE
from api.storage import MAX_PARTS
from api.views.upload_input import MAX_TAG_LENGTH, MAX_TAGS, TIMEOUT_RANGE
from api.views.uploads import MAX_PART_URLS


def upload_paths() -> dict[str, Any]:
    """The build upload protocol (SPEC §4): initiate, part URLs, PUT, complete, cancel."""
    return {
        "/builds/upload": {
            "post": operation(
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
                        "tags": nullable(
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
                    "201": json_answer(
                        envelope(ref("UploadStarted")), "The upload, ready for bytes."
                    ),
                    "400": BAD_INPUT,
                    "413": TOO_LARGE,
                },
            ),
            "delete": operation(
                tag="uploads",
                summary="Cancel an upload in progress and remove its parts",
                permission=MANAGE_BUILD_STORAGE,
                description="Idempotent: canceling a canceled or expired upload answers 200.",
                parameters=[
                    query("build_id", STRING, "The build_id the upload was given.", required=True),
                    query(
                        "object_key", STRING, "The object_key the upload was given.", required=True
                    ),
                    query("upload_id", STRING, "Multipart: the upload_id."),
                ],
                responses={
                    "200": BUILD_ANSWER,
                    "404": error_answer("No such upload in this key's project.", ["NOT_FOUND"]),
                    "409": UPLOAD_CONFLICT,
                },
            ),
        },
        "/builds/upload/parts": {
            "get": operation(
                tag="uploads",
                summary="Signed URLs for the parts of a multipart upload",
                permission=None,
                authenticated_by="upload_id",
                description=f"At most {MAX_PART_URLS} parts per request; all parts by default.",
                parameters=[
                    query("upload_id", STRING, "From POST /builds/upload.", required=True),
                    query("object_key", STRING, "From POST /builds/upload.", required=True),
                    query("part_numbers", STRING, "Comma-separated, such as `1,2,3`."),
                ],
                responses={
                    "200": json_answer(envelope(ref("PartUrls")), "One URL per part."),
                    "400": BAD_INPUT,
                    "404": error_answer(
                        "No upload with that upload_id and object_key.", ["NOT_FOUND"]
                    ),
                    "409": UPLOAD_CONFLICT,
                    "410": UPLOAD_GONE,
                },
            ),
        },
        "/builds/upload/{buildId}/{partNumber}": {
            "put": operation(
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
                    BUILD_ID,
                    path_parameter(
                        "partNumber", {"type": "integer", "minimum": 0}, "0: the whole file."
                    ),
                    query("expires", STRING, "Part of the signed URL.", required=True),
                    query("signature", STRING, "Part of the signed URL.", required=True),
                ],
                body={"type": "string", "format": "binary"},
                body_media_type="application/octet-stream",
                responses={
                    "200": json_answer(
                        envelope(ref("PartReceived")),
                        "Stored.",
                        {"ETag": header("Quoted MD5 of the bytes; send it back at completion.")},
                    ),
                    "400": BAD_INPUT,
                    "404": error_answer(
                        "No such path (a part number that is not a number).", ["NOT_FOUND"]
                    ),
                    "403": error_answer(
                        "The URL is not valid.",
                        ["HTTPS_REQUIRED", "INVALID_UPLOAD_URL", "UPLOAD_URL_EXPIRED"],
                    ),
                    "409": UPLOAD_CONFLICT,
                    "410": UPLOAD_GONE,
                    "411": error_answer("Content-Length is missing.", ["LENGTH_REQUIRED"]),
                    "413": TOO_LARGE,
                },
            ),
        },
        "/builds/upload/complete": {
            "post": operation(
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
                    "200": BUILD_ANSWER,
                    "400": error_answer(
                        "The request or the uploaded parts are not valid.",
                        [
                            "VALIDATION_ERROR",
                            "PART_MISSING",
                            "PARTS_OUT_OF_ORDER",
                            "ETAG_MISMATCH",
                            "SIZE_MISMATCH",
                        ],
                    ),
                    "404": NOT_FOUND_ANSWER,
                    "409": UPLOAD_CONFLICT,
                    "410": UPLOAD_GONE,
                    "413": TOO_LARGE,
                },
            ),
        },
    }
