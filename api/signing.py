"""Signed upload URLs for the local storage: one object, one part, until a deadline.

The bytes of a build go with PUT to a URL that carries its own credential, as
S3's presigned URLs do: the signature is an HMAC (Django's ``salted_hmac``, keyed
by SECRET_KEY) over the build id, the object key, the part number and the expiry.
So a URL cannot be stretched in time, pointed at another build or object, or
reused for another part: any change makes the signature wrong.

The threat this answers: an upload URL leaks (a CI log, a proxy log). It then
grants writing one part of one unfinished upload until its deadline, nothing else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "api.signing.upload-part"
# Part 0 is the single-part upload's one object; multipart parts count from 1.
SINGLE_PART = 0


def _now() -> float:
    return time.time()


def signature(build_id: str, object_key: str, part_number: int, expires: int) -> str:
    message = f"{build_id}\n{object_key}\n{part_number}\n{expires}"
    return salted_hmac(SALT, message, algorithm="sha256").hexdigest()


def signed_query(build_id: str, object_key: str, part_number: int, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    return urlencode(
        {"expires": expires, "signature": signature(build_id, object_key, part_number, expires)}
    )


@dataclass(frozen=True)
class Verdict:
    ok: bool
    code: str = ""
    message: str = ""


VALID = Verdict(True)
INVALID = Verdict(
    False,
    "INVALID_UPLOAD_URL",
    "This upload URL is not valid for this object; ask GET /api/v1/builds/upload/parts "
    "(or POST /api/v1/builds/upload) for a fresh one and use it unchanged.",
)
EXPIRED = Verdict(
    False,
    "UPLOAD_URL_EXPIRED",
    "This upload URL has expired; the upload's deadline has passed, so start a new upload.",
)


def verify(
    build_id: str, object_key: str, part_number: int, expires_raw: object, signature_raw: object
) -> Verdict:
    """One plain answer for any malformed or wrong signature; hostile input never raises."""
    if not isinstance(expires_raw, str) or not isinstance(signature_raw, str):
        return INVALID
    if not expires_raw.isdigit() or len(expires_raw) > 12 or len(signature_raw) != 64:
        return INVALID
    expires = int(expires_raw)
    expected = signature(build_id, object_key, part_number, expires)
    if not constant_time_compare(expected, signature_raw):
        return INVALID
    # Checked after the signature, so only a genuine URL learns that it expired.
    if expires <= _now():
        return EXPIRED
    return VALID
