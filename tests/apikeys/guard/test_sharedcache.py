"""apikeys.guard.sharedcache: a dead or hung cache costs one timeout per interval, no error."""

from __future__ import annotations

import logging

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from apikeys.contrib.redis import RedisCache as OurRedisCache
from apikeys.guard import sharedcache
from apikeys.guard.sharedcache import shared_cache
from tests.faults import finishes, redis_caches, refused_port


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1000.0}
    monkeypatch.setattr(sharedcache, "_now", lambda: now["t"])
    return now


@pytest.fixture
def on_redis(settings, private_redis):
    settings.CACHES = redis_caches(private_redis.url)
    settings.APIKEYS_CACHE_RETRY_INTERVAL = 5
    shared_cache.reset()
    yield private_redis
    shared_cache.reset()


@pytest.fixture
def backend_calls(monkeypatch):
    """How many calls reached the Redis backend (whatever they answered)."""
    calls = {"n": 0}
    for name in ("get", "add", "incr", "set", "delete", "get_many"):
        original = getattr(RedisCache, name)

        def counting(self, *args, _original=original, **kwargs):
            calls["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(RedisCache, name, counting)
    original_incr_within = OurRedisCache.incr_within

    def counting_incr_within(self, *args, **kwargs):
        calls["n"] += 1
        return original_incr_within(self, *args, **kwargs)

    monkeypatch.setattr(OurRedisCache, "incr_within", counting_incr_within)
    return calls


def test_with_a_live_cache_every_process_sees_one_counter(on_redis):
    assert shared_cache.incr("t:count", timeout=60) == 1
    assert shared_cache.incr("t:count", timeout=60) == 2
    # Another process's view: the Redis server itself.
    raw = redis.Redis(port=on_redis.port)
    assert any(b"t:count" in key for key in raw.keys("*"))
    assert shared_cache.add("t:once", "x", 60) is True
    assert shared_cache.add("t:once", "y", 60) is False
    shared_cache.set("t:value", {"a": 1}, 60)
    assert shared_cache.get("t:value") == {"a": 1}
    assert shared_cache.get_many(["t:value", "t:none"]) == {"t:value": {"a": 1}}
    shared_cache.delete("t:value")
    assert shared_cache.get("t:value", "gone") == "gone"
    assert not shared_cache.degraded


def test_a_stopped_cache_falls_back_to_memory_and_tries_once_per_interval(
    on_redis, clock, backend_calls, caplog
):
    on_redis.stop()
    with caplog.at_level(logging.INFO, logger="apikeys.security"):
        counts = [shared_cache.incr("t:failures", timeout=60) for _ in range(50)]
    assert counts == list(range(1, 51))  # counted in this process's memory
    assert shared_cache.degraded
    # One call reached the dead cache; the breaker answered the other 49 from memory.
    assert backend_calls["n"] == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()

    clock["t"] += 5  # the interval passed: one probe, still dead, still memory
    assert shared_cache.incr("t:failures", timeout=60) == 51
    assert backend_calls["n"] == 2


def test_one_warning_per_minute_while_the_cache_stays_down(on_redis, clock, caplog):
    on_redis.stop()
    with caplog.at_level(logging.WARNING, logger="apikeys.security"):
        for _ in range(30):  # 30 probes, 5 s apart: two and a half minutes
            shared_cache.get("t:x")
            clock["t"] += 5
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3  # at 0, 60 and 120 s


def test_a_frozen_cache_answers_in_bounded_time_from_memory(on_redis, clock, backend_calls):
    shared_cache.set("t:before", 1, 60)
    on_redis.freeze()
    assert finishes(lambda: shared_cache.incr("t:n", timeout=60)) == 1
    assert finishes(lambda: [shared_cache.get("t:before") for _ in range(20)]) == [None] * 20
    assert shared_cache.degraded
    assert backend_calls["n"] == 2  # set() before the freeze, and the one that timed out


def test_the_cache_is_used_again_by_itself_when_it_comes_back(on_redis, clock, caplog):
    on_redis.freeze()
    shared_cache.incr("t:n", timeout=60)
    assert shared_cache.degraded
    on_redis.thaw()
    assert shared_cache.get("t:shared") is None  # still inside the interval: memory
    assert shared_cache.degraded
    clock["t"] += 5
    with caplog.at_level(logging.INFO, logger="apikeys.security"):
        shared_cache.set("t:shared", "back", 60)
    assert not shared_cache.degraded
    assert b"nunu:1:t:shared" in redis.Redis(port=on_redis.port).keys("*")
    assert caches["default"].get("t:shared") == "back"
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_a_cache_that_starts_down_works_from_memory_until_it_is_up(settings, clock):
    settings.CACHES = redis_caches(f"redis://127.0.0.1:{refused_port()}/0")
    shared_cache.reset()
    try:
        assert shared_cache.add("t:once", 1, 60) is True
        assert shared_cache.add("t:once", 1, 60) is False  # memory still says once
        assert shared_cache.get_many(["t:once"]) == {"t:once": 1}
    finally:
        shared_cache.reset()


def test_without_redis_the_local_cache_is_used_directly(settings):
    # The default test settings: LocMemCache, which never fails.
    shared_cache.reset()
    assert shared_cache.incr("t:n", timeout=60) == 1
    assert caches["default"].get("t:n") == 1
    assert not shared_cache.degraded
