"""The build upload protocol's writes (SPEC §4): initiate, receive a part, complete, cancel.

A build is UPLOADING until completed (READY), canceled (CANCELED) or past its
deadline (EXPIRED, set by cleanup_uploads; until then a late request is refused
all the same). Each step that two requests could race claims the build with a
conditional UPDATE (``status=UPLOADING`` and no completion started), so a
cancel and a completion never both win. Refusals are :class:`UploadError`,
which the views answer with the JSON error envelope.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import Build
from api.serializers import timestamp
from api.storage import (
    MAX_PARTS,
    ClientPart,
    ReceivedPart,
    UploadError,
    backend,
    payload_too_large,
)

logger = logging.getLogger("api.services")


@dataclass(frozen=True)
class UploadRequest:
    """POST /builds/upload's body, checked by the view."""

    name: str
    file_name: str  # as the client named it
    stored_name: str  # the plain, safe file name its object key ends with
    file_size: int
    platform: str
    description: str = ""
    tags: tuple[str, ...] = ()
    multipart: bool = False
    timeout_minutes: int | None = None


# --- Refusals ----------------------------------------------------------------


def not_in_progress(build: Build) -> UploadError:
    if build.status == Build.Status.READY:
        message = "This build's upload is already complete; it is READY to use."
    else:
        message = f"This build's upload is {build.status}; start a new upload."
    return UploadError(
        409, "UPLOAD_NOT_IN_PROGRESS", message, {"build_id": str(build.id), "status": build.status}
    )


def being_completed(build: Build) -> UploadError:
    return UploadError(
        409,
        "UPLOAD_NOT_IN_PROGRESS",
        "This upload is being completed by another request; wait for it to finish.",
        {"build_id": str(build.id), "status": build.status},
    )


def upload_expired(build: Build) -> UploadError:
    return UploadError(
        410,
        "UPLOAD_EXPIRED",
        "This upload was not completed before its deadline; start a new upload.",
        {"build_id": str(build.id), "expired_at": timestamp(build.upload_expires_at)},
    )


def check_in_progress(build: Build, *, now: datetime | None = None) -> None:
    """UPLOADING and before its deadline, or the refusal to answer."""
    if build.status == Build.Status.EXPIRED:
        raise upload_expired(build)
    if build.status != Build.Status.UPLOADING:
        raise not_in_progress(build)
    if build.upload_expires_at is not None and build.upload_expires_at <= (now or timezone.now()):
        raise upload_expired(build)


# --- Initiate ----------------------------------------------------------------


def _plan(file_size: int, multipart: bool) -> tuple[bool, int, int]:
    """(multipart, part size, number of parts): large files always go in parts."""
    multipart = multipart or file_size >= settings.BUILDS_MULTIPART_THRESHOLD
    part_size = max(settings.BUILDS_PART_SIZE, math.ceil(file_size / MAX_PARTS))
    total_parts = math.ceil(file_size / part_size) if multipart else 1
    return multipart, part_size, total_parts


def _timeout(upload: UploadRequest, multipart: bool) -> timedelta:
    if upload.timeout_minutes is not None:
        return timedelta(minutes=upload.timeout_minutes)
    if multipart:
        return timedelta(minutes=settings.BUILDS_UPLOAD_TIMEOUT_MULTIPART)
    return timedelta(minutes=settings.BUILDS_UPLOAD_TIMEOUT_SINGLE)


def upload_initiate(
    *, project_id: int, key_id: str, upload: UploadRequest, now: datetime | None = None
) -> Build:
    """An UPLOADING build, its multipart upload started in storage when it has parts."""
    if upload.file_size > settings.BUILDS_MAX_SIZE:
        raise payload_too_large(settings.BUILDS_MAX_SIZE)
    now = now or timezone.now()
    multipart, part_size, total_parts = _plan(upload.file_size, upload.multipart)
    build_id = uuid.uuid4()
    build = Build(
        id=build_id,
        project_id=project_id,
        name=upload.name,
        description=upload.description,
        file_name=upload.file_name,
        file_size=upload.file_size,
        platform=upload.platform,
        tags=list(upload.tags),
        status=Build.Status.UPLOADING,
        object_key=f"builds/{project_id}/{build_id}/{upload.stored_name}",
        multipart=multipart,
        total_parts=total_parts,
        part_size=part_size if multipart else None,
        upload_expires_at=now + _timeout(upload, multipart),
        created_at=now,
        initiator={"type": "api", "value": {"key_id": key_id}},
    )
    if multipart:
        build.upload_id = backend().start_multipart(build)
    build.save(force_insert=True)
    logger.info("Upload of build %s started by key %s.", build.id, key_id)
    return build


# --- A part's bytes (local storage) ------------------------------------------


def upload_receive_part(
    *, build: Build, part_number: int, stream: BinaryIO, limit: int
) -> ReceivedPart:
    """Store one part's bytes; a cancel that came while they streamed in removes them."""
    check_in_progress(build)
    storage = backend()
    received = storage.receive(build, part_number, stream, limit)
    build.refresh_from_db(fields=["status"])
    if build.status != Build.Status.UPLOADING:
        storage.abort(build)
        raise not_in_progress(build)
    return received


# --- Complete ----------------------------------------------------------------


def _claim_completion(build: Build) -> None:
    """Mark the completion started: a second request while this one assembles is refused."""
    claimed = Build.objects.filter(
        pk=build.pk, status=Build.Status.UPLOADING, completion_started_at__isnull=True
    ).update(completion_started_at=timezone.now())
    if not claimed:
        build.refresh_from_db()
        if build.status == Build.Status.UPLOADING:
            raise being_completed(build)
        raise not_in_progress(build)


def upload_complete(*, build: Build, parts: list[ClientPart]) -> Build:
    """Check and assemble the parts, hash the file, and make the build READY."""
    check_in_progress(build)
    _claim_completion(build)
    storage = backend()
    try:
        completed = storage.complete(build, parts)
    except BaseException:
        # Refused (or failed): the upload stays open for a corrected completion.
        Build.objects.filter(pk=build.pk).update(completion_started_at=None)
        raise
    with transaction.atomic():
        finished = Build.objects.filter(pk=build.pk, status=Build.Status.UPLOADING).update(
            status=Build.Status.READY, sha256=completed.sha256, completed_at=timezone.now()
        )
    build.refresh_from_db()
    if not finished:
        # Canceled while assembling: the cancel wins, and its files go.
        storage.abort(build)
        raise not_in_progress(build)
    logger.info("Upload of build %s completed (%d bytes).", build.id, completed.size)
    return build


# --- Cancel ------------------------------------------------------------------


def upload_cancel(*, build: Build) -> Build:
    """CANCELED, and whatever was stored removed; canceling again is harmless.

    A READY build, or one whose completion is assembling its parts right now,
    is refused: canceling would lose a finished file or parts mid-read.
    """
    if build.status == Build.Status.READY:
        raise not_in_progress(build)
    if build.status == Build.Status.UPLOADING:
        canceled = Build.objects.filter(
            pk=build.pk, status=Build.Status.UPLOADING, completion_started_at__isnull=True
        ).update(status=Build.Status.CANCELED)
        build.refresh_from_db()
        if not canceled:
            if build.status == Build.Status.UPLOADING:
                raise being_completed(build)
            if build.status == Build.Status.READY:
                raise not_in_progress(build)
        else:
            logger.info("Upload of build %s canceled.", build.id)
    backend().abort(build)
    return build
