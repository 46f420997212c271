"""What the guard remembers of a secret argon2 verified (apikeys.guard.authentication).

* **The keyed digest**: HMAC-SHA-256 (:func:`apikeys.keys.verified_digest`, over the
  stored hash and the secret) under a key derived from ``SECRET_KEY`` for this
  purpose only (:func:`digest_key`), never the secret or a plain hash of it.
* **This process's memo** (:data:`verified_secrets`): key id → the stored hash
  and the digest, bounded, each entry living ``APIKEYS_VERIFIED_TIMEOUT``
  seconds after its last refresh.
* **The shared entry**, in the shared cache under :func:`shared_digest_key` (the
  public key id and the digest key's fingerprint): a 16-byte tag of the stored
  hash, then the digest, so a digest is only ever trusted for the hash it was
  verified against.

Both are named by the key id, so the guard can ask them before it reads the
key's row. Creating a key (apikeys.services) hands its secret to
:func:`remember_new_secret`, so its first request costs no argon2 anywhere.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings as django_settings

from apikeys import keys
from apikeys.conf import apikeys_settings
from apikeys.guard.sharedcache import shared_cache

if TYPE_CHECKING:
    from apikeys.models import APIKey

# What the digest key is for: a key derived for one purpose is useless for any other
# use of SECRET_KEY (sessions, password resets, signed URLs), and the other way round.
DIGEST_KEY_PURPOSE = b"apikeys.guard.authentication.verified-secret"
_SHARED_PREFIX = "apikeys:verified"


def now() -> float:
    """Injectable clock for tests."""
    return time.monotonic()


@functools.lru_cache(maxsize=4)
def _digest_key_for(secret_key: str) -> tuple[bytes, str]:
    """(the digest key, a short public fingerprint of it for cache key names)."""
    derived = hmac.digest(secret_key.encode(), DIGEST_KEY_PURPOSE, "sha256")
    fingerprint = hmac.digest(derived, b"fingerprint", "sha256").hex()[:12]
    return derived, fingerprint


def digest_key() -> tuple[bytes, str]:
    return _digest_key_for(django_settings.SECRET_KEY)


def shared_digest_key(key_id: str, fingerprint: str) -> str:
    """Where the shared cache keeps the digest of ``key_id``'s verified secret: named by
    the id alone, so a request can ask for it before the key's row is read."""
    return f"{_SHARED_PREFIX}:{fingerprint}:{key_id}"


_TAG_SIZE = 16


def hash_tag(stored_hash: str) -> bytes:
    """Which stored hash a shared digest was verified against (a re-hash retires it)."""
    return hashlib.sha256(stored_hash.encode()).digest()[:_TAG_SIZE]


def shared_value(stored_hash: str, digest: bytes) -> bytes:
    """The shared entry: the stored hash's tag, then the digest (never the secret)."""
    return hash_tag(stored_hash) + digest


def shared_digest(value: object, stored_hash: str) -> bytes | None:
    """The digest in a shared entry, if it was verified against ``stored_hash``."""
    if not isinstance(value, bytes) or len(value) <= _TAG_SIZE:
        return None
    if not hmac.compare_digest(value[:_TAG_SIZE], hash_tag(stored_hash)):
        return None  # verified against a hash this key no longer has (a re-hash)
    return value[_TAG_SIZE:]


def lifetime() -> float:
    return max(1.0, float(apikeys_settings.VERIFIED_TIMEOUT))


@dataclass
class _Verified:
    stored_hash: str  # the hash argon2 verified the secret against
    digest: bytes
    expires_at: float  # forgotten after this, unless used and refreshed
    refresh_at: float  # past this, the next use writes the shared entry again


class VerifiedSecrets:
    """Bounded, thread-safe LRU map: key id → the stored hash and the digest of the
    secret it verified, each entry living ``APIKEYS_VERIFIED_TIMEOUT`` seconds after
    its last refresh. Keyed by the public id, so it is asked before the row is read."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_id: str) -> _Verified | None:
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is None:
                return None
            if entry.expires_at <= now():
                del self._entries[key_id]
                return None
            self._entries.move_to_end(key_id)
            return entry

    def put(self, key_id: str, stored_hash: str, digest: bytes) -> None:
        limit = max(0, apikeys_settings.VERIFIED_CACHE_SIZE)
        started, life = now(), lifetime()
        entry = _Verified(stored_hash, digest, started + life, started + life / 2)
        with self._lock:
            self._entries[key_id] = entry
            self._entries.move_to_end(key_id)
            while len(self._entries) > limit:
                self._entries.popitem(last=False)

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._entries.pop(key_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


verified_secrets = VerifiedSecrets()


def remember_new_secret(key: APIKey, secret: str) -> None:
    """A key just created (or a rotation's successor): its secret is known right now,
    so its digest is shared at once and its first request costs no argon2 in any
    process, even while a flood has spent the argon2 budgets (SPEC §10)."""
    secret_key, fingerprint = digest_key()
    remember(key, keys.verified_digest(secret_key, key.hashed_secret, secret), fingerprint)


def forget_secret(key: APIKey) -> None:
    """Drop what every process remembers of ``key``'s secret: its next request runs
    argon2 again, as a key created long ago and unused since would (tests use it)."""
    verified_secrets.forget(key.key_id)
    shared_cache.delete(shared_digest_key(key.key_id, digest_key()[1]))


def remember(key: APIKey, digest: bytes, fingerprint: str) -> None:
    """Remember the verified digest here and tell every other process (and the next
    one started) that this secret verified."""
    verified_secrets.put(key.key_id, key.hashed_secret, digest)
    shared_cache.set(
        shared_digest_key(key.key_id, fingerprint),
        shared_value(key.hashed_secret, digest),
        lifetime(),
    )
