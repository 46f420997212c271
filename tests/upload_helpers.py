"""Drive the upload protocol in tests, on local storage or on moto's S3, the same way."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.files.storage import storages
from django.test import Client

from tests.conftest import APIClient

UPLOAD = "/api/v1/builds/upload"
PARTS = "/api/v1/builds/upload/parts"
COMPLETE = "/api/v1/builds/upload/complete"


@dataclass
class Put:
    status: int
    etag: str
    body: Any


def put_bytes(url: str, data: bytes, **environ: Any) -> Put:
    """PUT to an upload URL: ours through Django's test client, a bucket's over HTTP."""
    if url.startswith("http://testserver/"):
        response = Client().generic(
            "PUT", url, data=data, content_type="application/octet-stream", **environ
        )
        body = response.json() if response["Content-Type"] == "application/json" else None
        return Put(response.status_code, response.get("ETag", ""), body)
    request = urllib.request.Request(url, data=data, method="PUT")
    request.add_header("Content-Type", "application/octet-stream")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Put(answer.status, answer.headers.get("ETag", ""), answer.read())
    except urllib.error.HTTPError as error:
        return Put(error.code, "", error.read())


def chunked_put(url: str, data: bytes) -> Put:
    """A body with no Content-Length, as a chunked request reaches a WSGI app."""
    return put_bytes(
        url,
        data,
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True},
    )


def payload(size: int, seed: int = 1) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


class Uploader:
    def __init__(self, key: str) -> None:
        self.api = APIClient(key)

    def initiate(self, data: bytes | None = None, **fields: Any):
        body = {
            "name": "Nightly",
            "file_name": "game.zip",
            "file_size": len(data) if data is not None else 10,
            "platform": "windows",
            **fields,
        }
        return self.api.post(UPLOAD, body)

    def part_urls(self, started: dict, numbers: list[int] | None = None) -> dict[int, str]:
        query = {"upload_id": started["upload_id"], "object_key": started["object_key"]}
        if numbers:
            query["part_numbers"] = ",".join(map(str, numbers))
        response = Client().get(f"{PARTS}?{urlencode(query)}")
        assert response.status_code == 200, response.content
        return {item["part_number"]: item["url"] for item in response.json()["data"]["upload_urls"]}

    def put_parts(self, started: dict, data: bytes) -> list[dict]:
        size = started["part_size"]
        urls = self.part_urls(started)
        parts = []
        # Backwards: the order of the PUTs does not matter, only the completion's list.
        for number in sorted(urls, reverse=True):
            put = put_bytes(urls[number], data[(number - 1) * size : number * size])
            assert put.status == 200, put.body
            parts.append({"part_number": number, "etag": put.etag})
        return sorted(parts, key=lambda p: p["part_number"])

    def complete(self, started: dict, parts: list[dict] | None = None, **extra: Any):
        body: dict[str, Any] = {"build_id": started["build_id"], **extra}
        if started.get("multipart"):
            body.update(
                upload_id=started["upload_id"], object_key=started["object_key"], parts=parts
            )
        return self.api.post(COMPLETE, body)

    def cancel(self, started: dict, key: str | None = None):
        query = {"build_id": started["build_id"], "object_key": started["object_key"]}
        return self.api.delete(f"{UPLOAD}?{urlencode(query)}", key=key)

    def upload(self, data: bytes, **fields: Any) -> dict:
        """The whole protocol; returns the completed build."""
        started = self.initiate(data, **fields).json()["data"]
        if started["multipart"]:
            parts = self.put_parts(started, data)
            response = self.complete(started, parts)
        else:
            assert put_bytes(started["upload_url"], data).status == 200
            response = self.complete(started)
        assert response.status_code == 200, response.content
        return response.json()["data"]


def stored(object_key: str) -> bytes | None:
    storage = storages["builds"]
    if not storage.exists(object_key):
        return None
    with storage.open(object_key, "rb") as source:
        return source.read()
