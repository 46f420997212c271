"""The hot path (apikeys.guard.authentication): argon2 once per key per process, one query."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apikeys import keys, services
from apikeys.guard import authentication
from apikeys.models import APIKey
from apikeys.permissions import READ_RUNS


@pytest.fixture(autouse=True)
def guard_urls(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"


@pytest.fixture
def argon2_calls(monkeypatch):
    """Counts every argon2 verification the guard runs."""
    calls = {"verify": 0}
    original = keys.KeyHasher.verify

    def counting(self, stored_hash, secret):
        calls["verify"] += 1
        return original(self, stored_hash, secret)

    monkeypatch.setattr(keys.KeyHasher, "verify", counting)
    return calls


def test_many_requests_with_one_key_run_argon2_once(argon2_calls, project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    for _ in range(25):
        assert client.get("/api/v1/read").status_code == 200
    assert argon2_calls["verify"] == 1


def test_a_wrong_secret_for_a_remembered_key_is_refused_without_argon2(
    argon2_calls, project, make_key, api
):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    wrong = keys.generate(key_id=key.key_id).plaintext
    for _ in range(5):
        assert api(wrong).get("/api/v1/read").status_code == 401
    assert argon2_calls["verify"] == 1


def test_a_warm_request_reads_the_key_in_one_query(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    client.get("/api/v1/read")  # first use: verified and written at once
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/read").status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert "apikeys_apikey" in queries[0]["sql"]


def test_a_hash_with_older_parameters_is_rehashed_on_its_next_successful_use(
    settings, project, make_key, api
):
    key, plaintext = make_key(project, [READ_RUNS])
    old_hash = key.hashed_secret
    settings.APIKEYS_ARGON2_TIME_COST = settings.APIKEYS_ARGON2_TIME_COST + 1
    assert api(plaintext).get("/api/v1/read").status_code == 200
    new_hash = APIKey.objects.get(pk=key.pk).hashed_secret
    assert new_hash != old_hash
    assert f"t={settings.APIKEYS_ARGON2_TIME_COST}" in new_hash
    # The memo followed the new hash, and the key still works in a fresh process.
    authentication.verified_secrets.clear()
    assert api(plaintext).get("/api/v1/read").status_code == 200


def test_a_wrong_secret_never_triggers_a_rehash(settings, project, make_key, api):
    key, _ = make_key(project, [READ_RUNS])
    settings.APIKEYS_ARGON2_TIME_COST = settings.APIKEYS_ARGON2_TIME_COST + 1
    api(keys.generate(key_id=key.key_id).plaintext).get("/api/v1/read")
    assert APIKey.objects.get(pk=key.pk).hashed_secret == key.hashed_secret


def test_the_memo_is_bounded(settings, project, make_key, api):
    settings.APIKEYS_VERIFIED_CACHE_SIZE = 2
    for _ in range(4):
        _, plaintext = make_key(project, [READ_RUNS])
        assert api(plaintext).get("/api/v1/read").status_code == 200
    assert len(authentication.verified_secrets) == 2


def test_malformed_input_never_touches_the_database(db, api):
    with CaptureQueriesContext(connection) as queries:
        assert api("nunu_" + "x" * 100).get("/api/v1/read").status_code == 401
    assert len(queries) == 0


@pytest.mark.django_db(transaction=True)
def test_no_request_passes_after_a_deactivation_commits(project, make_key):
    """Threads hammer the API while the key is deactivated: any request that began
    after the deactivation committed must be refused, whatever the memo holds."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent connections (run with DATABASE_URL)")
    key, plaintext = make_key(project, [READ_RUNS])
    results: list[tuple[float, int]] = []
    stop = threading.Event()

    def hammer() -> None:
        from django.db import connections

        client = Client()
        try:
            while not stop.is_set():
                started = time.monotonic()
                status = client.get("/api/v1/read", headers={"X-Api-Key": plaintext}).status_code
                results.append((started, status))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    while not any(status == 200 for _, status in results):
        time.sleep(0.01)
    services.key_deactivate(key=key, actor=services.Actor.cli("test"))
    committed = time.monotonic()
    while sum(1 for started, _ in results if started > committed) < 20:
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join()

    after = [status for started, status in list(results) if started > committed]
    assert after and set(after) == {403}


def test_a_blocked_ip_gets_no_argon2_but_a_recently_verified_key_still_passes(
    settings, argon2_calls, project, make_key
):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 3
    known, known_plaintext = make_key(project, [READ_RUNS])
    _, fresh_plaintext = make_key(project, [READ_RUNS])
    shared_nat = Client(REMOTE_ADDR="203.0.113.20")
    assert shared_nat.get("/api/v1/read", headers={"X-Api-Key": known_plaintext}).status_code == 200
    wrong = keys.generate(key_id=known.key_id).plaintext
    for _ in range(3):
        shared_nat.get("/api/v1/read", headers={"X-Api-Key": wrong})
    calls_before = argon2_calls["verify"]

    # The integration whose key this process verified keeps working from that address...
    assert shared_nat.get("/api/v1/read", headers={"X-Api-Key": known_plaintext}).status_code == 200
    # ...while guesses, and any key not verified recently, are answered 429 without argon2.
    for raw in (wrong, fresh_plaintext, keys.generate().plaintext, "nunu_garbage"):
        response = shared_nat.get("/api/v1/read", headers={"X-Api-Key": raw})
        assert response.status_code == 429
        assert response.json()["code"] == "RATE_LIMITED"
    assert shared_nat.get("/api/v1/read").status_code == 429
    assert argon2_calls["verify"] == calls_before
