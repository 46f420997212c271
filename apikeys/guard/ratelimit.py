"""Failed authentication attempts per client IP, counted in Django's cache.

The cache is the one Redis every process shares when ``REDIS_URL`` is set, so
an attacker spreading guesses over gunicorn workers or hosts meets one limit.
It is reached through :mod:`apikeys.guard.sharedcache`: when Redis is down or
hung, the counters live in this process's memory until it is back.
Windows are fixed (``APIKEYS_RATE_LIMIT_WINDOW`` seconds): one counter per IP
per window, so a check is one cache read and a failure one increment.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from apikeys.conf import apikeys_settings
from apikeys.guard.sharedcache import shared_cache

_PREFIX = "apikeys:failures"


def _now() -> float:
    """Injectable clock for tests."""
    return time.time()


@dataclass(frozen=True)
class Block:
    retry_after: int  # whole seconds until the limit lets this request be tried again


def _window(now: float) -> tuple[int, int]:
    """(window number, seconds until it ends)."""
    length = max(1, apikeys_settings.RATE_LIMIT_WINDOW)
    number = int(now // length)
    return number, max(1, math.ceil((number + 1) * length - now))


def _cache_key(ip: str, window: int) -> str:
    return f"{_PREFIX}:{ip}:{window}"


def blocked(ip: str) -> Block | None:
    """A Block when ``ip`` has used up its failed attempts in this window."""
    if not apikeys_settings.RATE_LIMIT_ENABLED:
        return None
    window, remaining = _window(_now())
    failures = shared_cache.get(_cache_key(ip, window), 0)
    if failures >= apikeys_settings.RATE_LIMIT_FAILURES:
        return Block(retry_after=remaining)
    return None


def record_failure(ip: str) -> None:
    if not apikeys_settings.RATE_LIMIT_ENABLED:
        return
    window, remaining = _window(_now())
    # Atomic in Redis, so concurrent failures are all counted.
    shared_cache.incr(_cache_key(ip, window), timeout=remaining + 1)


# --- The argon2 budget per key id (SPEC §10) ----------------------------------
#
# Key ids are public, so an attacker can aim guesses at one real key from any
# number of addresses: the per-IP limit above does not bound the argon2 work
# they cause. This budget does: argon2 refusals are counted per key id, and past
# APIKEYS_SECRET_FAILURES in a window, secrets for that id are checked only
# against remembered digests (apikeys.guard.authentication), never by argon2.
#
# A flood spread over many real ids (ids are public: a key list shows them) would
# still cost APIKEYS_SECRET_FAILURES argon2 runs per id per window, thousands in
# all. So the refusals are also counted for all ids together, at most
# APIKEYS_SECRET_FAILURES_TOTAL per window: past that, the guard asks argon2 about
# no secret it has not verified before, and answers such a request 429
# RATE_LIMITED rather than a 401 that would tell a working key's owner it is
# wrong. Keys verified recently, by any process, keep working throughout.
#
# The total is counted over a sliding window, not a fixed one: the refusals of
# this window plus the previous window's, weighted by how much of it still lies
# within the last WINDOW seconds (as Cloudflare's rate limiting estimates it). A
# fixed window would hand a sustained flood a fresh fifty argon2 runs in a row at
# every window's start, stalling every worker for a second each time; sliding, a
# flood past the total gets one every WINDOW / TOTAL seconds on average (6 s by
# default), and a key answered 429 meanwhile is told when to try again, in seconds
# (under a sustained flood it may find the slot taken again). A few wrong secrets
# now and then never come near it.

_BUDGET_PREFIX = "apikeys:secret-failures"


def _budget_window(now: float) -> tuple[int, int]:
    length = _budget_window_length()
    number = int(now // length)
    return number, max(1, math.ceil((number + 1) * length - now))


def secret_failures_key(key_id: str) -> str:
    """The cache key counting argon2 refusals for ``key_id`` in the current window."""
    window, _ = _budget_window(_now())
    return f"{_BUDGET_PREFIX}:{key_id}:{window}"


def secret_budget_spent(failures: object) -> bool:
    """Whether ``failures`` (the counter's value, None when absent) has used up the budget."""
    limit = int(apikeys_settings.SECRET_FAILURES)
    return isinstance(failures, int) and failures >= limit


def record_secret_failure(key_id: str) -> None:
    window, remaining = _budget_window(_now())
    shared_cache.incr(f"{_BUDGET_PREFIX}:{key_id}:{window}", timeout=remaining + 1)
    if apikeys_settings.SECRET_FAILURES_TOTAL > 0:
        # Kept through the next window too, where it is the previous one.
        length = _budget_window_length()
        shared_cache.incr(_total_key(window), timeout=remaining + length + 1)


_TOTAL_PREFIX = "apikeys:secret-failures-total"


def _budget_window_length() -> int:
    return max(1, int(apikeys_settings.SECRET_FAILURES_WINDOW))


def _total_key(window: int) -> str:
    return f"{_TOTAL_PREFIX}:{window}"


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def _total_free_at(
    now: float, limit: int, length: int, previous: int, current: int
) -> float | None:
    """None while the sliding count ``previous x (1 - elapsed / length) + current`` is
    under ``limit``; else when it will be, if no refusal comes meanwhile."""
    start = (now // length) * length
    if previous * (1 - (now - start) / length) + current < limit:
        return None
    if current < limit:  # so previous > 0: its share decays until the sum is under
        return start + length * (1 - (limit - current) / previous)
    # This window alone is past the limit: it becomes the previous one and decays.
    return start + length + length * (1 - limit / current)


# Once this process has seen the total spent, it remembers until when (the time the
# sliding count falls under the limit, with the settings it was read under) and asks
# the cache no more before then. The count only grows meanwhile unless the cache
# loses it (a flush, an eviction, the fallback to process memory); the memo then
# keeps the suspension at most about one window more, erring on the side of no
# argon2.
_total_spent_until: tuple[float, int, int] | None = None


def total_budget_spent() -> Block | None:
    """A Block (until the sliding count falls under the limit) once argon2 refused
    APIKEYS_SECRET_FAILURES_TOTAL secrets in the last window, whatever their key ids;
    None while under it, or when 0 switches the total off.

    A flood past the total asks this on every request, so once the cache has said
    "spent" this process remembers it until the count has decayed and asks the cache
    no more until then; new settings ask again."""
    global _total_spent_until
    limit = int(apikeys_settings.SECRET_FAILURES_TOTAL)
    if limit <= 0:
        return None
    length = _budget_window_length()
    now = _now()
    if _total_spent_until is not None:
        until, memo_limit, memo_length = _total_spent_until
        # Never beyond two windows ahead: a clock stepped back must not stretch it.
        if (memo_limit, memo_length) == (limit, length) and now < until <= now + 2 * length:
            return Block(retry_after=max(1, math.ceil(until - now)))
    window = int(now // length)
    found = shared_cache.get_many([_total_key(window - 1), _total_key(window)])
    previous = _count(found.get(_total_key(window - 1)))
    current = _count(found.get(_total_key(window)))
    free_at = _total_free_at(now, limit, length, previous, current)
    if free_at is None:
        return None
    _total_spent_until = (free_at, limit, length)
    return Block(retry_after=max(1, math.ceil(free_at - now)))


def forget_spent_total() -> None:
    """Ask the cache again on the next call (tests clear the cache between cases)."""
    global _total_spent_until
    _total_spent_until = None
