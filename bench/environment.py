"""What a run sets up around its measurements and always takes down: a temporary
folder, the database, the servers, the environment they all share."""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from bench import database, load, servers


class Cleanup:
    """Stops what the run started and removes what it made, exactly once."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="nunu-bench-"))
        self.servers: list[servers.Gunicorn] = []
        self.database: database.BenchDatabase | None = None
        self.redis = False
        self._done = False

    def __call__(self) -> None:
        if self._done:
            return
        self._done = True
        for server in self.servers:
            try:
                server.stop(timeout=10)
            except Exception as error:
                print(f"warning: could not stop gunicorn ({server.name}): {error}", file=sys.stderr)
        if self.redis:
            with contextlib.suppress(Exception):
                forget_verified_digests()
        try:
            from django.db import connections

            connections.close_all()
        except Exception as error:  # Django may not be set up yet
            del error
        if self.database is not None:
            try:
                self.database.drop()
            except Exception as error:
                print(f"warning: could not drop {self.database.name}: {error}", file=sys.stderr)
        shutil.rmtree(self.folder, ignore_errors=True)


def forget_verified_digests() -> None:
    """The servers shared their verified digests in Redis for an hour; this run's
    secret key names them (its fingerprint), so they go. The counters (rate limit,
    budget) expire with their windows, within minutes."""
    from django.core.cache import caches

    from apikeys.conf import apikeys_settings
    from apikeys.guard.digests import digest_key

    cache = caches[apikeys_settings.CACHE_ALIAS]
    pattern = cache.make_key(f"apikeys:verified:{digest_key()[1]}:*")
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    for name in client.scan_iter(match=pattern, count=1000):
        client.delete(name)


def django_environment(db_url: str, redis_url: str, folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {load.HEADER_NAME_ENV, load.HEADER_VALUE_ENV, load.FLOOD_FILE_ENV, "BENCH_GUARD_OFF"}
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "0",
            # A throwaway for this run only; never written anywhere.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "APIKEYS_REQUIRE_HTTPS": "0",
            "APIKEYS_RATE_LIMIT_ENABLED": "0",
            "DATABASE_URL": db_url,
            "DATABASE_CONN_MAX_AGE": "600",
            "BENCH_STATIC_ROOT": str(folder / "static"),
            "DJANGO_MEDIA_ROOT": str(folder / "media"),
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    return env


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = model or platform.machine()
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"
