"""Reading the upload protocol's request bodies: every field checked, every problem named.

Each function returns what it read and fills ``errors`` (field → message) with
what it could not; the views answer 400 VALIDATION_ERROR with all of them.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import get_valid_filename

from api.services import UploadRequest
from api.storage import MAX_PARTS, ClientPart
from api.views.base import text_problem

TIMEOUT_RANGE = (1, 1440)  # minutes, as nunu's upload_timeout
MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def text(body: dict[str, Any], name: str, max_length: int, errors: dict, *, required: bool) -> str:
    value = body.get(name)
    if value is None:
        if required:
            errors[name] = "This field is required."
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors[name] = "Send a non-empty string."
        return ""
    problem = text_problem(value)
    if problem:
        errors[name] = problem
        return ""
    if len(value) > max_length:
        errors[name] = f"At most {max_length} characters, not {len(value)}."
        return ""
    return value.strip()


def whole_number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def safe_file_name(file_name: str) -> str | None:
    if "/" in file_name or "\\" in file_name or any(ord(c) < 32 for c in file_name):
        return None
    try:
        safe = get_valid_filename(file_name)
    except Exception:
        return None
    return safe if safe not in ("", ".", "..") else None


def _tags(body: dict[str, Any], errors: dict) -> tuple[str, ...]:
    tags = body.get("tags")
    if tags is None:
        return ()
    if (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(
            isinstance(t, str) and 0 < len(t.strip()) <= MAX_TAG_LENGTH and not text_problem(t)
            for t in tags
        )
    ):
        errors["tags"] = (
            f"Send at most {MAX_TAGS} tags, each a string of 1 to {MAX_TAG_LENGTH} characters."
        )
        return ()
    return tuple(t.strip() for t in tags)


def _multipart(body: dict[str, Any], errors: dict) -> bool:
    multipart = body.get("multipart")
    if multipart is None:
        return False
    if not isinstance(multipart, bool):
        errors["multipart"] = "Send true or false."
        return False
    return multipart


def _timeout(body: dict[str, Any], errors: dict) -> int | None:
    raw = body.get("upload_timeout")
    if raw is None:
        return None
    timeout = whole_number(raw)
    if timeout is None or not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
        errors["upload_timeout"] = "Send a whole number of minutes from 1 to 1440."
        return None
    return timeout


def upload_request(body: dict[str, Any], errors: dict[str, Any]) -> UploadRequest | None:
    """POST /builds/upload's body, or None with ``errors`` saying what is wrong."""
    name = text(body, "name", 200, errors, required=True)
    file_name = text(body, "file_name", 255, errors, required=True)
    platform = text(body, "platform", 50, errors, required=True)
    description = text(body, "description", 5000, errors, required=False)
    safe_name = safe_file_name(file_name) if file_name else None
    if file_name and safe_name is None:
        errors["file_name"] = f"{file_name!r} is not a plain file name; leave out any folders."
    file_size = whole_number(body.get("file_size"))
    if file_size is None or file_size < 1:
        errors["file_size"] = "Send the file's size in bytes, a whole number of at least 1."
    tags = _tags(body, errors)
    multipart = _multipart(body, errors)
    timeout = _timeout(body, errors)
    if errors or safe_name is None or file_size is None:
        return None
    return UploadRequest(
        name=name,
        file_name=file_name,
        stored_name=safe_name,
        file_size=file_size,
        platform=platform,
        description=description,
        tags=tags,
        multipart=multipart,
        timeout_minutes=timeout,
    )


def client_parts(raw: Any) -> list[ClientPart] | None:
    """The completion's ``parts`` list, or None when it is not one."""
    if not isinstance(raw, list) or len(raw) > MAX_PARTS:
        return None
    parts = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        number = whole_number(item.get("part_number"))
        etag = item.get("etag")
        if number is None or not isinstance(etag, str) or not etag or len(etag) > 200:
            return None
        parts.append(ClientPart(number, etag))
    return parts
