"""Build files in an S3 bucket: the client PUTs to the bucket's own presigned URLs."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import Any, BinaryIO

from django.http import HttpRequest
from django.utils import timezone

from api import signing
from api.models import Build
from api.storage.parts import (
    CHUNK_SIZE,
    ClientPart,
    Completed,
    ReceivedPart,
    UploadError,
    check_part_list,
    check_total,
    etag_mismatch,
    normalize_etag,
    part_missing,
)

logger = logging.getLogger("api.storage")


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
