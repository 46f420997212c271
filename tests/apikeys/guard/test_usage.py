"""Usage tracking (apikeys.guard.usage): written at once on first use, then once per window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.permissions import OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.guard import usage
from apikeys.models import APIKey, APIKeyDailyUsage, APIKeyPermissionUsage, APIKeyRefusal


@pytest.fixture(autouse=True)
def guard_urls(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"
    settings.APIKEYS_USAGE_RESOLUTION = 60


@pytest.fixture
def clock(monkeypatch):
    """usage's clock, moved by hand: clock.advance(seconds)."""

    class Clock:
        now = timezone.now()

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    fake = Clock()
    monkeypatch.setattr(usage, "_now", lambda: fake.now)
    return fake


def daily(key: APIKey) -> tuple[int, int]:
    row = APIKeyDailyUsage.objects.filter(key=key).first()
    return (row.request_count, row.refused_count) if row else (0, 0)


def test_a_keys_first_use_is_written_at_once(clock, project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    api(plaintext).get("/api/v1/read", REMOTE_ADDR="192.0.2.4")
    key.refresh_from_db()
    assert key.last_used_at == clock.now
    assert key.last_used_ip == "192.0.2.4"
    assert daily(key) == (1, 0)
    assert APIKeyPermissionUsage.objects.get(key=key, permission=READ_RUNS).last_used_at == (
        clock.now
    )


def test_usage_is_written_at_most_once_per_window(clock, project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    client.get("/api/v1/read")
    first_use = clock.now
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            clock.advance(5)
            client.get("/api/v1/read")
    writes = [q for q in queries.captured_queries if not q["sql"].startswith("SELECT")]
    assert writes == []
    key.refresh_from_db()
    assert key.last_used_at == first_use
    assert daily(key) == (1, 0)

    clock.advance(15)  # 65 seconds after the first write
    client.get("/api/v1/read")
    key.refresh_from_db()
    assert key.last_used_at == clock.now
    assert daily(key) == (12, 0)


def test_each_permission_records_its_own_last_use(clock, project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS, OPERATE_RUNS])
    api(plaintext).get("/api/v1/runs")
    read_at = clock.now
    clock.advance(61)
    api(plaintext).post("/api/v1/runs", {})
    uses = dict(
        APIKeyPermissionUsage.objects.filter(key=key).values_list("permission", "last_used_at")
    )
    assert uses == {READ_RUNS: read_at, OPERATE_RUNS: clock.now}


def test_refusals_are_counted_the_same_way(clock, project, make_key, api):
    key, plaintext = make_key(project, [OPERATE_RUNS])
    for _ in range(3):
        api(plaintext).get("/api/v1/read")
    refusal = APIKeyRefusal.objects.get(key=key, code="MISSING_PERMISSION")
    assert refusal.count == 1  # the first at once, the rest held for the window
    usage.flush_all()
    refusal.refresh_from_db()
    assert refusal.count == 3
    assert daily(key) == (0, 3)
    key.refresh_from_db()
    assert key.last_used_at is None  # a refused request is not a use


def test_flush_all_writes_what_the_process_still_holds(clock, project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    for _ in range(4):
        api(plaintext).get("/api/v1/read")
    usage.flush_all()
    assert daily(key) == (4, 0)
    usage.flush_all()  # nothing left: nothing counted twice
    assert daily(key) == (4, 0)


def test_last_used_at_never_moves_backwards(clock, project, make_key, api):
    """Another process may write a later time first; an older batch must not undo it."""
    key, plaintext = make_key(project, [READ_RUNS])
    later = clock.now + timedelta(hours=1)
    APIKey.objects.filter(pk=key.pk).update(last_used_at=later)
    api(plaintext).get("/api/v1/read")
    key.refresh_from_db()
    assert key.last_used_at == later


def test_usage_of_a_key_deleted_meanwhile_is_dropped_quietly(clock, project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    api(plaintext).get("/api/v1/read")
    api(plaintext).get("/api/v1/read")  # held in memory
    services.key_delete(key=key, actor=services.Actor.cli("test"))
    usage.flush_all()
    assert not APIKeyDailyUsage.objects.exists()


def test_first_use_is_recorded_once_and_never_moves(project, make_key, api, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from api.permissions import READ_RUNS as READ
    from apikeys.guard import usage as usage_module

    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(usage_module, "_now", lambda: clock["now"])
    key, plaintext = make_key(project, [READ])
    client = api(plaintext)
    client.get("/api/v1/read")
    clock["now"] = start + timedelta(hours=2)
    client.get("/api/v1/read")
    usage_module.flush_all()
    key.refresh_from_db()
    assert key.first_used_at == start
    assert key.last_used_at == start + timedelta(hours=2)


def test_client_addresses_are_counted_per_day_with_the_batched_write(clock, project, make_key, api):
    from apikeys.models import APIKeyAddressUsage

    key, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    client.get("/api/v1/read", REMOTE_ADDR="192.0.2.4")  # first use: written at once
    with CaptureQueriesContext(connection) as queries:
        for ip in ("192.0.2.4", "192.0.2.5", "2001:db8::1", "192.0.2.5"):
            client.get("/api/v1/read", REMOTE_ADDR=ip)
    assert not [q for q in queries.captured_queries if "addressusage" in q["sql"].lower()]
    clock.advance(61)
    client.get("/api/v1/read", REMOTE_ADDR="192.0.2.4")
    rows = dict(APIKeyAddressUsage.objects.filter(key=key).values_list("ip", "request_count"))
    assert rows == {"192.0.2.4": 3, "192.0.2.5": 2, "2001:db8::1": 1}


def test_one_batch_counts_a_bounded_number_of_addresses(clock, project, make_key, api):
    from apikeys.models import APIKeyAddressUsage

    key, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    for n in range(usage.MAX_ADDRESSES_PER_BATCH + 20):
        client.get("/api/v1/read", REMOTE_ADDR=f"10.0.{n // 250}.{n % 250}")
    usage.flush_all()
    # The first request was written on its own, the rest in one bounded batch.
    assert APIKeyAddressUsage.objects.filter(key=key).count() == usage.MAX_ADDRESSES_PER_BATCH + 1
    assert daily(key) == (usage.MAX_ADDRESSES_PER_BATCH + 20, 0)
