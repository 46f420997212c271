"""The S3 path (api.storage.S3Backend) against moto's S3 server: what only S3 does."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command

from api.models import Build
from api.permissions import MANAGE_BUILD_STORAGE
from api.storage import S3Backend, backend
from tests.moto_s3 import moto_endpoint, s3_client, use_s3_bucket  # noqa: F401 (fixture)
from tests.upload_helpers import Uploader, payload, put_bytes

PART = 1024


@pytest.fixture
def bucket(settings, moto_endpoint) -> str:  # noqa: F811
    settings.BUILDS_PART_SIZE = PART
    settings.BUILDS_MULTIPART_THRESHOLD = 4 * PART
    return use_s3_bucket(settings, moto_endpoint)


@pytest.fixture
def uploader(bucket, project, make_key) -> Uploader:
    _, plaintext = make_key(project, [MANAGE_BUILD_STORAGE])
    return Uploader(plaintext)


def test_a_named_bucket_selects_the_s3_backend(bucket):
    assert isinstance(backend(), S3Backend)


def test_upload_urls_are_the_buckets_own_presigned_urls(uploader, bucket, moto_endpoint):  # noqa: F811
    single = uploader.initiate(payload(10)).json()["data"]
    assert single["upload_url"].startswith(f"{moto_endpoint}/{bucket}/{single['object_key']}?")
    assert "X-Amz-Signature=" in single["upload_url"]

    started = uploader.initiate(payload(5 * PART)).json()["data"]
    url = uploader.part_urls(started, [2])[2]
    assert "partNumber=2" in url and f"uploadId={started['upload_id']}" in url


def test_completion_uses_s3s_multipart_completion(uploader, bucket, moto_endpoint):  # noqa: F811
    data = payload(5 * PART + 3)
    started = uploader.initiate(data).json()["data"]
    client = s3_client(moto_endpoint)
    in_flight = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in in_flight] == [started["upload_id"]]

    response = uploader.complete(started, uploader.put_parts(started, data))

    assert response.status_code == 200, response.content
    assert response.json()["data"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    body = client.get_object(Bucket=bucket, Key=started["object_key"])["Body"].read()
    assert body == data


def test_cancel_aborts_the_multipart_upload_in_the_bucket(uploader, bucket, moto_endpoint):  # noqa: F811
    started = uploader.initiate(payload(5 * PART)).json()["data"]
    assert uploader.cancel(started).status_code == 200
    client = s3_client(moto_endpoint)
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_cleanup_removes_an_object_put_after_a_cancel(uploader, bucket, moto_endpoint):  # noqa: F811
    """A presigned single-part URL still works after a cancel; the final sweep removes it."""
    from datetime import timedelta

    from django.utils import timezone

    data = payload(10)
    started = uploader.initiate(data).json()["data"]
    uploader.cancel(started)
    assert put_bytes(started["upload_url"], data).status == 200  # the bucket accepts it
    Build.objects.filter(id=started["build_id"]).update(
        upload_expires_at=timezone.now() - timedelta(seconds=1)
    )

    call_command("cleanup_uploads")

    listed = s3_client(moto_endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == []
