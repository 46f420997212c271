"""The shared cache the guard counts in, and what happens when it fails (SPEC §10).

Rate limits, the per-key argon2 budget, the shared digests of verified secrets
and the sign-in throttle live in Django's cache: Redis when ``REDIS_URL`` is
set, so every process and host meets one limit. A cache is a dependency that
can be down (connection refused) or hung (accepts, never answers), and neither
may turn a request into a 500 or a hang:

* The cache's own client has short timeouts (``nunu_admin/settings.py``: connect
  and read ≤ 0.25 s, no retries), so one failed call costs at most one timeout.
* A **circuit breaker** makes a dead cache cost one timeout per
  ``APIKEYS_CACHE_RETRY_INTERVAL`` seconds per process, not one per call: after a
  failure, calls go straight to this process's memory until the interval has
  passed; then one caller probes the cache again while the others keep using
  memory. The first call that succeeds closes the breaker: recovery needs no
  restart and no operator.
* While the breaker is open every call is answered from a per-process
  ``LocMemCache``: limits then count per process (weaker, never absent), and a
  verified key keeps working from this process's memo.
* One WARNING per minute on ``apikeys.security`` while the cache is failing
  (with the number of calls answered from memory since the last one), and one
  INFO when it is back. Never a traceback per request.

What must not depend on the cache at all (the dashboard's one-time tokens) uses
the database instead; this module is for counters and memos that may be lost.

Use the module-level :data:`shared_cache`::

    from apikeys.guard.sharedcache import shared_cache
    count = shared_cache.incr(f"myapp:failures:{ip}", timeout=900)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache

from apikeys.conf import apikeys_settings

logger = logging.getLogger("apikeys.security")

T = TypeVar("T")

# How often the log says the cache is still failing: often enough to be seen,
# rarely enough that a dead cache under load does not flood the log.
WARNING_INTERVAL = 60.0
# Per-process counters under a flood from many addresses: bounded memory, culled
# a third at a time when full (LocMemCache's CULL_FREQUENCY).
FALLBACK_MAX_ENTRIES = 50_000


def _now() -> float:
    """Injectable clock for tests (monotonic: the breaker measures intervals)."""
    return time.monotonic()


class SharedCache:
    """get/set/add/incr/delete on the configured cache, falling back to process memory.

    Every method answers; none raises because the cache failed. Values must be
    picklable (as for any Django cache); timeouts are in seconds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0: closed (use the cache); else: memory until then
        self._last_warning = -WARNING_INTERVAL
        self._answered_from_memory = 0
        self.memory = LocMemCache(
            "apikeys-shared-cache-fallback",
            {"OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES, "CULL_FREQUENCY": 3}},
        )

    # --- The operations ------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        return self._call(lambda cache: cache.get(key, default))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        return self._call(lambda cache: cache.get_many(keys))

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self._call(lambda cache: cache.set(key, value, timeout))

    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        """Store ``value`` only if ``key`` is absent; True if this call stored it."""
        return bool(self._call(lambda cache: cache.add(key, value, timeout)))

    def incr(self, key: str, delta: int = 1, *, timeout: float | None) -> int:
        """Add ``delta`` to the counter ``key`` (created at 0 with ``timeout`` if absent)
        and answer its new value. Atomic on Redis, so concurrent processes all count."""

        def increment(cache: BaseCache) -> int:
            incr_within = getattr(cache, "incr_within", None)
            if incr_within is not None:  # one round trip (apikeys.contrib.redis.RedisCache)
                return int(incr_within(key, delta, timeout))
            cache.add(key, 0, timeout)
            try:
                return int(cache.incr(key, delta))
            except ValueError:  # expired between add() and incr()
                cache.add(key, delta, timeout)
                return delta

        return self._call(increment)

    def delete(self, key: str) -> None:
        self._call(lambda cache: cache.delete(key))

    # --- State, for health checks and tests ------------------------------------

    @property
    def degraded(self) -> bool:
        """True while calls are answered from this process's memory."""
        return self._open_until != 0.0

    def reset(self) -> None:
        """Close the breaker and forget the fallback memory (tests)."""
        with self._lock:
            self._open_until = 0.0
            self._last_warning = -WARNING_INTERVAL
            self._answered_from_memory = 0
        self.memory.clear()

    # --- The breaker -----------------------------------------------------------

    def _call(self, operation: Callable[[BaseCache], T]) -> T:
        if not self._may_try():
            self._answered_from_memory += 1
            return operation(self.memory)
        try:
            result = operation(caches[apikeys_settings.CACHE_ALIAS])
        except Exception as error:  # any cache backend's any failure: never the request's
            self._trip(error)
            return operation(self.memory)
        if self._open_until:
            self._close()
        return result

    def _may_try(self) -> bool:
        if not self._open_until:  # the hot path: one attribute read
            return True
        now = _now()
        with self._lock:
            if now < self._open_until:
                return False
            # Half-open: this caller probes; others use memory until it answers.
            self._open_until = now + self._interval()
            return True

    def _trip(self, error: Exception) -> None:
        now = _now()
        with self._lock:
            self._open_until = now + self._interval()
            self._answered_from_memory += 1
            if now - self._last_warning < WARNING_INTERVAL:
                return
            self._last_warning = now
            answered, self._answered_from_memory = self._answered_from_memory, 0
        logger.warning(
            "The shared cache is unreachable (%s: %s); rate limits and verified keys are "
            "kept in this process's memory, and the cache is tried again every %s s "
            "(%d calls answered from memory since the last warning).",
            type(error).__name__,
            error,
            self._interval(),
            answered,
        )

    def _close(self) -> None:
        with self._lock:
            if not self._open_until:
                return
            self._open_until = 0.0
            self._last_warning = -WARNING_INTERVAL
            self._answered_from_memory = 0
        logger.info("The shared cache is reachable again; limits are shared again.")

    @staticmethod
    def _interval() -> float:
        return max(0.1, float(apikeys_settings.CACHE_RETRY_INTERVAL))


shared_cache = SharedCache()
