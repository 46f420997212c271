"""apikeys.contrib.redis: Django's RedisCache with one client per pool and one-trip counters.

Against a private redis-server (tests.faults), counting what reaches it with Redis's
own INFO commandstats, so "one round trip" is what the server saw.
"""

from __future__ import annotations

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangosRedisCache

from apikeys.contrib.redis import RedisCache
from apikeys.guard.sharedcache import shared_cache
from tests.faults import redis_caches


@pytest.fixture
def cache(settings, private_redis) -> RedisCache:
    settings.CACHES = redis_caches(private_redis.url)
    shared_cache.reset()
    backend = caches["default"]
    assert isinstance(backend, RedisCache)
    yield backend
    shared_cache.reset()


@pytest.fixture
def server(private_redis) -> redis.Redis:
    return redis.Redis(port=private_redis.port)


def commands(server: redis.Redis) -> dict[str, int]:
    """Calls per command the server has run, without the INFO asking it."""
    stats = server.info("commandstats")
    return {name.removeprefix("cmdstat_"): entry["calls"] for name, entry in stats.items()}


def ran_since(before: dict[str, int], server: redis.Redis) -> dict[str, int]:
    after = commands(server)
    ran = {name: calls - before.get(name, 0) for name, calls in after.items()}
    return {name: n for name, n in ran.items() if n and name != "info"}


def test_a_counter_is_made_with_its_lifetime_and_counted_in_one_round_trip(cache, server):
    assert cache.incr_within("t:failures", 1, timeout=60) == 1  # loads the script
    before = commands(server)
    assert cache.incr_within("t:failures", 2, timeout=60) == 3
    assert cache.incr_within("t:new", 1, timeout=30) == 1
    # One command from the client each (the script's SET and INCRBY are counted too,
    # inside it); Django's add + incr would have sent SET, EXISTS and INCRBY.
    assert ran_since(before, server) == {"evalsha": 2, "set": 2, "incrby": 2}
    assert 0 < server.ttl(cache.make_key("t:failures")) <= 60
    assert 0 < server.ttl(cache.make_key("t:new")) <= 30
    assert cache.get("t:failures") == 3  # the value Django's cache reads


def test_a_fractional_timeout_is_rounded_up_and_none_means_no_expiry(cache, server):
    cache.incr_within("t:short", 1, timeout=0.2)
    assert server.ttl(cache.make_key("t:short")) == 1
    cache.incr_within("t:forever", 1, timeout=None)
    assert server.ttl(cache.make_key("t:forever")) == -1


def test_a_timeout_of_zero_counts_nothing_as_djangos_add_and_incr_do(cache, server):
    assert cache.incr_within("t:zero", 3, timeout=0) == 3
    assert cache.incr_within("t:zero", 3, timeout=0) == 3
    assert not server.exists(cache.make_key("t:zero"))


def test_a_redis_that_times_out_is_the_breakers_business_and_scripts_stay_on(cache, private_redis):
    cache.incr_within("t:n", 1, timeout=60)
    private_redis.freeze()
    try:
        with pytest.raises(redis.exceptions.TimeoutError):
            cache.incr_within("t:n", 1, timeout=60)
    finally:
        private_redis.thaw()
    assert cache._cache.scripting is True


def test_it_is_djangos_redis_cache_for_everything_else(cache, private_redis):
    """Same keys, same values: a site can swap one backend for the other."""
    django_cache = DjangosRedisCache(private_redis.url, {"KEY_PREFIX": "nunu"})
    cache.set("t:value", {"a": 1}, 60)
    assert django_cache.get("t:value") == {"a": 1}
    django_cache.set("t:other", [1, 2], 60)
    assert cache.get_many(["t:value", "t:other"]) == {"t:value": {"a": 1}, "t:other": [1, 2]}
    cache.incr_within("t:count", 5, timeout=60)
    assert django_cache.incr("t:count") == 6
    assert cache.add("t:once", 1, 60) is True and cache.add("t:once", 2, 60) is False


def test_one_client_is_made_per_pool_and_kept(cache, monkeypatch):
    made = []
    real_init = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting_init)
    for n in range(20):
        cache.set(f"t:{n}", n, 60)
        cache.get(f"t:{n}")
        cache.incr_within("t:n", 1, timeout=60)
    assert len(made) == 1  # Django's own client makes 60 here
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)


def test_a_redis_that_refuses_scripts_is_counted_in_steps(cache, server, monkeypatch):
    client = cache._cache.get_client(write=True)
    refused = redis.exceptions.ResponseError("unknown command 'evalsha'")

    def refusing_script(*args, **kwargs):
        def run(*a, **kw):
            raise refused

        return run

    monkeypatch.setattr(client, "register_script", refusing_script)
    assert cache.incr_within("t:steps", 1, timeout=60) == 1
    assert cache._cache.scripting is False  # asked once, then never again
    assert cache.incr_within("t:steps", 1, timeout=60) == 2
    assert 0 < server.ttl(cache.make_key("t:steps")) <= 60


def test_counted_in_steps_a_counter_that_expired_between_them_gets_its_lifetime(
    cache, server, monkeypatch
):
    """SET NX finds the counter, it expires, INCRBY makes it anew without a lifetime: a
    counter without one would block its address for ever."""
    cache._cache.scripting = False
    client = cache._cache.get_client(write=True)
    monkeypatch.setattr(client, "set", lambda *a, **kw: None)  # as if the key had been there
    assert cache.incr_within("t:raced", 1, timeout=60) == 1
    assert 0 < server.ttl(cache.make_key("t:raced")) <= 60


def test_a_key_that_holds_no_counter_is_an_error_and_scripts_stay_on(cache):
    cache.set("t:text", "not a number", 60)
    with pytest.raises(redis.exceptions.ResponseError):
        cache.incr_within("t:text", 1, timeout=60)
    assert cache._cache.scripting is True


def test_the_shared_cache_counts_with_it(cache, server):
    shared_cache.incr("t:shared", timeout=60)
    before = commands(server)
    assert shared_cache.incr("t:shared", timeout=60) == 2
    assert ran_since(before, server) == {"evalsha": 1, "set": 1, "incrby": 1}
