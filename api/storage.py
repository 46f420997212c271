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
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from api import signing
from api.models import Build

logger = logging.getLogger("api.storage")

CHUNK_SIZE = 256 * 1024
# S3's rule: at most 10,000 parts per upload.
MAX_PARTS = 10_000


class UploadError(Exception):
    """A refusal the views turn into the JSON error envelope."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def payload_too_large(limit: int) -> UploadError:
    return UploadError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"The body is larger than the {limit} bytes this upload accepts; "
        "send exactly the declared bytes.",
        {"max_bytes": limit},
    )


@dataclass(frozen=True)
class ReceivedPart:
    part_number: int
    size: int
    etag: str  # quoted, as S3 answers it


@dataclass(frozen=True)
class Completed:
    size: int
    sha256: str


@dataclass
class ClientPart:
    part_number: int
    etag: str

    @property
    def bare_etag(self) -> str:
        return normalize_etag(self.etag)


def normalize_etag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"').lower()


def part_name(build: Build, part_number: int) -> str:
    return f"uploads/{build.id}/{part_number:05d}.part"


def expected_part_size(build: Build, part_number: int) -> int:
    if not build.multipart:
        return build.file_size
    part_size = build.part_size or build.file_size
    if part_number < build.total_parts:
        return part_size
    return build.file_size - part_size * (build.total_parts - 1)


class LimitedReader:
    """A request body read in chunks, refused past ``limit`` bytes, hashed on the way."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, size: int = -1) -> bytes:
        want = CHUNK_SIZE if size is None or size < 0 else min(size, CHUNK_SIZE)
        # One byte more than allowed is enough to know the body is too large.
        want = min(want, self.limit - self.size + 1)
        chunk = self.stream.read(want) if want > 0 else b""
        self.size += len(chunk)
        if self.size > self.limit:
            raise payload_too_large(self.limit)
        self.md5.update(chunk)
        return chunk


class UploadBackend(Protocol):
    kind: str

    def start_multipart(self, build: Build) -> str: ...
    def upload_url(self, request: HttpRequest, build: Build, part_number: int) -> str: ...
    def receive(
        self, build: Build, part_number: int, stream: BinaryIO, limit: int
    ) -> ReceivedPart: ...
    def complete(self, build: Build, parts: list[ClientPart]) -> Completed: ...
    def abort(self, build: Build) -> None: ...
    def delete_object(self, object_key: str) -> None: ...


def check_part_list(build: Build, parts: list[ClientPart]) -> None:
    """Every part from 1 to total_parts, each once, in ascending order."""
    numbers = [part.part_number for part in parts]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        raise UploadError(
            400,
            "PARTS_OUT_OF_ORDER",
            "List the parts in ascending part_number order, each once.",
            {"part_numbers": numbers},
        )
    missing = sorted(set(range(1, build.total_parts + 1)) - set(numbers))
    extra = [n for n in numbers if n < 1 or n > build.total_parts]
    if missing or extra:
        raise UploadError(
            400,
            "PART_MISSING",
            f"This upload has {build.total_parts} parts; list each of them once "
            f"(missing: {missing[:20]}).",
            {"missing_parts": missing[:100], "unknown_parts": extra[:100]},
        )


def check_total(build: Build, total: int) -> None:
    if total > build.file_size:
        raise payload_too_large(build.file_size)
    if total != build.file_size:
        raise UploadError(
            400,
            "SIZE_MISMATCH",
            f"The upload holds {total} bytes but file_size declared {build.file_size}.",
            {"expected_bytes": build.file_size, "received_bytes": total},
        )


def part_missing(part_number: int) -> UploadError:
    label = "The file" if part_number == signing.SINGLE_PART else f"Part {part_number}"
    return UploadError(
        400,
        "PART_MISSING",
        f"{label} has not been uploaded yet; PUT it to its upload URL first.",
        {"missing_parts": [part_number]},
    )


