"""The build upload protocol of nunu's API (SPEC §4), on local storage or an S3 bucket.

    POST   /builds/upload                   manage-build-storage  initiate
    GET    /builds/upload/parts             the upload_id         part URLs (multipart)
    PUT    /builds/upload/{buildId}/{part}  the URL's signature   the bytes (local storage)
    POST   /builds/upload/complete          manage-build-storage  check, assemble, sha256
    DELETE /builds/upload                   manage-build-storage  cancel, remove the parts

A build is UPLOADING until completed (READY), canceled (CANCELED) or past its
deadline (EXPIRED, set by cleanup_uploads; until then a late request is refused
all the same). Bodies are streamed to storage: no handler reads a whole part
into memory, and none touches ``request.body`` for a PUT.
"""

from __future__ import annotations

import hmac
import logging
import math
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.text import get_valid_filename

from api import signing
from api.models import Build
from api.serializers import build_to_dict, timestamp
from api.storage import MAX_PARTS, ClientPart, UploadError, backend, payload_too_large
from api.views.base import (
    BadBody,
    json_body,
    key_id_of,
    method_not_allowed,
    not_found,
    ok,
    parse_id,
    project_id_of,
    text_problem,
    validation_error,
)
from apikeys.decorators import authenticated_by, require_permission
from apikeys.guard.errors import json_error
from apikeys.permissions import MANAGE_BUILD_STORAGE

logger = logging.getLogger("api.views.uploads")

TIMEOUT_RANGE = (1, 1440)  # minutes, as nunu's upload_timeout
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
# One GET /builds/upload/parts hands out at most this many URLs.
MAX_PART_URLS = 1000


def _error(request: HttpRequest, refusal: UploadError) -> JsonResponse:
    return json_error(request, refusal.status, refusal.code, refusal.message, refusal.details)


def _not_in_progress(build: Build) -> UploadError:
    if build.status == Build.Status.READY:
        message = "This build's upload is already complete; it is READY to use."
    else:
        message = f"This build's upload is {build.status}; start a new upload."
    return UploadError(
        409, "UPLOAD_NOT_IN_PROGRESS", message, {"build_id": str(build.id), "status": build.status}
    )


def _being_completed(build: Build) -> UploadError:
    return UploadError(
        409,
        "UPLOAD_NOT_IN_PROGRESS",
        "This upload is being completed by another request; wait for it to finish.",
        {"build_id": str(build.id), "status": build.status},
    )


def _expired(build: Build) -> UploadError:
    return UploadError(
        410,
        "UPLOAD_EXPIRED",
        "This upload was not completed before its deadline; start a new upload.",
        {"build_id": str(build.id), "expired_at": timestamp(build.upload_expires_at)},
    )


def check_in_progress(build: Build) -> None:
    """UPLOADING and before its deadline, or the refusal to answer."""
    if build.status == Build.Status.EXPIRED:
        raise _expired(build)
    if build.status != Build.Status.UPLOADING:
        raise _not_in_progress(build)
    if build.upload_expires_at is not None and build.upload_expires_at <= timezone.now():
        raise _expired(build)


# --- POST and DELETE /builds/upload ---------------------------------------------------


@require_permission(MANAGE_BUILD_STORAGE)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return initiate(request)
    if request.method == "DELETE":
        return cancel(request)
    return method_not_allowed(request, ["POST", "DELETE"])


def _text(body: dict[str, Any], name: str, max_length: int, errors: dict, *, required: bool):
    value = body.get(name)
    if value is None:
        if required:
            errors[name] = "This field is required."
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors[name] = "Send a non-empty string."
        return ""
    problem = text_problem(value)
    if problem:
        errors[name] = problem
        return ""
    if len(value) > max_length:
        errors[name] = f"At most {max_length} characters, not {len(value)}."
        return ""
    return value.strip()


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _safe_file_name(file_name: str) -> str | None:
    if "/" in file_name or "\\" in file_name or any(ord(c) < 32 for c in file_name):
        return None
    try:
        safe = get_valid_filename(file_name)
    except Exception:
        return None
    return safe if safe not in ("", ".", "..") else None


