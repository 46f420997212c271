"""apikeys.guard.lookup: the key's row, read fresh in one query that also checks the connection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.permissions import READ_RUNS
from apikeys.guard.lookup import GUARD_FIELDS, key_by_id
from apikeys.models import APIKey

# The wrapper itself: django.db.connection is a proxy.
connection = connections[DEFAULT_DB_ALIAS]


def test_the_guards_key_has_the_orms_values_and_loads_the_rest_on_demand(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=timezone.now() + timedelta(days=3))
    read = key_by_id(key.key_id)
    assert read is not None
    stored = APIKey.objects.get(pk=key.pk)
    assert {name: getattr(read, name) for name in GUARD_FIELDS} == {
        name: getattr(stored, name) for name in GUARD_FIELDS
    }
    assert read.get_deferred_fields() >= {"name", "last_used_at"}
    assert read.name == stored.name
    assert read == stored and not read._state.adding and read._state.db == DEFAULT_DB_ALIAS


def test_an_unknown_key_id_reads_as_none(db):
    assert key_by_id("AAAAAAAAAAAA") is None


def test_a_key_id_is_a_parameter_never_part_of_the_sql(db):
    with CaptureQueriesContext(connection) as queries:
        assert key_by_id("x' OR '1'='1") is None
    assert len(queries) == 1


def test_a_receiver_of_post_init_still_sees_the_guards_key(project, make_key):
    key, _ = make_key(project, [READ_RUNS])
    seen: list[APIKey] = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=APIKey)
    try:
        read = key_by_id(key.key_id)
    finally:
        post_init.disconnect(receiver, sender=APIKey)
    assert seen == [read]
    assert read is not None and read.get_deferred_fields() >= {"name"}


# --- The query as the connection's health check (CONN_HEALTH_CHECKS) -------------------


class Checks:
    """Django's health checks (``is_usable``) asked for, after :meth:`reuse`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.asked = 0
        original = connection.is_usable

        def counting_is_usable() -> bool:
            self.asked += 1
            return original()

        monkeypatch.setattr(connection, "is_usable", counting_is_usable)

    def reuse(self) -> None:
        """The connection as a request finds it when reused from an earlier one: health
        checks on, this request's check not done yet."""
        connection.ensure_connection()
        self.monkeypatch.setattr(connection, "health_check_enabled", True)
        self.monkeypatch.setattr(connection, "health_check_done", False)
        self.asked = 0


@pytest.fixture
def checks(monkeypatch):
    return Checks(monkeypatch)


@pytest.fixture
def failing_queries():
    """``failing_queries["left"] = n``: the next n queries fail as on a dropped connection."""
    state = {"left": 0, "tried": 0}

    def fail(execute, sql, params, many, context):
        state["tried"] += 1
        if state["left"] > 0:
            state["left"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        yield state


@pytest.mark.django_db(transaction=True)
def test_the_guards_query_stands_in_for_djangos_health_check(project, make_key, checks):
    key, _ = make_key(project, [READ_RUNS])
    checks.reuse()
    with CaptureQueriesContext(connection) as queries:
        assert key_by_id(key.key_id) is not None
    assert len(queries) == 1
    assert checks.asked == 0  # no SELECT 1 of Django's before it
    assert connection.health_check_done  # and none for the view's queries after it


@pytest.mark.django_db(transaction=True)
def test_a_dead_connection_is_replaced_and_the_key_read_on_the_new_one(
    project, make_key, checks, failing_queries, monkeypatch
):
    key, _ = make_key(project, [READ_RUNS])
    checks.reuse()
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    closed: list[bool] = []
    original_close = connection.close

    def counting_close():
        closed.append(True)
        original_close()

    monkeypatch.setattr(connection, "close", counting_close)
    failing_queries.update(left=1, tried=0)
    read = key_by_id(key.key_id)
    assert read is not None and read.pk == key.pk
    assert closed == [True] and failing_queries["tried"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_query_that_fails_on_a_live_connection_is_not_retried(
    project, make_key, checks, failing_queries
):
    key, _ = make_key(project, [READ_RUNS])
    checks.reuse()
    failing_queries.update(left=2, tried=0)
    with pytest.raises(OperationalError):
        key_by_id(key.key_id)
    assert failing_queries["tried"] == 1
    assert checks.asked == 1  # after the failure: the connection is alive


def test_inside_a_transaction_djangos_own_check_applies(project, make_key, checks):
    key, _ = make_key(project, [READ_RUNS])
    checks.reuse()
    assert connection.in_atomic_block  # the test's transaction
    assert key_by_id(key.key_id) is not None
    assert checks.asked == 1  # Django's check, before the query
