"""Where a key's secret must never be found once its one response is sent (SPEC §3).

Used by the autouse fixture in conftest.py: every key generated during a test
(through any code path, since it wraps :func:`apikeys.keys.generate`) is looked
for, after the test, in every column of every table, in the decoded sessions,
in the cache, and in every log record the test emitted.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import connection


class RecordingHandler(logging.Handler):
    """Keeps every log line that would have been written, formatted as a handler would."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is not our concern here
            text = str(record.msg)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


def _database_text() -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            found.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return found


def _session_text() -> list[str]:
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    store = SessionStore()
    return [f"session: {store.decode(s.session_data)!r}" for s in Session.objects.all()]


def _cache_text() -> list[bytes]:
    from apikeys.guard.sharedcache import shared_cache

    # The shared cache, and the process memory that stands in for it while it is down.
    return _backend_text(cache) + _backend_text(shared_cache.memory)


def _backend_text(backend: Any) -> list[bytes]:
    store = getattr(backend, "_cache", None)
    if isinstance(store, dict):  # LocMemCache: pickled values
        return [repr(key).encode() + b" " + bytes(value) for key, value in store.items()]
    get_client = getattr(store, "get_client", None)
    if get_client is not None:  # RedisCache
        import redis

        client = get_client(None, write=False)
        try:
            return [
                key + b" " + (client.get(key) or b"")
                for key in client.scan_iter(match=b"*", count=500)
            ]
        except redis.ConnectionError:
            # A fault test's own Redis, already stopped: it ran without persistence
            # (--save "" --appendonly no), so nothing of it is left at rest.
            return []
    return []


def leaks(secrets: list[str], log_lines: list[str]) -> list[str]:
    """Where any of ``secrets`` was found, one line per place."""
    if not secrets:
        return []
    places = []
    texts = [("log", line) for line in log_lines]
    # A management command run in-process closes the test's connection; what it wrote
    # is rolled back with it, so there is nothing left at rest to scan.
    if not connection.closed_in_transaction:
        texts += [("database", line) for line in _database_text()]
        texts += [("session", line) for line in _session_text()]
    cached = _cache_text()
    for secret in secrets:
        for where, text in texts:
            if secret in text:
                places.append(f"{where}: {text.replace(secret, '<SECRET>')[:300]}")
        encoded = secret.encode()
        places.extend(
            f"cache: {blob.replace(encoded, b'<SECRET>')[:300]!r}"
            for blob in cached
            if encoded in blob
        )
    return places
