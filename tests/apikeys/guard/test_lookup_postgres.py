"""apikeys.guard.lookup_postgres: the key read through libpq, on PostgreSQL in autocommit.

Each test runs outside the test transaction (``transaction=True``): inside one the
read goes through the cursor, which one test here shows.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils import timezone

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.guard.lookup import GUARD_FIELDS, key_by_id
from apikeys.models import APIKey

connection = connections[DEFAULT_DB_ALIAS]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]

if connection.vendor == "postgresql":
    import psycopg

    from apikeys.guard import lookup_postgres


@contextlib.contextmanager
def no_cursor():
    """Within it, a read must not open a cursor: it goes through libpq."""

    def refuse(*args, **kwargs):
        raise AssertionError("the key read opened a cursor")

    connection.ensure_connection()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "create_cursor", refuse)
        yield


@pytest.fixture
def other_session():
    """A second connection to the same database, of psycopg's own."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as other:
        yield other


def _prepared_in_session() -> list[str]:
    """The guard's statement among this session's prepared statements (the ORM's own,
    psycopg's ``_pg3_*``, are left out)."""
    rows = connection.connection.execute(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE 'apikeys%%'"
    ).fetchall()
    return [name for (name,) in rows]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_key_read_through_libpq_has_the_orms_values(project, make_key):
    key, _ = make_key(
        project,
        [READ_RUNS],
        expires_at=timezone.now() + timedelta(days=3),
        allowed_ips=["192.0.2.0/24"],
    )
    with no_cursor():
        read = key_by_id(key.key_id)
    stored = APIKey.objects.get(pk=key.pk)
    assert read is not None
    assert {name: getattr(read, name) for name in GUARD_FIELDS} == {
        name: getattr(stored, name) for name in GUARD_FIELDS
    }
    assert read.expires_at.tzinfo is not None and read.permissions == [READ_RUNS]
    assert _prepared_in_session() == ["apikeys_key_by_id"]


def test_a_connection_time_zone_unlike_the_connections_loader_reads_through_the_cursor(
    project, make_key, monkeypatch
):
    """Django's cursor then registers a timestamp loader of its own: the read's values
    must be what the ORM reads in the same state, not what the connection's loader gives."""
    key, _ = make_key(project, [READ_RUNS], expires_at=timezone.now() + timedelta(days=3))
    paris = ZoneInfo("Europe/Paris")
    connection.ensure_connection()
    monkeypatch.setattr(connection, "timezone", paris)
    read = key_by_id(key.key_id)
    stored = APIKey.objects.get(pk=key.pk)
    assert read is not None and read.expires_at.tzinfo == paris
    assert (read.expires_at, read.expires_at.tzinfo) == (
        stored.expires_at,
        stored.expires_at.tzinfo,
    )


def test_an_unknown_or_hostile_key_id_reads_as_none(db):
    with no_cursor():
        assert key_by_id("AAAAAAAAAAAA") is None
        assert key_by_id("x' OR '1'='1") is None


def test_a_statement_deallocated_in_the_session_is_prepared_again(project, make_key):
    key, _ = make_key(project, [READ_RUNS])
    assert key_by_id(key.key_id) is not None
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE apikeys_key_by_id")
    read = key_by_id(key.key_id)
    assert read is not None and read.pk == key.pk


def test_a_statement_of_that_name_already_in_the_session_is_replaced(project, make_key):
    key, _ = make_key(project, [READ_RUNS])
    connection.close()  # a new session, as a pooler may hand over one already used,
    connection.ensure_connection()  # prepared by another version of the query
    connection.connection.execute(
        "PREPARE apikeys_key_by_id (text) AS SELECT 0, 0, $1, '', '[]', now(), false, '[]'"
    )
    read = key_by_id(key.key_id)
    assert read is not None and read.pk == key.pk and read.is_active


