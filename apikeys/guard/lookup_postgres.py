"""The guard's key read on PostgreSQL, through libpq's own call rather than a cursor.

A psycopg cursor spends about 40 µs of Python on every query (converting the query,
its prepared-statement bookkeeping, the generator and wait loop around the round
trip, building the result) before and after a round trip that itself costs the
client about 30 µs. For the one query every API request runs, that is a tenth of a
trivial request. Here the query goes straight to libpq: ``PQexecPrepared`` on a
statement prepared once per connection, or ``PQexecParams`` when the host turned
prepared statements off (``prepare_threshold`` None, e.g. behind PgBouncer in
transaction mode). psycopg's C implementation releases the GIL while libpq waits,
as its cursor's wait does. The row is loaded by a psycopg ``Transformer`` on the
connection's own adapters, the ones Django registered (JSON as text, timestamps in
the connection's time zone), so every value is what Django's cursor returns.

Only in autocommit (outside ``atomic``): inside a transaction psycopg itself must
issue the BEGIN before the first statement, so the caller uses the cursor there.
Errors become psycopg's exceptions, as the cursor raises them: a lost connection
an ``OperationalError``, a server error the class of its SQLSTATE. A statement
that vanished from the session (``DISCARD ALL``, ``DEALLOCATE ALL``) is prepared
again once; one the session already has under its name is replaced.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import abc, errors, pq
from psycopg.adapt import Transformer

_STATEMENT = b"apikeys_key_by_id"
_STATEMENT_GONE = "26000"  # invalid_sql_statement_name
_STATEMENT_EXISTS = "42P05"  # duplicate_prepared_statement
_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid

# Per psycopg connection: its transformer once the statement is prepared there.
_prepared: WeakKeyDictionary[psycopg.Connection[Any], abc.Transformer] = WeakKeyDictionary()


def applies(raw: psycopg.Connection[Any], timezone: tzinfo | None) -> bool:
    """Whether the read may bypass the cursor on this connection now: in autocommit,
    and with timestamps loaded in ``timezone`` (Django's connection time zone), as
    Django's cursor would load them (it registers a loader of its own on a cursor
    when the connection's disagrees)."""
    return (
        isinstance(raw, psycopg.Connection)
        and raw.autocommit
        and raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
        and getattr(raw.adapters.get_loader(_TIMESTAMPTZ, pq.Format.TEXT), "timezone", None)
        == timezone
    )


def fetch(raw: psycopg.Connection[Any], sql: bytes, value: str) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (one ``$1`` parameter, ``value``), or None."""
    params = [value.encode()]
    with raw.lock:
        pgconn = raw.pgconn
        transformer: abc.Transformer
        if raw.prepare_threshold is None:
            result = pgconn.exec_params(sql, params)
            transformer = Transformer(raw)
        else:
            transformer = _prepared.get(raw) or _prepare(raw, sql)
            result = pgconn.exec_prepared(_STATEMENT, params)
            if _sqlstate(result) == _STATEMENT_GONE:
                transformer = _prepare(raw, sql)
                result = pgconn.exec_prepared(_STATEMENT, params)
        _raise_for(result, raw)
        if not result.ntuples:
            return None
        transformer.set_pgresult(result)
        row: tuple[Any, ...] = transformer.load_row(0, tuple)  # type: ignore[arg-type]
        return row


def _prepare(raw: psycopg.Connection[Any], sql: bytes) -> abc.Transformer:
    result = raw.pgconn.prepare(_STATEMENT, sql)
    if _sqlstate(result) == _STATEMENT_EXISTS:
        # A session a pooler handed over, prepared by another process, maybe by another
        # version of this query: replaced, never trusted.
        _raise_for(raw.pgconn.exec_(b"DEALLOCATE " + _STATEMENT), raw)
        result = raw.pgconn.prepare(_STATEMENT, sql)
    _raise_for(result, raw)
    transformer = _prepared[raw] = Transformer(raw)
    return transformer


def _sqlstate(result: pq.abc.PGresult) -> str:
    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    return state.decode("ascii") if state else ""


def _raise_for(result: pq.abc.PGresult, raw: psycopg.Connection[Any]) -> None:
    if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        return
    if raw.pgconn.status == pq.ConnStatus.BAD:
        message = raw.pgconn.get_error_message() or "the connection to the server is lost"
        raise psycopg.OperationalError(message)
    raise errors.error_from_result(result, encoding=raw.info.encoding)
