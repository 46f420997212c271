"""Where a build's bytes go: local files or an S3 bucket, behind one small interface.

Both backends sit on Django's storage API (``storages["builds"]``): a
FileSystemStorage under MEDIA_ROOT by default, django-storages' S3Storage when
BUILD_STORAGE_BUCKET is set. The views never know which one they talk to:

    start_multipart(build)            -> upload_id
    upload_url(request, build, part)  -> the URL the client PUTs the bytes to
    receive(build, part, stream, n)   -> the part's size and ETag (local only: with
                                         S3 the client PUTs to the bucket itself)
    complete(build, parts)            -> size and sha256 of the assembled object
    abort(build)                      -> remove the parts and the object (idempotent)

Nothing here holds a whole part in memory: bytes move in CHUNK_SIZE pieces.

    parts.py   refusals, part arithmetic, the backend's interface
    local.py   LocalBackend (FileSystemStorage)
    s3.py      S3Backend (django-storages' S3Storage)
"""

from __future__ import annotations

from django.core.files.storage import storages

from api.models import Build
from api.storage.local import LocalBackend
from api.storage.parts import (
    CHUNK_SIZE,
    MAX_PARTS,
    ClientPart,
    Completed,
    LimitedReader,
    ReceivedPart,
    UploadBackend,
    UploadError,
    check_part_list,
    check_total,
    etag_mismatch,
    expected_part_size,
    normalize_etag,
    part_missing,
    part_name,
    payload_too_large,
)
from api.storage.s3 import S3Backend

__all__ = [
    "CHUNK_SIZE",
    "MAX_PARTS",
    "ClientPart",
    "Completed",
    "LimitedReader",
    "LocalBackend",
    "ReceivedPart",
    "S3Backend",
    "UploadBackend",
    "UploadError",
    "backend",
    "check_part_list",
    "check_total",
    "etag_mismatch",
    "expected_part_size",
    "normalize_etag",
    "part_missing",
    "part_name",
    "payload_too_large",
    "remove_build_files",
]


def backend() -> UploadBackend:
    storage = storages["builds"]
    if type(storage).__module__.startswith("storages.backends.s3"):
        return S3Backend(storage)
    return LocalBackend(storage)


def remove_build_files(build: Build) -> None:
    """Everything stored for ``build``: parts of an unfinished upload and the object."""
    chosen = backend()
    chosen.abort(build)
    if build.status == Build.Status.READY and build.object_key:
        chosen.delete_object(build.object_key)
