"""The guard's one query: a key's row by its public id, read fresh on every request.

Status, expiry and permissions are read from the database on every request
(SPEC §5), so a deactivation refuses the very next request in every process.
This read is the guard's largest cost, so it is kept to what it must be:

* **Written-out SQL.** Building and compiling the equivalent QuerySet costs
  about 150 µs on every request, ten times the indexed probe itself. The values
  are converted exactly as the ORM converts them (apikeys.rows), and the key is
  the model instance ``from_db`` would make, its other columns deferred (Django
  loads one on first access, so nothing that needs them breaks).
* **A named parameter.** SQLite's cursor wrapper rewrites a ``%s`` query with a
  regular expression on every execution; a named one costs a string format.
* **The driver's cursor, when nothing watches Django's.** Django's cursor
  wrapper adds layers (the debug wrapper, execute wrappers) that this one query
  does not need; when something does watch (``assertNumQueries``, the debug
  toolbar, an APM's execute wrapper, DEBUG), the query goes through Django's
  cursor like any other, so it is seen and counted. On PostgreSQL in autocommit,
  not even the driver's cursor: libpq runs a statement prepared once per
  connection (apikeys.guard.lookup_postgres), which saves about a tenth of a
  trivial request.
* **The query is the connection's health check.** With ``CONN_HEALTH_CHECKS``,
  Django asks a reused connection ``SELECT 1`` before the first query of every
  request: on PostgreSQL a round trip of its own, as long as the guard's query.
  The guard's query answers the same question, so Django's is skipped: if the
  connection turns out dead (the server restarted, a proxy dropped it), it is
  closed and the query runs once more on a new connection, as Django's check
  would have done. A query that fails on a live connection is not retried.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from apikeys import rows
from apikeys.guard.errors import DATABASE_ERRORS
from apikeys.models import APIKey

# What the guard and the API views read of a key, in the model's field order (the
# order Model.from_db expects the values in).
_READ = {
    "id",
    "project_id",
    "key_id",
    "hashed_secret",
    "permissions",
    "expires_at",
    "is_active",
    "allowed_ips",  # check 6, in the same query
}
GUARD_FIELDS = tuple(f.attname for f in APIKey._meta.concrete_fields if f.attname in _READ)


def key_by_id(key_id: str) -> APIKey | None:
    """The key with this id, its columns converted as the ORM would (apikeys.rows), as
    a model instance whose other columns are deferred; None if there is none."""
    alias = router.db_for_read(APIKey)
    connection = connections[alias]
    row = _fetch_checking_health(connection, alias, key_id)
    if row is None:
        return None
    values = rows.convert(row, rows.converters(connection, APIKey, GUARD_FIELDS), connection)
    return _instance(alias, values)


def _instance(alias: str, values: list[Any]) -> APIKey:
    """What ``APIKey.from_db(alias, GUARD_FIELDS, values)`` returns: the fields read set,
    the others deferred (absent from the instance's ``__dict__``), loaded from ``alias``.

    ``Model.__init__`` walks every field of the model to set eight of them; the
    instance is built directly instead, unless something would notice: a receiver
    of ``pre_init``/``post_init`` for keys, or a ``from_db`` of the model's own.
    """
    if (
        APIKey.from_db.__func__ is not _MODEL_FROM_DB  # type: ignore[attr-defined]
        or pre_init.has_listeners(APIKey)
        or post_init.has_listeners(APIKey)
    ):
        return APIKey.from_db(alias, GUARD_FIELDS, values)
    key = APIKey.__new__(APIKey)
    key.__dict__.update(zip(GUARD_FIELDS, values, strict=True))
    key._state = ModelState()
    key._state.adding = False
    key._state.db = alias
    return key


_MODEL_FROM_DB = Model.from_db.__func__  # type: ignore[attr-defined]


@functools.cache
def _lookup_sql(alias: str) -> str:
    """The query, written out once per database. No ORDER BY: ``key_id`` is unique."""
    quote = connections[alias].ops.quote_name
    column_of = {f.attname: f.column for f in APIKey._meta.concrete_fields if f.column}
    columns = ", ".join(quote(column_of[name]) for name in GUARD_FIELDS)
    table = quote(APIKey._meta.db_table)
    # The key id travels as a parameter; only quoted names are interpolated here.
    return f"SELECT {columns} FROM {table} WHERE {quote('key_id')} = %(key_id)s"  # noqa: S608


@functools.cache
def _postgres(alias: str) -> ModuleType | None:
    """apikeys.guard.lookup_postgres on a PostgreSQL database that Django reaches with
    psycopg 3, imported only there (psycopg is not a dependency of apikeys, and with
    psycopg2 the read goes through its cursor as on any other database)."""
    if connections[alias].vendor != "postgresql":
        return None
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if not is_psycopg3:
        return None
    from apikeys.guard import lookup_postgres

    return lookup_postgres


@functools.cache
def _postgres_sql(alias: str) -> bytes:
    """The query as libpq takes it: the parameter is ``$1``."""
    return _lookup_sql(alias).replace("%(key_id)s", "$1").encode()


def _fetch_checking_health(
    connection: BaseDatabaseWrapper, alias: str, key_id: str
) -> tuple[Any, ...] | None:
    if not _health_check_due(connection):
        return _fetch(connection, alias, key_id)
    wrapper: Any = connection  # django-stubs does not declare the health-check attributes
    wrapper.health_check_done = True  # this query is the check
    try:
        return _fetch(connection, alias, key_id)
    except DATABASE_ERRORS:
        if connection.is_usable():
            raise  # the query failed, not the connection: no second try
        connection.close()
        return _fetch(connection, alias, key_id)  # on a new connection


def _health_check_due(connection: BaseDatabaseWrapper) -> bool:
    """Whether Django would ask this connection SELECT 1 before its next query: a
    connection reused from an earlier request, health checks on, none done yet."""
    wrapper: Any = connection  # django-stubs does not declare the health-check attributes
    return (
        wrapper.connection is not None
        and wrapper.health_check_enabled
        and not wrapper.health_check_done
        and not wrapper.in_atomic_block
    )


def _fetch(connection: BaseDatabaseWrapper, alias: str, key_id: str) -> tuple[Any, ...] | None:
    sql, params = _lookup_sql(alias), {"key_id": key_id}
    if connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    # What connection.cursor() and CursorWrapper.execute() do before and around a
    # query, without the wrapper objects.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        postgres = _postgres(alias)
        if postgres is not None and postgres.applies(connection.connection, connection.timezone):
            return postgres.fetch(connection.connection, _postgres_sql(alias), key_id)
        cursor = connection.create_cursor()
        try:
            cursor.execute(sql, params)
            row: tuple[Any, ...] | None = cursor.fetchone()
        finally:
            cursor.close()
    return row
