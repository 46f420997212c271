"""moto's S3 server on 127.0.0.1, and build storage pointed at it (tests of the S3 path)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

ACCESS = {"access_key": "testing", "secret_key": "testing"}
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto S3 server for the session, with S3's 5 MiB minimum part size lowered."""
    pytest.importorskip("moto")
    import moto.s3.models
    from moto.server import ThreadedMotoServer

    # Tests use parts of a few KiB; S3's rule is exercised by the protocol, not the size.
    moto.s3.models.S3_UPLOAD_PART_MIN_SIZE = 256  # type: ignore[attr-defined]
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_storage_settings(endpoint: str, bucket: str) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "region_name": REGION,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "default_acl": None,
            **ACCESS,
        },
    }


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS["access_key"],
        aws_secret_access_key=ACCESS["secret_key"],
    )


def use_s3_bucket(settings, endpoint: str) -> str:
    """A fresh bucket, made the build storage for this test; returns its name."""
    bucket = f"builds-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "builds": s3_storage_settings(endpoint, bucket)}
    return bucket