def initiate(request: HttpRequest) -> HttpResponse:
    try:
        body = json_body(request)
    except BadBody as bad:
        return bad.response
    errors: dict[str, Any] = {}
    name = _text(body, "name", 200, errors, required=True)
    file_name = _text(body, "file_name", 255, errors, required=True)
    platform = _text(body, "platform", 50, errors, required=True)
    description = _text(body, "description", 5000, errors, required=False)
    if file_name and _safe_file_name(file_name) is None:
        errors["file_name"] = f"{file_name!r} is not a plain file name; leave out any folders."
    file_size = _whole_number(body.get("file_size"))
    if file_size is None or file_size < 1:
        errors["file_size"] = "Send the file's size in bytes, a whole number of at least 1."
    tags = body.get("tags", [])
    if tags is None:
        tags = []
    if (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(
            isinstance(t, str) and 0 < len(t.strip()) <= MAX_TAG_LENGTH and not text_problem(t)
            for t in tags
        )
    ):
        errors["tags"] = (
            f"Send at most {MAX_TAGS} tags, each a string of 1 to {MAX_TAG_LENGTH} characters."
        )
    multipart = body.get("multipart", False)
    if multipart is None:
        multipart = False
    if not isinstance(multipart, bool):
        errors["multipart"] = "Send true or false."
    timeout = body.get("upload_timeout")
    if timeout is not None:
        timeout = _whole_number(timeout)
        if timeout is None or not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
            errors["upload_timeout"] = "Send a whole number of minutes from 1 to 1440."
    if errors:
        return validation_error(request, errors)
    assert file_size is not None
    if file_size > settings.BUILDS_MAX_SIZE:
        return _error(request, payload_too_large(settings.BUILDS_MAX_SIZE))

    multipart = bool(multipart) or file_size >= settings.BUILDS_MULTIPART_THRESHOLD
    part_size = max(settings.BUILDS_PART_SIZE, math.ceil(file_size / MAX_PARTS))
    total_parts = math.ceil(file_size / part_size) if multipart else 1
    if timeout is None:
        timeout = (
            settings.BUILDS_UPLOAD_TIMEOUT_MULTIPART
            if multipart
            else settings.BUILDS_UPLOAD_TIMEOUT_SINGLE
        )
    now = timezone.now()
    build_id = uuid.uuid4()
    project_id = project_id_of(request)
    build = Build(
        id=build_id,
        project_id=project_id,
        name=name,
        description=description,
        file_name=file_name,
        file_size=file_size,
        platform=platform,
        tags=[t.strip() for t in tags],
        status=Build.Status.UPLOADING,
        object_key=f"builds/{project_id}/{build_id}/{_safe_file_name(file_name)}",
        multipart=multipart,
        total_parts=total_parts,
        part_size=part_size if multipart else None,
        upload_expires_at=now + timedelta(minutes=timeout),
        created_at=now,
        initiator={"type": "api", "value": {"key_id": key_id_of(request)}},
    )
    storage = backend()
    if multipart:
        build.upload_id = storage.start_multipart(build)
    build.save(force_insert=True)
    data: dict[str, Any] = {
        "build_id": str(build.id),
        "object_key": build.object_key,
        "multipart": multipart,
        "expires_at": timestamp(build.upload_expires_at),
    }
    if multipart:
        data.update(upload_id=build.upload_id, total_parts=total_parts, part_size=part_size)
    else:
        data["upload_url"] = storage.upload_url(request, build, signing.SINGLE_PART)
    return ok(data, status=201)


def cancel(request: HttpRequest) -> HttpResponse:
    build = _owned_build(request, request.GET.get("build_id", ""))
    object_key = request.GET.get("object_key", "")
    if build is None or not object_key or not hmac.compare_digest(build.object_key, object_key):
        return not_found(request, "upload")
    upload_id = request.GET.get("upload_id")
    if upload_id is not None and not hmac.compare_digest(build.upload_id, upload_id):
        return not_found(request, "upload")
    if build.status == Build.Status.READY:
        return _error(request, _not_in_progress(build))
    if build.status == Build.Status.UPLOADING:
        # Not while a completion assembles the parts: it would lose them mid-read.
        canceled = Build.objects.filter(
            pk=build.pk, status=Build.Status.UPLOADING, completion_started_at__isnull=True
        ).update(status=Build.Status.CANCELED)
        build.refresh_from_db()
        if not canceled:
            if build.status == Build.Status.UPLOADING:
                return _error(request, _being_completed(build))
            if build.status == Build.Status.READY:
                return _error(request, _not_in_progress(build))
    # Canceling again (or an expired upload) removes whatever is left: idempotent.
    backend().abort(build)
    return ok(build_to_dict(build))


def _owned_build(request: HttpRequest, raw_id: object) -> Build | None:
    parsed = parse_id(raw_id) if isinstance(raw_id, str) else None
    if parsed is None:
        return None
    return Build.objects.filter(project_id=project_id_of(request), id=parsed).first()