def test_with_prepared_statements_off_the_read_prepares_nothing(project, make_key, monkeypatch):
    key, _ = make_key(project, [READ_RUNS])
    raw = connection.connection
    if _prepared_in_session():  # by an earlier test on this connection
        raw.execute("DEALLOCATE apikeys_key_by_id")
    monkeypatch.setattr(raw, "prepare_threshold", None)  # e.g. behind PgBouncer
    with no_cursor():
        read = key_by_id(key.key_id)
    assert read is not None and read.pk == key.pk
    assert _prepared_in_session() == []


def test_inside_a_transaction_the_read_goes_through_the_cursor(project, make_key, monkeypatch):
    key, _ = make_key(project, [READ_RUNS])

    def refuse(*args, **kwargs):
        raise AssertionError("libpq used inside a transaction")

    monkeypatch.setattr(lookup_postgres, "fetch", refuse)
    with transaction.atomic():
        read = key_by_id(key.key_id)
    assert read is not None and read.pk == key.pk


def test_a_connection_the_server_ended_is_an_operational_error_then_replaced(
    project, make_key, other_session, monkeypatch
):
    key, _ = make_key(project, [READ_RUNS])
    assert key_by_id(key.key_id) is not None
    other_session.execute("SELECT pg_terminate_backend(%s)", [_backend_pid()])
    # This request's health check is done: the failure reaches the guard (a 503).
    monkeypatch.setattr(connection, "health_check_done", True)
    with pytest.raises(OperationalError):
        key_by_id(key.key_id)
    assert not connection.is_usable()
    # The next request's read stands in for the health check: a new connection.
    monkeypatch.setattr(connection, "health_check_enabled", True)
    monkeypatch.setattr(connection, "health_check_done", False)
    read = key_by_id(key.key_id)
    assert read is not None and read.pk == key.pk


def test_a_server_error_keeps_its_class_and_the_connection(project, make_key, other_session):
    key, _ = make_key(project, [READ_RUNS])
    assert key_by_id(key.key_id) is not None
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '50ms'")
    try:
        with other_session.transaction():
            other_session.execute(f"LOCK TABLE {APIKey._meta.db_table} IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(OperationalError) as raised:
                key_by_id(key.key_id)
        assert isinstance(raised.value.__cause__, psycopg.errors.LockNotAvailable)
        assert connection.is_usable()
        assert key_by_id(key.key_id) is not None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def test_other_threads_run_while_the_read_waits_on_the_server(project, make_key, other_session):
    """A gthread worker's other thread must not stall behind this one's round trip."""
    key, _ = make_key(project, [READ_RUNS])
    found: list[APIKey | None] = []

    def read_in_thread() -> None:
        try:
            found.append(key_by_id(key.key_id))
        finally:
            connections.close_all()

    with other_session.transaction():
        other_session.execute(f"LOCK TABLE {APIKey._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        reader = threading.Thread(target=read_in_thread)
        reader.start()
        _wait_until_blocked(other_session)
        spins, deadline = 0, time.monotonic() + 0.2
        while time.monotonic() < deadline:
            spins += 1
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert found and found[0] is not None and found[0].pk == key.pk
    assert spins > 1000  # the GIL was free while the reader waited


def _wait_until_blocked(session, timeout: float = 10.0) -> None:
    """Until some session waits on a lock (the reader's query, behind LOCK TABLE)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Inside the session's transaction, statistics are a snapshot unless cleared.
        session.execute("SELECT pg_stat_clear_snapshot()")
        waiting = session.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the reader never reached the server")


def test_through_the_guard_a_deactivation_refuses_the_very_next_request(project, make_key, client):
    """SPEC §5 on this path: the row is read fresh, even for a key verified a moment ago."""
    key, plaintext = make_key(project, [READ_RUNS])
    headers = {"x-api-key": plaintext}
    if _prepared_in_session():  # by an earlier test on this connection
        connection.connection.execute("DEALLOCATE apikeys_key_by_id")
    assert client.get("/api/v1/runs", headers=headers, secure=True).status_code == 200
    services.key_deactivate(key=key, actor=services.Actor.cli())
    response = client.get("/api/v1/runs", headers=headers, secure=True)
    assert response.status_code == 403
    assert response.json()["code"] == "DISABLED_API_KEY"
    assert _prepared_in_session() == ["apikeys_key_by_id"]  # the reads went through libpq
