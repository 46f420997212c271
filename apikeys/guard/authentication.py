"""A presented key → its stored APIKey, or one plain None for every kind of "no".

argon2id is slow on purpose (tens of milliseconds), so a process remembers a
SHA-256 digest of each secret it has verified, keyed by the stored hash it
verified against. The next request with that key costs one hash and one
constant-time comparison. The key's row (status, expiry, permissions) is still
read on every request, in one query, so a deactivation or deletion refuses the
very next request in every process; the memo only answers "is this the secret",
never "is this key usable". A re-hash changes the stored hash, which retires
the memo entry with it.
"""

from __future__ import annotations

import functools
import hmac
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.db import connections, router

from apikeys import keys, rows, services
from apikeys.conf import apikeys_settings
from apikeys.models import APIKey

logger = logging.getLogger("apikeys.security")


class VerifiedSecrets:
    """Bounded, thread-safe LRU map: stored hash → digest of the secret it verified."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, stored_hash: str) -> bytes | None:
        with self._lock:
            digest = self._entries.get(stored_hash)
            if digest is not None:
                self._entries.move_to_end(stored_hash)
            return digest

    def put(self, stored_hash: str, digest: bytes) -> None:
        limit = max(0, apikeys_settings.VERIFIED_CACHE_SIZE)
        with self._lock:
            self._entries[stored_hash] = digest
            self._entries.move_to_end(stored_hash)
            while len(self._entries) > limit:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


verified_secrets = VerifiedSecrets()

# What the guard and the API views read of a key; the other columns stay deferred
# (Django loads one on first access, so nothing that needs them breaks). In the
# model's field order, the order Model.from_db expects the values in.
_READ = {"id", "project_id", "key_id", "hashed_secret", "permissions", "expires_at", "is_active"}
GUARD_FIELDS = tuple(f.attname for f in APIKey._meta.concrete_fields if f.attname in _READ)


@functools.cache
def _lookup_sql(alias: str) -> str:
    """The guard's one query, written out once per database: building and compiling
    the equivalent QuerySet costs about 150 µs on every request, ten times the
    indexed probe itself. No ORDER BY: ``key_id`` is unique."""
    quote = connections[alias].ops.quote_name
    column_of = {f.attname: f.column for f in APIKey._meta.concrete_fields if f.column}
    columns = ", ".join(quote(column_of[name]) for name in GUARD_FIELDS)
    table = quote(APIKey._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {quote('key_id')} = %s"  # noqa: S608


def _key_by_id(key_id: str) -> APIKey | None:
    """The key with this id, its columns converted as the ORM would (apikeys.rows), as
    a model instance whose other columns are deferred; None if there is none."""
    alias = router.db_for_read(APIKey)
    connection = connections[alias]
    with connection.cursor() as cursor:
        # The key id travels as a parameter; only quoted names are interpolated above.
        cursor.execute(_lookup_sql(alias), [key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = rows.convert(row, rows.converters(connection, APIKey, GUARD_FIELDS), connection)
    return APIKey.from_db(alias, GUARD_FIELDS, values)


def authenticate(raw: str, *, may_verify: Callable[[], bool] = lambda: True) -> APIKey | None:
    """The key ``raw`` names if its secret is right; None for anything else.

    ``may_verify`` is asked before argon2 runs: the rate limit answers False for
    a client over its limit, so only secrets this process verified recently
    still pass from there, and a flood of guesses never reaches argon2.

    Malformed input and bad checksums are refused without touching the
    database; an unknown or deleted id costs one indexed query. (Key ids are
    public identifiers shown in the UI, so answering an unknown id faster than
    a wrong secret gives nothing away.)
    """
    parsed = keys.parse(raw)
    if parsed is None:
        return None
    key = _key_by_id(parsed.key_id)
    if key is None:
        return None
    digest = keys.fast_digest(parsed.secret)
    remembered = verified_secrets.get(key.hashed_secret)
    if remembered is not None:
        # One stored hash verifies exactly one secret: a different digest is a wrong
        # secret, refused without spending argon2 on it.
        return key if hmac.compare_digest(remembered, digest) else None

    if not may_verify():
        return None
    hasher = services.hasher()  # the parameters keys are created with today
    if not hasher.verify(key.hashed_secret, parsed.secret):
        return None
    if hasher.needs_rehash(key.hashed_secret):
        _rehash(key, parsed.secret, hasher)
    verified_secrets.put(key.hashed_secret, digest)
    return key


def _rehash(key: APIKey, secret: str, hasher: keys.KeyHasher) -> None:
    """Store the secret again with today's argon2 parameters (SPEC §3)."""
    old_hash = key.hashed_secret
    new_hash = hasher.hash(secret)
    # Conditional: if another process re-hashed first, keep its hash (both verify).
    updated = APIKey.objects.filter(pk=key.pk, hashed_secret=old_hash).update(
        hashed_secret=new_hash
    )
    if updated:
        key.hashed_secret = new_hash
        logger.info(
            "Re-hashed the secret of key %s with the current argon2 parameters.", key.key_id
        )
