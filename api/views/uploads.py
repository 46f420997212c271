"""The build upload protocol of nunu's API (SPEC §4), on local storage or an S3 bucket.

    POST   /builds/upload                   manage-build-storage  initiate
    GET    /builds/upload/parts             the upload_id         part URLs (multipart)
    PUT    /builds/upload/{buildId}/{part}  the URL's signature   the bytes (local storage)
    POST   /builds/upload/complete          manage-build-storage  check, assemble, sha256
    DELETE /builds/upload                   manage-build-storage  cancel, remove the parts

The views read the request (api.views.upload_input) and answer; every write
and every rule of an upload's life is api.services.uploads. Bodies are
streamed to storage: no handler reads a whole part into memory, and none
touches ``request.body`` for a PUT.
"""

from __future__ import annotations

import hmac
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from api import services, signing
from api.models import Build
from api.permissions import MANAGE_BUILD_STORAGE
from api.serializers import build_to_dict, timestamp
from api.storage import ReceivedPart, UploadError, backend, expected_part_size, payload_too_large
from api.views.base import (
    BadBody,
    json_body,
    key_id_of,
    method_not_allowed,
    not_found,
    ok,
    parse_id,
    project_id_of,
    validation_error,
)
from api.views.upload_input import client_parts, upload_request
from apikeys.decorators import authenticated_by, require_permission
from apikeys.guard.errors import json_error
from apikeys.guard.request import APIRequest

# One GET /builds/upload/parts hands out at most this many URLs.
MAX_PART_URLS = 1000


def _error(request: APIRequest, refusal: UploadError) -> JsonResponse:
    return json_error(request, refusal.status, refusal.code, refusal.message, refusal.details)


def _owned_build(request: APIRequest, raw_id: object) -> Build | None:
    parsed = parse_id(raw_id) if isinstance(raw_id, str) else None
    if parsed is None:
        return None
    return Build.objects.filter(project_id=project_id_of(request), id=parsed).first()


# --- POST and DELETE /builds/upload ---------------------------------------------------


@require_permission(MANAGE_BUILD_STORAGE)
def upload(request: APIRequest) -> HttpResponse:
    if request.method == "POST":
        return initiate(request)
    if request.method == "DELETE":
        return cancel(request)
    return method_not_allowed(request, ["POST", "DELETE"])


def initiate(request: APIRequest) -> HttpResponse:
    try:
        body = json_body(request)
    except BadBody as bad:
        return bad.response
    errors: dict[str, Any] = {}
    wanted = upload_request(body, errors)
    if wanted is None:
        return validation_error(request, errors)
    try:
        build = services.upload_initiate(
            project_id=project_id_of(request), key_id=key_id_of(request), upload=wanted
        )
    except UploadError as refusal:
        return _error(request, refusal)
    data: dict[str, Any] = {
        "build_id": str(build.id),
        "object_key": build.object_key,
        "multipart": build.multipart,
        "expires_at": timestamp(build.upload_expires_at),
    }
    if build.multipart:
        data.update(
            upload_id=build.upload_id, total_parts=build.total_parts, part_size=build.part_size
        )
    else:
        data["upload_url"] = backend().upload_url(request, build, signing.SINGLE_PART)
    return ok(data, status=201)


def cancel(request: APIRequest) -> HttpResponse:
    build = _owned_build(request, request.GET.get("build_id", ""))
    object_key = request.GET.get("object_key", "")
    if build is None or not object_key or not hmac.compare_digest(build.object_key, object_key):
        return not_found(request, "upload")
    upload_id = request.GET.get("upload_id")
    if upload_id is not None and not hmac.compare_digest(build.upload_id, upload_id):
        return not_found(request, "upload")
    try:
        build = services.upload_cancel(build=build)
    except UploadError as refusal:
        return _error(request, refusal)
    return ok(build_to_dict(build))


# --- GET /builds/upload/parts ---------------------------------------------------------


