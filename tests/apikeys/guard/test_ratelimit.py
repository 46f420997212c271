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
    assert block is not None and block.retry_after == 240  # this window's three, alone


def test_the_total_slides_the_previous_windows_refusals_decay_instead_of_vanishing(settings, clock):
    """3 per 300 s: at the next window's start the last window's 3 still count whole;
    they weigh less every second, so one refusal fits as soon as a second has passed,
    and the next when a third of the window has."""
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 3
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    clock["t"] = 300 * 4000 + 60
    for n in range(3):
        ratelimit.record_secret_failure(f"{n:012d}")
    clock["t"] = 300 * 4001  # the next window: 3 x (1 - 0/300) = 3
    block = ratelimit.total_budget_spent()
    assert block is not None and block.retry_after == 1
    clock["t"] += 1  # 3 x 299/300 < 3
    assert ratelimit.total_budget_spent() is None
    ratelimit.record_secret_failure("d" * 12)  # 3 x 299/300 + 1 >= 3 until 100 s in
    block = ratelimit.total_budget_spent()
    assert block is not None and block.retry_after == 99
    clock["t"] += 99.5
    assert ratelimit.total_budget_spent() is None


def test_a_window_past_the_limit_on_its_own_decays_through_the_next(settings, clock):
    """4 refusals against 3 in one window: free again a quarter into the next one
    (4 x (1 - 75/300) = 3 is not under 3; a moment later it is)."""
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 3
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    start = 300 * 4000
    clock["t"] = start + 10
    for n in range(4):
        ratelimit.record_secret_failure(f"{n:012d}")
    block = ratelimit.total_budget_spent()
    assert block is not None and block.retry_after == 290 + 75
    clock["t"] = start + 300 + 75.5
    assert ratelimit.total_budget_spent() is None


def test_a_clock_stepped_back_does_not_stretch_the_remembered_suspension(settings, clock):
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 1
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    clock["t"] = 300 * 4000 + 10
    ratelimit.record_secret_failure("a" * 12)
    assert ratelimit.total_budget_spent() is not None
    clock["t"] -= 3600  # NTP stepped the clock back an hour
    assert ratelimit.total_budget_spent() is None  # asked the cache: nothing counted then


def test_a_sustained_flood_gets_one_argon2_run_every_window_over_total_seconds(settings, clock):
    """50 per 300 s. A fixed window would let fifty run in a row at every window's
    start; sliding, after the first window's fifty a flood gets one every 6 s."""
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 50
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    start = 300 * 4000.0
    runs: list[float] = []
    for tick in range(0, 9000):  # a guess every 0.1 s for 15 minutes
        clock["t"] = start + tick / 10
        if ratelimit.total_budget_spent() is None:
            ratelimit.record_secret_failure(f"{tick:012d}")
            runs.append(clock["t"] - start)
    assert len([t for t in runs if t < 300]) == 50  # the budget, at once
    later = [t for t in runs if t >= 300]
    assert 95 <= len(later) <= 105  # 600 s at one per 6 s
    for first in range(300, 900, 12):  # never more than three in any 12 s after that
        assert len([t for t in later if first <= t < first + 12]) <= 3


def test_a_total_of_zero_switches_the_total_budget_off(settings, clock):
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 0
    for n in range(5):
        ratelimit.record_secret_failure(f"{n:012d}")
    assert ratelimit.total_budget_spent() is None


def test_a_spent_total_is_remembered_until_it_has_decayed(settings, clock, monkeypatch):
    """A flood past the total asks on every request: once spent, the cache is not asked
    again until the count can have fallen under the limit; new settings ask again."""
    from apikeys.guard.sharedcache import shared_cache

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 2
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    clock["t"] = 300 * 4000 + 10
    for key_id in ("a" * 12, "b" * 12):
        ratelimit.record_secret_failure(key_id)
    reads = []
    real_get_many = shared_cache.get_many
    monkeypatch.setattr(
        shared_cache, "get_many", lambda *a, **kw: reads.append(a) or real_get_many(*a, **kw)
    )

    assert ratelimit.total_budget_spent() is not None
    assert len(reads) == 1
    clock["t"] += 100
    block = ratelimit.total_budget_spent()
    assert block is not None and block.retry_after == 190  # the window's end, then decay
    assert len(reads) == 1  # answered from memory

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 5  # a higher limit: not spent any more
    assert ratelimit.total_budget_spent() is None
    assert len(reads) == 2
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 2
    clock["t"] += 200  # 10 s into the next window: 2 x 290/300 < 2
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
