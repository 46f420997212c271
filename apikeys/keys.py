"""API key format, generation and hashing. No Django here: tests need no database.

A key reads ``<prefix>_<id>_<secret><checksum>``:

* ``<prefix>``: the host's name for its keys (APIKEYS_KEY_PREFIX; nunu's keys
  start ``nunu_``), so a secret scanner can tell them from anything else.
* ``<id>``: 12 base62 characters, public; it names the key in the UI and in logs.
* ``<secret>``: 32 base62 characters from :mod:`secrets` (about 190 bits).
* ``<checksum>``: 6 base62 characters of the CRC32 of everything before it, so a
  typo or a secret scanner's false positive is refused without touching the
  database, and a scanner can validate a find offline.

Only an argon2id hash of the secret is stored. :func:`parse` never raises:
every malformed input is the same plain ``None``. The prefix is a parameter
(Django code passes the setting's value); :class:`KeyFormat` holds what is
derived from one prefix, made once per prefix.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

DEFAULT_PREFIX = "apikey"
ID_LENGTH = 12
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits.
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Letters and digits only: the first "_" ends the prefix, and the id follows it.
_PREFIX_RE = re.compile(r"[0-9A-Za-z]{1,20}")
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
    """The 6-character base62 CRC32 of ``<prefix>_<id>_<secret>``."""
    return _encode_base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate_key_id() -> str:
    return _random_base62(ID_LENGTH)


def is_key_id(value: object) -> bool:
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


class KeyFormat:
    """Everything derived from one prefix: the pattern, the length, parse and format."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
            raise ValueError(f"A key prefix is 1 to 20 letters and digits, not {prefix!r}.")
        self.prefix = prefix
        self.lead = prefix + "_"
        self.length = len(self.lead) + ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH
        # Published in the README for secret scanners.
        self.pattern = (
            rf"{prefix}_[0-9A-Za-z]{{{ID_LENGTH}}}_[0-9A-Za-z]{{{SECRET_LENGTH + CHECKSUM_LENGTH}}}"
        )
        self._re = re.compile(
            rf"{prefix}_(?P<id>[0-9A-Za-z]{{{ID_LENGTH}}})_"
            rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
        )

    def __repr__(self) -> str:
        return f"KeyFormat({self.prefix!r})"

    def format_key(self, key_id: str, secret: str) -> str:
        body = f"{self.lead}{key_id}_{secret}"
        return body + checksum(body)

    def generate(self, key_id: str | None = None) -> GeneratedKey:
        key_id = key_id or generate_key_id()
        secret = _random_base62(SECRET_LENGTH)
        return GeneratedKey(key_id=key_id, secret=secret, plaintext=self.format_key(key_id, secret))

    def parse(self, raw: object) -> ParsedKey | None:
        if not isinstance(raw, str) or len(raw) != self.length:
            return None
        match = self._re.fullmatch(raw)
        if match is None:
            return None
        body = raw[:-CHECKSUM_LENGTH]
        if not hmac.compare_digest(checksum(body), match["checksum"]):
            return None
        return ParsedKey(key_id=match["id"], secret=match["secret"])

    def mask(self, key_id: str) -> str:
        """How the UI shows a key: its public id and nothing of the secret."""
        return f"{self.lead}{key_id}_…"


@functools.lru_cache(maxsize=32)
def key_format(prefix: str = DEFAULT_PREFIX) -> KeyFormat:
    """The format for ``prefix``, made once (the guard asks on every request)."""
    return KeyFormat(prefix)


def format_key(key_id: str, secret: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    return key_format(prefix).format_key(key_id, secret)


def generate(key_id: str | None = None, *, prefix: str = DEFAULT_PREFIX) -> GeneratedKey:
    """A fresh key. Pass ``key_id`` only to retry after an id collision."""
    return key_format(prefix).generate(key_id)


def parse(raw: object, *, prefix: str = DEFAULT_PREFIX) -> ParsedKey | None:
    """Split a presented key into id and secret, or ``None`` for anything malformed.

    Checks the format and the checksum only; hostile input of any type or size
    comes back as ``None``, never as an exception.
    """
    return key_format(prefix).parse(raw)


def mask(key_id: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    return key_format(prefix).mask(key_id)


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
