"""Failed attempts per client IP (apikeys.guard.ratelimit), counted in the shared cache."""

from __future__ import annotations

import pytest

from apikeys.guard import ratelimit


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_000_000.0}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


def test_an_ip_is_blocked_once_it_reaches_the_limit(settings, clock):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 3
    for _ in range(2):
        ratelimit.record_failure("192.0.2.1")
    assert ratelimit.blocked("192.0.2.1") is None
    ratelimit.record_failure("192.0.2.1")
    assert ratelimit.blocked("192.0.2.1") is not None
    assert ratelimit.blocked("192.0.2.2") is None


def test_the_block_ends_with_its_window_and_says_when(settings, clock):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 1
    settings.APIKEYS_RATE_LIMIT_WINDOW = 300
    clock["t"] = 300 * 4000 + 100  # 100 seconds into a window
    ratelimit.record_failure("192.0.2.1")
    block = ratelimit.blocked("192.0.2.1")
    assert block is not None and block.retry_after == 200
    clock["t"] += 200
    assert ratelimit.blocked("192.0.2.1") is None


def test_nothing_is_counted_when_switched_off(settings, clock):
    settings.APIKEYS_RATE_LIMIT_ENABLED = False
    settings.APIKEYS_RATE_LIMIT_FAILURES = 1
    ratelimit.record_failure("192.0.2.1")
    settings.APIKEYS_RATE_LIMIT_ENABLED = True
    assert ratelimit.blocked("192.0.2.1") is None


def test_the_total_argon2_budget_counts_refusals_of_every_key_id_together(settings, clock):
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 3
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    clock["t"] = 300 * 4000 + 60
    for key_id in ("a" * 12, "b" * 12):
        ratelimit.record_secret_failure(key_id)
    assert ratelimit.total_budget_spent() is None
    ratelimit.record_secret_failure("c" * 12)
    block = ratelimit.total_budget_spent()
    assert block is not None and block.retry_after == 240
    clock["t"] += 240  # a new window
    assert ratelimit.total_budget_spent() is None


def test_a_total_of_zero_switches_the_total_budget_off(settings, clock):
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 0
    for n in range(5):
        ratelimit.record_secret_failure(f"{n:012d}")
    assert ratelimit.total_budget_spent() is None
