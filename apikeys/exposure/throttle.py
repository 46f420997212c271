"""Requests per client per window, for the public endpoints that need their own limit.

The guard's rate limit counts *failed* attempts; the revocation API answers
202 to everything, so it counts every request instead (SPEC §11: 60 per hour
per client by default). Clients are counted as the rate limit counts them:
IPv4 addresses whole, IPv6 per /64 (apikeys.guard.clientip). The counters live
in the shared cache (apikeys.guard.sharedcache): per process when Redis is down,
never absent.
"""

from __future__ import annotations

import math
import time

from apikeys.guard.sharedcache import shared_cache


def _now() -> float:
    """Injectable clock for tests."""
    return time.time()


def over_limit(scope: str, client: str, *, limit: int, window: int) -> int | None:
    """Count this request; the seconds until the window ends when it is over ``limit``,
    else None. A limit of 0 or less turns the limit off."""
    if limit <= 0:
        return None
    length = max(1, window)
    now = _now()
    number = int(now // length)
    remaining = max(1, math.ceil((number + 1) * length - now))
    count = shared_cache.incr(f"apikeys:{scope}:{client}:{number}", timeout=remaining + 1)
    return remaining if count > limit else None
