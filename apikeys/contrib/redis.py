"""Django's Redis cache backend, without two costs the guard pays on its slow paths.

    CACHES = {"default": {"BACKEND": "apikeys.contrib.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/0"}}

Everything else is ``django.core.cache.backends.redis.RedisCache`` (the same
``LOCATION``, ``OPTIONS``, serializer, key prefix and values, so the two can share a
Redis and be swapped freely). The differences:

* **One client per connection pool.** Django's client makes a new ``redis.Redis``
  for every call, and redis-py fills a table of some 170 response callbacks in each
  one: on the machine the benchmark ran on, more CPU than the round trip itself
  (about 120 µs of the 260 µs a ``get_many`` took). A ``redis.Redis`` is safe to
  share between threads (each command takes a connection from the pool), so one is
  made per pool and kept.
* **A counter with a lifetime in one round trip.** The guard counts failures with
  "create at 0 with this timeout if absent, then add" (:meth:`incr_within`); Django's
  ``add`` and ``incr`` make that three round trips (SET NX, EXISTS, INCRBY), and a
  key that expires between them must be handled by the caller. Here it is one Lua
  script, atomic in Redis, so the counter always has its lifetime. A Redis that
  refuses scripts (some managed services do) gets SET NX and INCRBY instead (and
  an EXPIRE for a new counter).

:mod:`apikeys.guard.sharedcache` uses :meth:`RedisCache.incr_within` when the cache
has it and ``add`` + ``incr`` on any other backend. ``redis`` is imported only when the
backend is first used, as Django's own does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

# KEYS[1] the counter, ARGV[1] the delta, ARGV[2] its lifetime in seconds ("" for
# none). SET NX gives a new counter its lifetime; INCRBY adds to it. Redis runs a
# script as one step: no other command, and no expiry, comes between the two.
_INCR_WITHIN = """
if ARGV[2] == '' then
    redis.call('SET', KEYS[1], 0, 'NX')
else
    redis.call('SET', KEYS[1], 0, 'EX', ARGV[2], 'NX')
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


class RedisCacheClient(django_redis.RedisCacheClient):
    # Set by Django's client; django-stubs does not declare its private attributes.
    _lib: Any
    _client: Any
    _get_connection_pool: Callable[[bool], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # id(pool) -> its redis.Redis
        self._scripts: dict[int, Any] = {}  # id(client) -> its registered script
        self.scripting = True  # False once Redis has refused a script

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Pools are kept for the life of this object, so their ids stay theirs.
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    def incr_within(self, key: str, delta: int, timeout: int | None) -> int:
        client = self.get_client(key, write=True)
        if not self.scripting:
            return self._incr_in_steps(client, key, delta, timeout)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts.setdefault(id(client), client.register_script(_INCR_WITHIN))
        try:
            return int(script(keys=[key], args=[delta, "" if timeout is None else timeout]))
        except self._lib.exceptions.ResponseError:
            # Either Redis refuses scripts or the key holds something that is not a
            # counter; the steps tell which: they raise too in the second case.
            value = self._incr_in_steps(client, key, delta, timeout)
            self.scripting = False
            return value

    def _incr_in_steps(self, client: Any, key: str, delta: int, timeout: int | None) -> int:
        """SET NX with the lifetime, then INCRBY. If the counter expired in between,
        INCRBY made it anew without a lifetime, so a counter that is new by its value
        is given its lifetime again (at worst a moment longer than asked)."""
        client.set(key, 0, ex=timeout, nx=True)
        value = int(client.incrby(key, delta))
        if timeout is not None and value == delta:
            client.expire(key, timeout)
        return value


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def incr_within(
        self,
        key: str,
        delta: int = 1,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> int:
        """Add ``delta`` to the counter ``key``, created at 0 with ``timeout`` (seconds,
        rounded up; None: no expiry) when absent, and answer its new value."""
        key = self.make_and_validate_key(key, version=version)
        if timeout == DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is not None and timeout <= 0:
            return delta  # as Django's add + incr: a counter that expires at once
        lifetime = None if timeout is None else math.ceil(timeout)
        client = cast(RedisCacheClient, self._cache)
        return client.incr_within(key, delta, lifetime)
