"""The reference client of the upload protocol: upload a build over HTTP, like a CI job would.

    NUNU_API_KEY=... python manage.py upload_build --url http://127.0.0.1:8000 \\
        FILE --name NAME --platform PLATFORM [--tag T ...] [--parallel 4]

Uses only the public API and the standard library (urllib), so it works
against any server speaking the protocol, this one or nunu.ai's: initiate,
PUT the file (or its parts, several at a time, each retried on failure),
complete. Prints the build id alone on stdout (``BUILD=$(...)`` works);
everything else goes to stderr, with a progress bar only on a terminal.
Never reads the whole file into memory: each part is streamed from disk.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO
from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError

API = "/api/v1"
# GET /builds/upload/parts hands out at most this many URLs at a time.
URL_BATCH = 1000
BLOCK = 256 * 1024


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status = status
        self.code = code


class Progress:
    """Bytes sent so far, drawn as a bar on stderr when it is a terminal."""

    def __init__(self, total: int, stream: Any) -> None:
        self.total = max(total, 1)
        self.sent = 0
        self.stream = stream
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.lock = threading.Lock()
        self._drawn = -1

    def add(self, count: int) -> None:
        with self.lock:
            self.sent += count
            percent = min(100, self.sent * 100 // self.total)
            if self.enabled and percent != self._drawn:
                self._drawn = percent
                bar = "#" * (percent // 4)
                self.stream.write(
                    f"\r[{bar:<25}] {percent:3d}% {self.sent / 1e6:.1f}/{self.total / 1e6:.1f} MB"
                )
                self.stream.flush()

    def undo(self, count: int) -> None:
        with self.lock:
            self.sent -= count

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class FileSlice:
    """``length`` bytes of a file from ``offset``, read block by block (an HTTP body)."""

    def __init__(self, path: str, offset: int, length: int, progress: Progress) -> None:
        self.file: BinaryIO = open(path, "rb")  # noqa: SIM115 (closed by close())
        self.file.seek(offset)
        self.left = length
        self.progress = progress
        self.sent = 0

    def read(self, size: int = -1) -> bytes:
        want = self.left if size is None or size < 0 else min(size, self.left)
        chunk = self.file.read(min(want, BLOCK))
        self.left -= len(chunk)
        self.sent += len(chunk)
        self.progress.add(len(chunk))
        return chunk

    def close(self) -> None:
        self.file.close()


def call(
    method: str,
    url: str,
    *,
    key: str | None = None,
    body: Any = None,
    data: Any = None,
    length: int | None = None,
    timeout: float = 300,
) -> tuple[int, dict[str, str], Any]:
    headers = {"Accept": "application/json"}
    if key:
        headers["X-Api-Key"] = key
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        headers["Content-Type"] = "application/octet-stream"
        headers["Content-Length"] = str(length)
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            raw = answer.read()
            return answer.status, dict(answer.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            problem = json.loads(raw)
            raise APIError(error.code, problem.get("code", ""), problem.get("error", "")) from None
        except (ValueError, AttributeError):
            raise APIError(error.code, "HTTP_ERROR", raw[:200].decode(errors="replace")) from None


def put_part(url: str, path: str, offset: int, length: int, progress: Progress) -> str:
    """PUT one slice of the file; the ETag the server (or the bucket) answered."""
    body = FileSlice(path, offset, length, progress)
    try:
        _, headers, _ = call("PUT", url, data=body, length=length)
    except BaseException:
        progress.undo(body.sent)
        raise
    finally:
        body.close()
    etag = next((v for k, v in headers.items() if k.lower() == "etag"), "")
    if not etag:
        raise APIError(200, "NO_ETAG", f"The upload of bytes {offset}+{length} answered no ETag.")
    return etag


def with_retries(attempts: int, action: Any, *args: Any) -> Any:
    for attempt in range(1, attempts + 1):
        try:
            return action(*args)
        except (OSError, APIError) as failure:
            # A refusal of the request itself will not change on a retry.
            if isinstance(failure, APIError) and failure.status < 500 and failure.status != 429:
                raise
            if attempt == attempts:
                raise
            time.sleep(min(2**attempt * 0.25, 5))
    raise AssertionError("unreachable")


class Command(BaseCommand):
    help = "Upload a build through the public API (the reference client of the protocol)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="The build file to upload.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--platform", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--tag", action="append", default=[], dest="tags")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The server.")
        parser.add_argument(
            "--key-env", default="NUNU_API_KEY", help="The variable holding the API key."
        )
        parser.add_argument("--multipart", action="store_true", help="Multipart even if small.")
        parser.add_argument("--parallel", type=int, default=4, help="Parts sent at once.")
        parser.add_argument("--retries", type=int, default=3, help="Attempts per part.")

    def handle(self, *args: Any, **options: Any) -> None:
        key = os.environ.get(options["key_env"], "")
        if not key:
            raise CommandError(f"Set {options['key_env']} to an API key first.")
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(f"{path!r} is not a file.")
        base = options["url"].rstrip("/") + API
        try:
            build_id = self._upload(base, key, path, options)
        except APIError as failure:
            raise CommandError(f"The upload failed: {failure}") from None
        except OSError as failure:
            raise CommandError(f"The upload failed: {failure}") from None
        self.stdout.write(build_id)

    def _upload(self, base: str, key: str, path: str, options: dict[str, Any]) -> str:
        size = os.path.getsize(path)
        body = {
            "name": options["name"],
            "file_name": os.path.basename(path),
            "file_size": size,
            "platform": options["platform"],
            "description": options["description"],
            "tags": options["tags"],
            "multipart": options["multipart"],
        }
        _, _, answer = call("POST", f"{base}/builds/upload", key=key, body=body)
        started = answer["data"]
        progress = Progress(size, sys.stderr)
        attempts = max(1, options["retries"])
        complete: dict[str, Any] = {"build_id": started["build_id"]}
        if not started["multipart"]:
            with_retries(attempts, put_part, started["upload_url"], path, 0, size, progress)
        else:
            complete.update(
                upload_id=started["upload_id"],
                object_key=started["object_key"],
                parts=self._put_parts(base, path, size, started, progress, options, attempts),
            )
        progress.done()
        _, _, answer = call("POST", f"{base}/builds/upload/complete", key=key, body=complete)
        self.stderr.write(f"Uploaded {size} bytes; sha256 {answer['data']['sha256']}.")
        return str(answer["data"]["id"])

    def _put_parts(
        self,
        base: str,
        path: str,
        size: int,
        started: dict[str, Any],
        progress: Progress,
        options: dict[str, Any],
        attempts: int,
    ) -> list[dict[str, Any]]:
        part_size, total = started["part_size"], started["total_parts"]
        urls: dict[int, str] = {}
        for first in range(1, total + 1, URL_BATCH):
            numbers = range(first, min(total, first + URL_BATCH - 1) + 1)
            query = urlencode(
                {
                    "upload_id": started["upload_id"],
                    "object_key": started["object_key"],
                    "part_numbers": ",".join(map(str, numbers)),
                }
            )
            _, _, answer = call("GET", f"{base}/builds/upload/parts?{query}")
            urls.update({u["part_number"]: u["url"] for u in answer["data"]["upload_urls"]})

        def send(number: int) -> dict[str, Any]:
            offset = (number - 1) * part_size
            length = min(part_size, size - offset)
            etag = with_retries(attempts, put_part, urls[number], path, offset, length, progress)
            return {"part_number": number, "etag": etag}

        with ThreadPoolExecutor(max_workers=max(1, options["parallel"])) as pool:
            return list(pool.map(send, range(1, total + 1)))
