"""A presented key → its stored APIKey, or one plain None for every kind of "no".

argon2id is slow on purpose (tens of milliseconds), and key ids are public, so
both a working key and a flood of guesses for one key id would make it the
cost of every request. Three rules keep argon2 to about once per key per
cluster (SPEC §5, §10):

* **Verified digests.** A secret argon2 has verified is remembered as a keyed
  digest (:func:`apikeys.keys.verified_digest`: HMAC-SHA-256 under a key derived
  from ``SECRET_KEY`` with a purpose string, over the stored hash and the
  secret), in this process's memory and in the shared cache, for
  ``APIKEYS_VERIFIED_TIMEOUT`` seconds after its last use. The next request with
  that key, in this process or any other, or after a restart, costs one HMAC and
  one constant-time comparison. A key in use refreshes its shared entry every
  half lifetime, so it is never verified again while it is used.
* **One stored hash verifies one secret.** A presented secret whose digest
  differs from a remembered one is wrong: refused without argon2.
* **A budget per key id.** Secrets argon2 refused are counted per key id in the
  shared cache (``APIKEYS_SECRET_FAILURES`` per ``APIKEYS_SECRET_FAILURES_WINDOW``
  seconds). Past it, a secret for that id that matches no remembered digest is
  refused without argon2: guessing costs what an unknown key costs.

Both memos are named by the public key id, so they are asked before the key's
row: a secret whose digest differs from this process's is refused without a
query, and on the guard's path a secret that only argon2 could pass, while the
budgets (or the client's limit) keep argon2 from running, is refused before the
row is read: a flood past the budgets costs no query and no argon2 (past the
total budget, one cache read a request). This relies on a key id naming one
secret for good: ids are random (12 characters, about 71 bits), a secret is set
only when its key is created, and a rotation makes a new key with a new id.

A secret that may pass is always checked against the key's row (status, expiry,
permissions), read in one query (apikeys.guard.lookup), so a deactivation or
deletion refuses the very next request in every process; a digest only answers
"is this the secret", never "is this key usable". Each digest is bound to the
stored hash it was verified against (the shared entry carries a tag of it), so a
re-hash retires it, and a new ``SECRET_KEY`` uses entries of its own (their
cache key names the digest key by a fingerprint), so processes in a rolling
deploy never misread each other's.

The plaintext is never stored: what the cache holds is the keyed digest, which
the at-rest scanner (tests/secrets_at_rest.py) checks is not the secret.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from apikeys import keys, services
from apikeys.conf import key_format
from apikeys.guard import digests, ratelimit
from apikeys.guard.digests import digest_key, shared_digest_key, verified_secrets
from apikeys.guard.lookup import key_by_id
from apikeys.guard.sharedcache import shared_cache
from apikeys.models import APIKey

logger = logging.getLogger("apikeys.security")


def authenticate(
    raw: str,
    *,
    may_verify: Callable[[], bool] = lambda: True,
    ask_before_lookup: bool = False,
) -> APIKey | None:
    """The key ``raw`` names if its secret is right; None for anything else.

    ``may_verify`` is asked before argon2 runs: the rate limit answers False for
    a client over its limit, so only secrets verified recently (in any process)
    still pass from there, and a flood of guesses never reaches argon2. With
    ``ask_before_lookup`` (the guard's own path, whose ``may_verify`` counts
    nothing) it is asked before the key's row is read, when no process verified
    this key's secret lately: a secret argon2 will not be asked about is then
    refused without a query, so a flood past the budgets costs no query.

    Malformed input and bad checksums are refused without touching the
    database; an unknown or deleted id costs one indexed query. (Key ids are
    public identifiers shown in the UI, so answering an unknown id faster than
    a wrong secret gives nothing away.)
    """
    parsed = key_format().parse(raw)
    if parsed is None:
        return None
    secret_key, fingerprint = digest_key()

    remembered = verified_secrets.get(parsed.key_id)
    if remembered is not None:
        digest = keys.verified_digest(secret_key, remembered.stored_hash, parsed.secret)
        # One stored hash verifies exactly one secret: a different digest is a wrong
        # secret, refused without a query and without argon2.
        if not hmac.compare_digest(remembered.digest, digest):
            return None
        key = key_by_id(parsed.key_id)
        if key is None:
            verified_secrets.forget(parsed.key_id)  # deleted: nothing left to recognise
            return None
        if key.hashed_secret == remembered.stored_hash:
            if remembered.refresh_at <= digests.now():
                digests.remember(key, digest, fingerprint)
            return key
        verified_secrets.forget(parsed.key_id)  # re-hashed since: verify it again below

    # Not verified in this process lately: another process may have, and the budget
    # of argon2 failures for this id may be spent. One round trip answers both.
    shared_key = shared_digest_key(parsed.key_id, fingerprint)
    budget_key = ratelimit.secret_failures_key(parsed.key_id)
    found = shared_cache.get_many([shared_key, budget_key])
    budget_spent = ratelimit.secret_budget_spent(found.get(budget_key))
    asked = False
    if ask_before_lookup and not isinstance(found.get(shared_key), bytes):
        # Only argon2 could pass this secret: if it will not run, read no row.
        if budget_spent or not may_verify():
            return None
        asked = True

    key = key_by_id(parsed.key_id)
    if key is None:
        return None
    digest = keys.verified_digest(secret_key, key.hashed_secret, parsed.secret)
    shared = digests.shared_digest(found.get(shared_key), key.hashed_secret)
    if shared is not None:
        if not hmac.compare_digest(shared, digest):
            return None
        verified_secrets.put(key.key_id, key.hashed_secret, digest)
        return key
    if budget_spent:
        return None
    if not asked and not may_verify():
        return None

    hasher = services.hasher()  # the parameters keys are created with today
    if not hasher.verify(key.hashed_secret, parsed.secret):
        ratelimit.record_secret_failure(key.key_id)
        return None
    if hasher.needs_rehash(key.hashed_secret):
        if not _rehash(key, parsed.secret, hasher):
            # Another process re-hashed first and shared the digest of its hash; one
            # of ours for the hash the row no longer has would only overwrite it.
            return key
        digest = keys.verified_digest(secret_key, key.hashed_secret, parsed.secret)
    digests.remember(key, digest, fingerprint)
    return key


def _rehash(key: APIKey, secret: str, hasher: keys.KeyHasher) -> bool:
    """Store the secret again with today's argon2 parameters (SPEC §3); False when
    another process re-hashed it first (its hash is kept: both verify)."""
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
    return bool(updated)
