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


def test_a_spent_total_is_remembered_for_the_rest_of_its_window(settings, clock, monkeypatch):
    """A flood past the total asks on every request: once spent, the cache is not asked
    again in that window; a new window or a new limit asks again."""
    from apikeys.guard.sharedcache import shared_cache

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 2
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    clock["t"] = 300 * 4000 + 10
    for key_id in ("a" * 12, "b" * 12):
        ratelimit.record_secret_failure(key_id)
    reads = []
    real_get = shared_cache.get
    monkeypatch.setattr(shared_cache, "get", lambda *a, **kw: reads.append(a) or real_get(*a, **kw))

    assert ratelimit.total_budget_spent() is not None
    assert len(reads) == 1
    clock["t"] += 100
    block = ratelimit.total_budget_spent()
    assert block is not None and block.retry_after == 190  # still the window's end
    assert len(reads) == 1  # answered from memory

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 5  # a higher limit: not spent any more
    assert ratelimit.total_budget_spent() is None
    assert len(reads) == 2
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 2
    clock["t"] += 200  # the next window starts empty
    assert ratelimit.total_budget_spent() is None
    assert len(reads) == 3


def test_forgetting_the_spent_total_asks_the_cache_again(settings, clock):
    from django.core.cache import cache

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 1
    ratelimit.record_secret_failure("a" * 12)
    assert ratelimit.total_budget_spent() is not None
    cache.clear()
    assert ratelimit.total_budget_spent() is not None  # remembered
    ratelimit.forget_spent_total()
    assert ratelimit.total_budget_spent() is None