# --- GET /builds/upload/parts ---------------------------------------------------------


@authenticated_by("upload_id")
def upload_parts(request: HttpRequest) -> HttpResponse:
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
        check_in_progress(build)
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
def upload_part(request: HttpRequest, build_id: str, part_number: int) -> HttpResponse:
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
        check_in_progress(build)
        received = _receive(request, build, part_number)
    except UploadError as refusal:
        return _error(request, refusal)
    response = ok(
        {"part_number": part_number, "etag": received.etag, "size": received.size},
    )
    response["ETag"] = received.etag
    return response


def _receive(request: HttpRequest, build: Build, part_number: int):
    from api.storage import expected_part_size

    limit = min(expected_part_size(build, part_number), settings.BUILDS_MAX_SIZE)
    raw_length = request.META.get("CONTENT_LENGTH", "")
    stream = request
    if raw_length.strip():
        if not raw_length.strip().isdigit():
            raise UploadError(
                400, "VALIDATION_ERROR", "Content-Length must be a whole number of bytes."
            )
        # Refused before one byte is read, so nothing is stored.
        if int(raw_length) > limit:
            raise payload_too_large(limit)
    elif request.META.get("wsgi.input_terminated"):
        # A chunked body (gunicorn de-chunks it and marks the end): Django would read
        # nothing without a Content-Length, so read the server's stream, capped at limit.
        stream = request.META["wsgi.input"]
    else:
        raise UploadError(
            411, "LENGTH_REQUIRED", "Send a Content-Length header with the part's size in bytes."
        )
    received = backend().receive(build, part_number, stream, limit)  # type: ignore[arg-type]
    build.refresh_from_db(fields=["status"])
    if build.status != Build.Status.UPLOADING:
        # Canceled while the bytes were streaming in: they must not stay.
        backend().abort(build)
        raise _not_in_progress(build)
    return received


# --- POST /builds/upload/complete -----------------------------------------------------


def _parse_parts(raw: Any) -> list[ClientPart] | None:
    if not isinstance(raw, list) or len(raw) > MAX_PARTS:
        return None
    parts = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        number = _whole_number(item.get("part_number"))
        etag = item.get("etag")
        if number is None or not isinstance(etag, str) or not etag or len(etag) > 200:
            return None
        parts.append(ClientPart(number, etag))
    return parts


@require_permission(MANAGE_BUILD_STORAGE)
def upload_complete(request: HttpRequest) -> HttpResponse:
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
    parts: list[ClientPart] = []
    if build.multipart:
        errors: dict[str, list[str] | str] = {}
        upload_id, object_key = body.get("upload_id"), body.get("object_key")
        if not isinstance(upload_id, str) or not hmac.compare_digest(build.upload_id, upload_id):
            errors["upload_id"] = "Send the upload_id this build's upload was given."
        if not isinstance(object_key, str) or not hmac.compare_digest(build.object_key, object_key):
            errors["object_key"] = "Send the object_key this build's upload was given."
        parsed_parts = _parse_parts(body.get("parts"))
        if parsed_parts is None:
            errors["parts"] = 'Send a list of {"part_number": N, "etag": "..."}, one per part.'
        if errors:
            return validation_error(request, errors)
        assert parsed_parts is not None
        parts = parsed_parts
    try:
        check_in_progress(build)
    except UploadError as refusal:
        return _error(request, refusal)
    # Claim the completion: a second request while this one assembles is refused.
    claimed = Build.objects.filter(
        pk=build.pk, status=Build.Status.UPLOADING, completion_started_at__isnull=True
    ).update(completion_started_at=timezone.now())
    if not claimed:
        build.refresh_from_db()
        if build.status == Build.Status.UPLOADING:
            return _error(request, _being_completed(build))
        return _error(request, _not_in_progress(build))
    storage = backend()
    try:
        completed = storage.complete(build, parts)
    except UploadError as refusal:
        Build.objects.filter(pk=build.pk).update(completion_started_at=None)
        return _error(request, refusal)
    except Exception:
        Build.objects.filter(pk=build.pk).update(completion_started_at=None)
        raise
    now = timezone.now()
    with transaction.atomic():
        finished = Build.objects.filter(pk=build.pk, status=Build.Status.UPLOADING).update(
            status=Build.Status.READY, sha256=completed.sha256, completed_at=now
        )
    build.refresh_from_db()
    if not finished:
        # Canceled while assembling: the cancel wins, and its files go.
        storage.abort(build)
        return _error(request, _not_in_progress(build))
    return ok(build_to_dict(build))
