"""CACHES: Redis when REDIS_URL is set (shared rate limits, SPEC §4 check 8), with short
timeouts (SPEC §10); otherwise each process's own memory."""

import os

from nunu_admin.settings.env import env_float

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, keeping one client per pool and counting in one
            # round trip (see apikeys/contrib/redis.py for what that saves).
            "BACKEND": "apikeys.contrib.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "nunu",
            # SPEC §10: a dead or hung Redis costs at most this per call, and the
            # guard's circuit breaker (apikeys.guard.sharedcache) makes that one call
            # per APIKEYS_CACHE_RETRY_INTERVAL, not one per request. (redis-py's pooled
            # connections do not retry by default: a retry would double what a hung
            # cache costs.)
            "OPTIONS": {
                "socket_connect_timeout": env_float("REDIS_CONNECT_TIMEOUT", 0.25),
                "socket_timeout": env_float("REDIS_TIMEOUT", 0.25),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "nunu-admin",
        }
    }