def etag_mismatch(part_number: int) -> UploadError:
    return UploadError(
        400,
        "ETAG_MISMATCH",
        f"The ETag given for part {part_number} is not the one its upload answered; "
        "send the ETag header of that part's PUT response.",
        {"part_number": part_number},
    )


@dataclass
class _PartsReader:
    """The parts one after another as one file, checking each part's ETag as it ends."""

    storage: Storage
    build: Build
    parts: list[ClientPart]
    sha256: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    _chunks: Iterator[bytes] | None = None

    def _generate(self) -> Iterator[bytes]:
        for part in self.parts:
            md5 = hashlib.md5(usedforsecurity=False)
            with self.storage.open(part_name(self.build, part.part_number), "rb") as source:
                while chunk := source.read(CHUNK_SIZE):
                    md5.update(chunk)
                    yield chunk
            if md5.hexdigest() != part.bare_etag:
                raise etag_mismatch(part.part_number)

    def read(self, size: int = -1) -> bytes:
        if self._chunks is None:
            self._chunks = self._generate()
        chunk = next(self._chunks, b"")
        self.sha256.update(chunk)
        self.size += len(chunk)
        return chunk


def _delete_quietly(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("Could not delete %s from build storage.", name, exc_info=True)


class LocalBackend:
    """Files under MEDIA_ROOT; the server itself receives the PUTs at signed URLs."""

    kind = "local"

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def start_multipart(self, build: Build) -> str:
        # The upload_id is the credential of GET /builds/upload/parts: unguessable.
        return secrets.token_urlsafe(32)

    def upload_url(self, request: HttpRequest, build: Build, part_number: int) -> str:
        assert build.upload_expires_at is not None
        path = reverse(
            "api:build-upload-part", kwargs={"build_id": build.id, "part_number": part_number}
        )
        query = signing.signed_query(
            str(build.id), build.object_key, part_number, build.upload_expires_at
        )
        return request.build_absolute_uri(f"{path}?{query}")

    def _target(self, build: Build, part_number: int) -> str:
        return part_name(build, part_number) if build.multipart else build.object_key

    def receive(self, build: Build, part_number: int, stream: BinaryIO, limit: int) -> ReceivedPart:
        name = self._target(build, part_number)
        reader = LimitedReader(stream, limit)
        try:
            self.storage.save(name, File(reader, name=name))  # type: ignore[arg-type]
        except BaseException:
            # Too large, or the client went away: nothing half-written stays.
            _delete_quietly(self.storage, name)
            raise
        return ReceivedPart(part_number, reader.size, f'"{reader.md5.hexdigest()}"')

    def complete(self, build: Build, parts: list[ClientPart]) -> Completed:
        if not build.multipart:
            return self._hash_single(build)
        check_part_list(build, parts)
        total = 0
        for part in parts:
            name = part_name(build, part.part_number)
            if not self.storage.exists(name):
                raise part_missing(part.part_number)
            total += self.storage.size(name)
        check_total(build, total)
        reader = _PartsReader(self.storage, build, parts)
        try:
            self.storage.save(build.object_key, File(reader, name=build.object_key))  # type: ignore[arg-type]
        except BaseException:
            _delete_quietly(self.storage, build.object_key)
            raise
        for part in parts:
            _delete_quietly(self.storage, part_name(build, part.part_number))
        _delete_quietly(self.storage, f"uploads/{build.id}")
        return Completed(reader.size, reader.sha256.hexdigest())

    def _hash_single(self, build: Build) -> Completed:
        if not self.storage.exists(build.object_key):
            raise part_missing(signing.SINGLE_PART)
        check_total(build, self.storage.size(build.object_key))
        digest = hashlib.sha256()
        size = 0
        with self.storage.open(build.object_key, "rb") as source:
            while chunk := source.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
        return Completed(size, digest.hexdigest())

    def abort(self, build: Build) -> None:
        if build.multipart:
            for number in range(1, build.total_parts + 1):
                _delete_quietly(self.storage, part_name(build, number))
            _delete_quietly(self.storage, f"uploads/{build.id}")
        if build.status != Build.Status.READY and build.object_key:
            _delete_quietly(self.storage, build.object_key)

    def delete_object(self, object_key: str) -> None:
        _delete_quietly(self.storage, object_key)


class S3Backend:
    """An S3 bucket: the client PUTs to the bucket's own presigned URLs."""

    kind = "s3"

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.client = storage.connection.meta.client
        self.bucket = storage.bucket_name

    def _expires_in(self, build: Build) -> int:
        assert build.upload_expires_at is not None
        return max(1, int((build.upload_expires_at - timezone.now()).total_seconds()))

    def start_multipart(self, build: Build) -> str:
        answer = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=build.object_key, ContentType="application/octet-stream"
        )
        return str(answer["UploadId"])

    def upload_url(self, request: HttpRequest, build: Build, part_number: int) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": build.object_key}
        operation = "put_object"
        if build.multipart:
            operation = "upload_part"
            params.update(UploadId=build.upload_id, PartNumber=part_number)
        return str(
            self.client.generate_presigned_url(
                operation, Params=params, ExpiresIn=self._expires_in(build)
            )
        )

    def receive(self, build: Build, part_number: int, stream: BinaryIO, limit: int) -> ReceivedPart:
        # The bucket receives the bytes; a signed URL of ours is never handed out.
        raise UploadError(403, signing.INVALID.code, signing.INVALID.message)

    def _listed_parts(self, build: Build) -> dict[int, dict[str, Any]]:
        listed: dict[int, dict[str, Any]] = {}
        paginator = self.client.get_paginator("list_parts")
        pages = paginator.paginate(
            Bucket=self.bucket, Key=build.object_key, UploadId=build.upload_id
        )
        for page in pages:
            for part in page.get("Parts", []):
                listed[int(part["PartNumber"])] = part
        return listed

    def complete(self, build: Build, parts: list[ClientPart]) -> Completed:
        from botocore.exceptions import ClientError

        if build.multipart:
            check_part_list(build, parts)
            try:
                listed = self._listed_parts(build)
            except ClientError as error:
                raise _s3_refusal(error) from error
            total = 0
            for part in parts:
                stored = listed.get(part.part_number)
                if stored is None:
                    raise part_missing(part.part_number)
                if normalize_etag(stored["ETag"]) != part.bare_etag:
                    raise etag_mismatch(part.part_number)
                total += int(stored["Size"])
            check_total(build, total)
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=build.object_key,
                UploadId=build.upload_id,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": part.part_number, "ETag": listed[part.part_number]["ETag"]}
                        for part in parts
                    ]
                },
            )
        else:
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=build.object_key)
            except ClientError as error:
                raise part_missing(signing.SINGLE_PART) from error
            try:
                check_total(build, int(head["ContentLength"]))
            except UploadError as refusal:
                if refusal.status == 413:
                    self.delete_object(build.object_key)
                raise
        return self._hash(build)

    def _hash(self, build: Build) -> Completed:
        body = self.client.get_object(Bucket=self.bucket, Key=build.object_key)["Body"]
        digest = hashlib.sha256()
        size = 0
        for chunk in body.iter_chunks(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
        return Completed(size, digest.hexdigest())

    def abort(self, build: Build) -> None:
        from botocore.exceptions import ClientError

        if build.multipart and build.upload_id:
            # Already completed or aborted: nothing left to remove.
            with contextlib.suppress(ClientError):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=build.object_key, UploadId=build.upload_id
                )
        if build.status != Build.Status.READY and build.object_key:
            self.delete_object(build.object_key)

    def delete_object(self, object_key: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=object_key)
        except ClientError:
            logger.warning("Could not delete %s from the bucket.", object_key, exc_info=True)


def _s3_refusal(error: Exception) -> UploadError:
    return UploadError(
        409,
        "UPLOAD_NOT_IN_PROGRESS",
        "The bucket no longer knows this multipart upload; start a new upload.",
    )


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
