"""A fresh database for one benchmark run, removed at the end whatever happens.

SQLite (the default): a file in the run's temporary folder, in WAL mode through
the project's own settings. PostgreSQL: given a server URL, a new database
``bench_<pid>`` is created on that server and dropped at the end; the database
named in the URL itself is never touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql", "postgis"}


class BenchDatabase:
    def __init__(self, server_url: str | None, folder: Path) -> None:
        self.server_url = server_url if server_url and is_postgres(server_url) else None
        self.folder = folder
        self.name = f"bench_{os.getpid()}"
        self.url = ""
        self._created = False

    @property
    def label(self) -> str:
        if self.server_url is None:
            return "SQLite (WAL, temporary file)"
        parts = urlsplit(self.url)
        return f"PostgreSQL ({parts.hostname}:{parts.port or 5432}/{self.name}, dropped at the end)"

    def create(self) -> str:
        if self.server_url is None:
            self.url = f"sqlite:///{self.folder / 'bench.sqlite3'}"
            self._created = True
            return self.url
        with _connect_maintenance(self.server_url) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            connection.execute(f'CREATE DATABASE "{self.name}"')
        self._created = True
        parts = urlsplit(self.server_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", parts.query, ""))
        return self.url

    def drop(self) -> None:
        """Remove the database; the SQLite file goes with the temporary folder."""
        if not self._created or self.server_url is None:
            return
        with _connect_maintenance(self.server_url) as connection:
            # FORCE (PostgreSQL 13+) ends any connection a killed worker left behind.
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._created = False


def _connect_maintenance(server_url: str):  # type: ignore[no-untyped-def]
    """An autocommit connection to the server: the URL's own database, else ``postgres``.

    CI's URL names a database the test runner creates later (``test``), so it may
    not exist yet.
    """
    import psycopg

    parts = urlsplit(server_url)
    candidates = [parts.path] if parts.path not in {"", "/"} else []
    candidates.append("/postgres")
    error: Exception | None = None
    for path in candidates:
        dsn = urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))
        try:
            return psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError as exc:
            error = exc
    raise RuntimeError(f"Cannot connect to PostgreSQL at {parts.hostname}: {error}")
