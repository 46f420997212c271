"""DATABASES from DATABASE_URL (SQLite in the project by default), with the timeouts that
keep a database that is down or hung from hanging a request (SPEC §10)."""

import dj_database_url

from nunu_admin.settings.base import BASE_DIR
from nunu_admin.settings.env import env_bool, env_int

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections: the guard's one query per request must not pay
        # for a new connection each time.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # SPEC §10: a database that is down or hung answers 503 in bounded time.
    # - connect_timeout: a refused or silent server fails the connection after this
    #   many seconds (libpq's minimum is 2), instead of the OS's minutes.
    # - statement_timeout (server-side): a query the server is slow to answer is
    #   cancelled before gunicorn's 30 s worker timeout, so the client gets a 503
    #   rather than a killed worker. DATABASE_STATEMENT_TIMEOUT=0 switches it off
    #   (e.g. for one long migration).
    # - tcp_user_timeout and keepalives (client-side): a server host that vanished
    #   mid-query (no ACKs) drops the connection after ~10 s instead of TCP's ~15 min.
    #   A server process that is frozen while its kernel still ACKs is bounded only
    #   by gunicorn's worker timeout; no client-side socket option can tell it from
    #   a slow query.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    _statement_timeout = env_int("DATABASE_STATEMENT_TIMEOUT", 20)
    if _statement_timeout > 0:
        _pg_options["options"] = (
            _pg_options.get("options", "") + f" -c statement_timeout={_statement_timeout * 1000}"
        ).strip()
    _pg_options.setdefault("tcp_user_timeout", 10_000)
    _pg_options.setdefault("keepalives", 1)
    _pg_options.setdefault("keepalives_idle", 10)
    _pg_options.setdefault("keepalives_interval", 5)
    _pg_options.setdefault("keepalives_count", 3)
    # Prepared statements: a query run 5 times on a connection (psycopg's threshold) is
    # prepared, so the server stops parsing and planning it. Every API request runs the
    # guard's key read (SPEC §5) and the same few view queries, so this is a hot path:
    # `make bench` on PostgreSQL (3 rounds each, 2026-12-03): h 1790 -> 2255 req/s and
    # a 742 -> 977; h/f 0.60 -> 0.65 (f, which queries nothing, drifted 2999 -> 3496).
    # They need server-side binding (psycopg's Cursor; its ClientCursor cannot prepare).
    # Django turns them off by default for connection poolers: behind PgBouncer in
    # transaction mode older than 1.21 (or without max_prepared_statements), set
    # DATABASE_PREPARED_STATEMENTS=0.
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        _pg_options.setdefault("server_side_binding", True)
        _pg_options.setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
