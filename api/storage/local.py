"""Build files under MEDIA_ROOT: the server itself receives the PUTs at signed URLs."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.files import File
from django.core.files.storage import Storage
from django.http import HttpRequest
from django.urls import reverse

from api import signing
from api.models import Build
from api.storage.parts import (
    CHUNK_SIZE,
    ClientPart,
    Completed,
    LimitedReader,
    ReceivedPart,
    check_part_list,
    check_total,
    etag_mismatch,
    part_missing,
    part_name,
)

logger = logging.getLogger("api.storage")


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
