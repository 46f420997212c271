"""API key format, generation and hashing. No Django here: tests need no database.

A key reads ``nunu_<id>_<secret><checksum>``:

* ``<id>``: 12 base62 characters, public; it names the key in the UI and in logs.
* ``<secret>``: 32 base62 characters from :mod:`secrets` (about 190 bits).
* ``<checksum>``: 6 base62 characters of the CRC32 of everything before it, so a
  typo or a secret scanner's false positive is refused without touching the
  database, and a scanner can validate a find offline.

Only an argon2id hash of the secret is stored. :func:`parse` never raises:
every malformed input is the same plain ``None``.
"""

from __future__ import annotations

import hmac
import re
import secrets
import zlib
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PREFIX = "nunu_"
ID_LENGTH = 12
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits.
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_LENGTH = len(PREFIX) + ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH

# Published in the README for secret scanners.
KEY_PATTERN = r"nunu_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}"
_KEY_RE = re.compile(
    rf"nunu_(?P<id>[0-9A-Za-z]{{{ID_LENGTH}}})_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)
_ID_RE = re.compile(rf"[0-9A-Za-z]{{{ID_LENGTH}}}")


@dataclass(frozen=True, slots=True)
class ParsedKey:
    key_id: str
    secret: str

    def __repr__(self) -> str:
        # Never let a secret reach a traceback or a log through repr().
        return f"ParsedKey(key_id={self.key_id!r}, secret='…')"


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    key_id: str
    secret: str
    plaintext: str

    def __repr__(self) -> str:
        return f"GeneratedKey(key_id={self.key_id!r}, secret='…')"


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _encode_base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    """The 6-character base62 CRC32 of ``nunu_<id>_<secret>``."""
    return _encode_base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def format_key(key_id: str, secret: str) -> str:
    body = f"{PREFIX}{key_id}_{secret}"
    return body + checksum(body)


def generate_key_id() -> str:
    return _random_base62(ID_LENGTH)


def generate(key_id: str | None = None) -> GeneratedKey:
    """A fresh key. Pass ``key_id`` only to retry after an id collision."""
    key_id = key_id or generate_key_id()
    secret = _random_base62(SECRET_LENGTH)
    return GeneratedKey(key_id=key_id, secret=secret, plaintext=format_key(key_id, secret))


def parse(raw: object) -> ParsedKey | None:
    """Split a presented key into id and secret, or ``None`` for anything malformed.

    Checks the format and the checksum only; hostile input of any type or size
    comes back as ``None``, never as an exception.
    """
    if not isinstance(raw, str) or len(raw) != KEY_LENGTH:
        return None
    match = _KEY_RE.fullmatch(raw)
    if match is None:
        return None
    body = raw[:-CHECKSUM_LENGTH]
    if not hmac.compare_digest(checksum(body), match["checksum"]):
        return None
    return ParsedKey(key_id=match["id"], secret=match["secret"])


def is_key_id(value: object) -> bool:
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def mask(key_id: str) -> str:
    """How the UI shows a key: its public id and nothing of the secret."""
    return f"{PREFIX}{key_id}_…"


def verified_digest(digest_key: bytes, stored_hash: str, secret: str) -> bytes:
    """What the guard remembers of a secret argon2 has verified against ``stored_hash``.

    HMAC-SHA-256 under ``digest_key`` (derived from the site's secret key), over
    the stored hash and the secret: without the site's key a stolen digest can
    be neither reversed nor checked against a guess, and binding it to the
    stored hash retires it when the hash changes (a re-hash). It is never the
    secret, and never a plain hash of it.
    """
    message = stored_hash.encode("ascii") + b"\x00" + secret.encode("ascii")
    return hmac.digest(digest_key, message, "sha256")


class KeyHasher:
    """argon2id hashing of secrets; the stored hash names its own parameters."""

    def __init__(self, *, memory_cost: int, time_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            memory_cost=memory_cost,
            time_cost=time_cost,
            parallelism=parallelism,
            type=Type.ID,
        )

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, stored_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True
