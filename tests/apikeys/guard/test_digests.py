"""apikeys.guard.digests: what the guard remembers of a verified secret, by key id."""

from __future__ import annotations

import pytest

from apikeys import keys
from apikeys.guard import digests
from apikeys.guard.digests import VerifiedSecrets, hash_tag, shared_digest, shared_value

STORED = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
DIGEST = keys.verified_digest(b"k" * 32, STORED, "s" * 38)


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1000.0}
    monkeypatch.setattr(digests, "now", lambda: now["t"])
    return now


def test_an_entry_lives_its_lifetime_after_it_was_put(settings, clock):
    settings.APIKEYS_VERIFIED_TIMEOUT = 60
    memo = VerifiedSecrets()
    memo.put("AAAAAAAAAAAA", STORED, DIGEST)
    entry = memo.get("AAAAAAAAAAAA")
    assert entry is not None and (entry.stored_hash, entry.digest) == (STORED, DIGEST)
    assert entry.refresh_at == 1030.0
    clock["t"] += 60
    assert memo.get("AAAAAAAAAAAA") is None and len(memo) == 0


def test_the_memo_keeps_the_most_recently_used_ids(settings, clock):
    settings.APIKEYS_VERIFIED_CACHE_SIZE = 2
    memo = VerifiedSecrets()
    for key_id in ("A" * 12, "B" * 12):
        memo.put(key_id, STORED, DIGEST)
    memo.get("A" * 12)  # used: B is now the oldest
    memo.put("C" * 12, STORED, DIGEST)
    assert memo.get("B" * 12) is None
    assert memo.get("A" * 12) is not None and memo.get("C" * 12) is not None


def test_a_shared_entry_is_trusted_only_for_the_hash_it_was_verified_against():
    value = shared_value(STORED, DIGEST)
    assert value == hash_tag(STORED) + DIGEST and STORED.encode() not in value
    assert shared_digest(value, STORED) == DIGEST
    assert shared_digest(value, STORED.replace("t=3", "t=4")) is None  # re-hashed since


@pytest.mark.parametrize("value", [None, b"", hash_tag(STORED), "text", 42, [DIGEST]])
def test_a_malformed_shared_entry_is_no_digest(value):
    assert shared_digest(value, STORED) is None
