"""What both storage backends share: refusals, parts, limits, the backend's interface."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from django.http import HttpRequest

from api import signing
from api.models import Build

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