@authenticated_by("upload_id")
def upload_parts(request: APIRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(request, ["GET"])
    upload_id = request.GET.get("upload_id", "")
    object_key = request.GET.get("object_key", "")
    errors: dict[str, Any] = {}
    if not upload_id:
        errors["upload_id"] = "Send the upload_id that POST /api/v1/builds/upload answered."
    if not object_key:
        errors["object_key"] = "Send the object_key that POST /api/v1/builds/upload answered."
    if errors:
        return validation_error(request, errors)
    # A NUL would make PostgreSQL refuse the query: such an id matches nothing anyway.
    if "\x00" in upload_id:
        return not_found(request, "upload")
    build = Build.objects.filter(upload_id=upload_id, multipart=True).first()
    if build is None or not hmac.compare_digest(build.object_key, object_key):
        return not_found(request, "upload")
    try:
        services.check_in_progress(build)
    except UploadError as refusal:
        return _error(request, refusal)
    raw_numbers = request.GET.get("part_numbers", "")
    if raw_numbers.strip():
        numbers: list[int] = []
        for piece in raw_numbers.split(","):
            piece = piece.strip()
            if not piece.isdigit() or not 1 <= int(piece) <= build.total_parts:
                return validation_error(
                    request,
                    {
                        "part_numbers": f"{piece!r} is not a part number of this upload; "
                        f"use numbers from 1 to {build.total_parts}, separated by commas."
                    },
                )
            numbers.append(int(piece))
        numbers = sorted(set(numbers))
    else:
        numbers = list(range(1, build.total_parts + 1))
    if len(numbers) > MAX_PART_URLS:
        return validation_error(
            request,
            {"part_numbers": f"Ask for at most {MAX_PART_URLS} parts at a time."},
        )
    storage = backend()
    urls = [
        {"part_number": number, "url": storage.upload_url(request, build, number)}
        for number in numbers
    ]
    return ok({"upload_urls": urls, "expires_at": timestamp(build.upload_expires_at)})


# --- PUT /builds/upload/{buildId}/{partNumber} ----------------------------------------


@authenticated_by("signed URL")
def upload_part(request: APIRequest, build_id: str, part_number: int) -> HttpResponse:
    if request.method != "PUT":
        return method_not_allowed(request, ["PUT"])
    parsed = parse_id(build_id)
    build = Build.objects.filter(id=parsed).first() if parsed is not None else None
    # An unknown build is checked against a key of no object: the same 403, same work.
    verdict = signing.verify(
        build_id,
        build.object_key if build is not None else "",
        part_number,
        request.GET.get("expires"),
        request.GET.get("signature"),
    )
    if not verdict.ok or build is None:
        verdict = verdict if not verdict.ok else signing.INVALID
        return json_error(request, 403, verdict.code, verdict.message)
    expected_part = part_number if build.multipart else signing.SINGLE_PART
    if part_number != expected_part or part_number > build.total_parts:
        return json_error(request, 403, signing.INVALID.code, signing.INVALID.message)
    try:
        received = _receive(request, build, part_number)
    except UploadError as refusal:
        return _error(request, refusal)
    response = ok(
        {"part_number": part_number, "etag": received.etag, "size": received.size},
    )
    response["ETag"] = received.etag
    return response


def _body_stream(request: APIRequest, limit: int) -> BinaryIO:
    """The PUT's body to stream from, refused before one byte is read when too large."""
    raw_length = request.META.get("CONTENT_LENGTH", "").strip()
    if raw_length:
        if not raw_length.isdigit():
            raise UploadError(
                400, "VALIDATION_ERROR", "Content-Length must be a whole number of bytes."
            )
        if int(raw_length) > limit:
            raise payload_too_large(limit)
        return cast(BinaryIO, request)
    if request.META.get("wsgi.input_terminated"):
        # A chunked body (gunicorn de-chunks it and marks the end): Django would read
        # nothing without a Content-Length, so read the server's stream, capped at limit.
        return cast(BinaryIO, request.META["wsgi.input"])
    raise UploadError(
        411, "LENGTH_REQUIRED", "Send a Content-Length header with the part's size in bytes."
    )


def _receive(request: APIRequest, build: Build, part_number: int) -> ReceivedPart:
    services.check_in_progress(build)
    limit = min(expected_part_size(build, part_number), settings.BUILDS_MAX_SIZE)
    return services.upload_receive_part(
        build=build, part_number=part_number, stream=_body_stream(request, limit), limit=limit
    )


# --- POST /builds/upload/complete -----------------------------------------------------


def _multipart_errors(build: Build, body: dict[str, Any]) -> dict[str, list[str] | str]:
    errors: dict[str, list[str] | str] = {}
    upload_id, object_key = body.get("upload_id"), body.get("object_key")
    if not isinstance(upload_id, str) or not hmac.compare_digest(build.upload_id, upload_id):
        errors["upload_id"] = "Send the upload_id this build's upload was given."
    if not isinstance(object_key, str) or not hmac.compare_digest(build.object_key, object_key):
        errors["object_key"] = "Send the object_key this build's upload was given."
    if client_parts(body.get("parts")) is None:
        errors["parts"] = 'Send a list of {"part_number": N, "etag": "..."}, one per part.'
    return errors


@require_permission(MANAGE_BUILD_STORAGE)
def upload_complete(request: APIRequest) -> HttpResponse:
    if request.method != "POST":
        return method_not_allowed(request, ["POST"])
    try:
        body = json_body(request)
    except BadBody as bad:
        return bad.response
    raw_id = body.get("build_id")
    if not isinstance(raw_id, str) or not raw_id:
        return validation_error(request, {"build_id": "Send the build_id of the upload."})
    build = _owned_build(request, raw_id)
    if build is None:
        return not_found(request, "build")
    if build.multipart:
        errors = _multipart_errors(build, body)
        if errors:
            return validation_error(request, errors)
    parts = (client_parts(body.get("parts")) or []) if build.multipart else []
    try:
        build = services.upload_complete(build=build, parts=parts)
    except UploadError as refusal:
        return _error(request, refusal)
    return ok(build_to_dict(build))
