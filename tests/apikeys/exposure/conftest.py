"""Fixtures for the exposure tests: argon2 counting, and tokens that look right."""

from __future__ import annotations

import pytest

from apikeys import keys
from apikeys.conf import key_format


@pytest.fixture
def argon2_calls(monkeypatch):
    """Counts every argon2 verification, whoever runs it."""
    calls = {"verify": 0}
    original = keys.KeyHasher.verify

    def counting(self, stored_hash, secret):
        calls["verify"] += 1
        return original(self, stored_hash, secret)

    monkeypatch.setattr(keys.KeyHasher, "verify", counting)
    return calls


def wrong_secret_for(key_id: str, n: int = 0) -> str:
    """A well-formed token with a right checksum for a real id, but not its secret."""
    return key_format().format_key(key_id, keys.BASE62[n % 62] * keys.SECRET_LENGTH)


def bad_checksum(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")
