"""The hot path (apikeys.guard.authentication): argon2 once per key per process, one query."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.permissions import READ_RUNS
from apikeys import keys, services
from apikeys.conf import key_format
from apikeys.guard import authentication, digests, ratelimit
from apikeys.models import APIKey


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
    wrong = key_format().generate(key_id=key.key_id).plaintext
    for _ in range(5):
        assert api(wrong).get("/api/v1/read").status_code == 401
    assert argon2_calls["verify"] == 1


def _queries_of(client: Client, path: str = "/api/v1/read") -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response.status_code, len(queries), [q["sql"] for q in queries.captured_queries]


def test_a_wrong_secret_for_a_key_this_process_verified_reads_no_row(project, make_key, api):
    """The memo is named by the key id: a different digest is refused before the query."""
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    wrong = key_format().generate(key_id=key.key_id).plaintext
    status, count, sql = _queries_of(api(wrong))
    assert (status, count) == (401, 0), sql


def test_past_the_budgets_a_secret_only_argon2_could_pass_reads_no_row(
    settings, argon2_calls, project, make_key, api
):
    """A flood aimed at key ids no process verified lately costs one cache read a
    request: past the id's budget 401, past the total 429 (unknown ids too), no query."""
    settings.APIKEYS_SECRET_FAILURES = 2
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 3
    target, _ = make_key(project, [READ_RUNS])
    guess = key_format().generate(key_id=target.key_id).plaintext
    for n in range(2):
        assert api(guess).get("/api/v1/read", **_from(n)).status_code == 401
    status, count, sql = _queries_of(Client(HTTP_X_API_KEY=guess, **_from(2)))
    assert (status, count) == (401, 0), sql  # the id's budget is spent

    other, _ = make_key(project, [READ_RUNS])
    assert (
        api(key_format().generate(key_id=other.key_id).plaintext)
        .get("/api/v1/read", **_from(3))
        .status_code
        == 401
    )  # the third argon2 refusal: the total is spent
    assert argon2_calls["verify"] == 3
    for key_id in (other.key_id, "unknownid123"):
        response_client = Client(
            HTTP_X_API_KEY=key_format().generate(key_id=key_id).plaintext, **_from(4)
        )
        status, count, sql = _queries_of(response_client)
        assert (status, count) == (429, 0), sql
    assert argon2_calls["verify"] == 3

    # A key verified lately still works, its row read as always.
    _, warm_plaintext = make_key(project, [READ_RUNS], remembered=True)
    _another_process()
    status, count, _ = _queries_of(api(warm_plaintext))
    assert status == 200 and count >= 1


def test_past_the_total_budget_a_guess_costs_one_cache_read(
    settings, monkeypatch, project, make_key, api
):
    """d2's flood, one request of it: a cold key id, a fresh address, the total spent
    (and seen spent once by this process): one round trip to the cache, no query."""
    from apikeys.guard.sharedcache import shared_cache

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 1
    ratelimit.record_secret_failure("x" * 12)
    target, _ = make_key(project, [READ_RUNS])
    guess = key_format().generate(key_id=target.key_id).plaintext
    assert api(guess).get("/api/v1/read", **_from(1)).status_code == 429  # sees it spent

    calls: list[str] = []
    for name in ("get", "get_many", "set", "add", "incr", "delete"):
        real = getattr(shared_cache, name)
        monkeypatch.setattr(
            shared_cache, name, lambda *a, _n=name, _r=real, **kw: calls.append(_n) or _r(*a, **kw)
        )
    status, count, sql = _queries_of(Client(HTTP_X_API_KEY=guess, **_from(2)))
    assert (status, count, calls) == (429, 0, ["get_many"]), sql


def test_a_key_re_hashed_by_another_process_still_works_and_is_verified_again(
    settings, argon2_calls, project, make_key, api
):
    """This process remembers the old hash; the row has a new one (same secret): the
    memo is not trusted for a hash it did not verify, argon2 runs once more."""
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    secret = key_format().parse(plaintext).secret  # type: ignore[union-attr]
    APIKey.objects.filter(pk=key.pk).update(hashed_secret=services.hasher().hash(secret))
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert argon2_calls["verify"] == 2
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert argon2_calls["verify"] == 2
    wrong = key_format().generate(key_id=key.key_id).plaintext
    assert api(wrong).get("/api/v1/read").status_code == 401
    assert argon2_calls["verify"] == 2


def test_a_lost_re_hash_race_leaves_the_winners_shared_digest(
    settings, argon2_calls, monkeypatch, project, make_key, api
):
    """Two processes verify one old-parameter hash at once; the other one's re-hash wins
    and it shares the digest of the new hash. This one's conditional update finds
    nothing, and it must not overwrite that entry with one for the old hash: a third
    process then passes the key without argon2, even while a flood spent the total."""
    _, plaintext = make_key(project, [READ_RUNS])
    settings.APIKEYS_ARGON2_TIME_COST = settings.APIKEYS_ARGON2_TIME_COST + 1
    real_rehash = authentication._rehash

    def the_other_process_first(key_, secret_, hasher):
        APIKey.objects.filter(pk=key_.pk).update(hashed_secret=hasher.hash(secret_))
        digests.remember_new_secret(APIKey.objects.get(pk=key_.pk), secret_)
        return real_rehash(key_, secret_, hasher)

    monkeypatch.setattr(authentication, "_rehash", the_other_process_first)
    assert api(plaintext).get("/api/v1/read").status_code == 200
    monkeypatch.setattr(authentication, "_rehash", real_rehash)
    verified = argon2_calls["verify"]

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 1
    ratelimit.record_secret_failure("x" * 12)
    _another_process()
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert argon2_calls["verify"] == verified


@pytest.mark.parametrize(
    "value", [b"", b"x" * 16, b"x" * 17, b"x" * 48, b"\x00" * 48, "text" * 12, 12345]
)
def test_a_malformed_shared_entry_passes_no_wrong_secret_and_blocks_no_right_one(
    value, project, make_key, api
):
    from apikeys.guard.sharedcache import shared_cache

    key, plaintext = make_key(project, [READ_RUNS])
    name = authentication.shared_digest_key(key.key_id, authentication.digest_key()[1])
    shared_cache.set(name, value, 60)
    wrong = key_format().generate(key_id=key.key_id).plaintext
    assert api(wrong).get("/api/v1/read").status_code == 401
    shared_cache.set(name, value, 60)
    _another_process()
    assert api(plaintext).get("/api/v1/read").status_code == 200


def test_a_deleted_key_is_refused_and_forgotten(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    APIKey.objects.filter(pk=key.pk).delete()
    assert api(plaintext).get("/api/v1/read").json()["code"] == "INVALID_API_KEY"
    assert authentication.verified_secrets.get(key.key_id) is None


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
    api(key_format().generate(key_id=key.key_id).plaintext).get("/api/v1/read")
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


WAIT_SECONDS = 30


def wait_until(condition, what: str) -> None:
    """Poll ``condition``; fail (never hang) when it is not met within WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up after {WAIT_SECONDS} s waiting for {what}.")
        time.sleep(0.01)


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

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: any(status == 200 for _, status in results), "a first accepted call")
        services.key_deactivate(key=key, actor=services.Actor.cli("test"))
        committed = time.monotonic()
        wait_until(
            lambda: sum(1 for started, _ in results if started > committed) >= 20,
            "20 calls started after the deactivation",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=WAIT_SECONDS)

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
    wrong = key_format().generate(key_id=known.key_id).plaintext
    for _ in range(3):
        shared_nat.get("/api/v1/read", headers={"X-Api-Key": wrong})
    calls_before = argon2_calls["verify"]

    # The integration whose key this process verified keeps working from that address...
    assert shared_nat.get("/api/v1/read", headers={"X-Api-Key": known_plaintext}).status_code == 200
    # ...while guesses, and any key not verified recently, are answered 429 without argon2.
    for raw in (wrong, fresh_plaintext, key_format().generate().plaintext, "nunu_garbage"):
        response = shared_nat.get("/api/v1/read", headers={"X-Api-Key": raw})
        assert response.status_code == 429
        assert response.json()["code"] == "RATE_LIMITED"
    assert shared_nat.get("/api/v1/read").status_code == 429
    assert argon2_calls["verify"] == calls_before


# --- Shared digests and the argon2 budget (SPEC §10) ------------------------------


def _another_process() -> None:
    """What a request in another worker (or after a restart) sees: the shared cache,
    but nothing of this process's memo."""
    authentication.verified_secrets.clear()
    ratelimit.forget_spent_total()


def _from(n: int) -> dict[str, str]:
    """A different client address per request, as a botnet or one IPv6 /64 gives."""
    return {"REMOTE_ADDR": f"198.51.{n // 250}.{n % 250 + 1}"}


def test_a_key_verified_by_one_process_passes_in_every_other_without_argon2(
    argon2_calls, project, make_key, api
):
    _, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    for _ in range(3):
        _another_process()
        assert api(plaintext).get("/api/v1/read").status_code == 200
    assert argon2_calls["verify"] == 1


def test_a_wrong_secret_for_a_key_with_a_shared_digest_is_refused_without_argon2(
    argon2_calls, project, make_key, api
):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    _another_process()
    for n in range(20):
        wrong = key_format().generate(key_id=key.key_id).plaintext
        response = api(wrong).get("/api/v1/read", **_from(n))
        assert response.status_code == 401
        assert response.json()["code"] == "INVALID_API_KEY"
    assert argon2_calls["verify"] == 1
    assert api(plaintext).get("/api/v1/read").status_code == 200  # still working


def test_past_its_budget_a_key_ids_secrets_are_refused_without_argon2(
    settings, argon2_calls, monkeypatch, project, make_key, api
):
    now = {"t": 300 * 5000.0}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    settings.APIKEYS_SECRET_FAILURES = 3
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    key, plaintext = make_key(project, [READ_RUNS])  # never verified: no digest anywhere
    answers = []
    for n in range(25):  # from 25 addresses, so no per-IP limit is reached
        wrong = key_format().generate(key_id=key.key_id).plaintext
        answers.append(api(wrong).get("/api/v1/read", **_from(n)).json()["code"])
    assert set(answers) == {"INVALID_API_KEY"}
    assert argon2_calls["verify"] == 3
    # The right secret, never verified by any process, waits for the window too.
    assert api(plaintext).get("/api/v1/read", **_from(99)).status_code == 401
    assert argon2_calls["verify"] == 3
    now["t"] += 300
    assert api(plaintext).get("/api/v1/read", **_from(99)).status_code == 200
    assert argon2_calls["verify"] == 4


def test_past_its_budget_a_key_verified_recently_keeps_working_everywhere(
    settings, argon2_calls, project, make_key, api
):
    settings.APIKEYS_SECRET_FAILURES = 2
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    for _ in range(5):  # the budget is spent (by guesses from another cluster, say)
        ratelimit.record_secret_failure(key.key_id)
    _another_process()
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert (
        api(key_format().generate(key_id=key.key_id).plaintext).get("/api/v1/read").status_code
        == 401
    )
    assert argon2_calls["verify"] == 1


def test_a_flood_over_many_key_ids_costs_argon2_only_up_to_the_total_budget(
    settings, argon2_calls, monkeypatch, project, make_key, api
):
    now = {"t": 300 * 5000.0 + 100}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    settings.APIKEYS_SECRET_FAILURES = 10  # per id: never reached below
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 4
    settings.APIKEYS_SECRET_FAILURES_WINDOW = 300
    warm, warm_plaintext = make_key(project, [READ_RUNS], name="in use")
    assert api(warm_plaintext).get("/api/v1/read").status_code == 200  # verified once
    _, cold_plaintext = make_key(project, [READ_RUNS], name="unused lately")
    targets = [make_key(project, [READ_RUNS], name=f"target {n}")[0] for n in range(12)]

    answers = []
    for n, target in enumerate(targets):  # one guess per id, each from its own address
        wrong = key_format().generate(key_id=target.key_id).plaintext
        response = api(wrong).get("/api/v1/read", **_from(n))
        answers.append((response.status_code, response.json()["code"]))
    assert answers[:4] == [(401, "INVALID_API_KEY")] * 4
    assert answers[4:] == [(429, "RATE_LIMITED")] * 8
    assert argon2_calls["verify"] == 1 + 4  # the warm key's first use, then the budget

    refused = api(cold_plaintext).get("/api/v1/read", **_from(50))
    assert refused.status_code == 429  # not "invalid": the owner is told to retry
    assert refused["Retry-After"] == "200"
    assert refused.json()["details"]["retry_after"] == 200
    _another_process()
    assert api(warm_plaintext).get("/api/v1/read", **_from(51)).status_code == 200
    wrong_warm = key_format().generate(key_id=warm.key_id).plaintext
    assert api(wrong_warm).get("/api/v1/read", **_from(52)).json()["code"] == "INVALID_API_KEY"
    assert argon2_calls["verify"] == 5  # none of it ran argon2

    now["t"] += 201  # a second into the next window the count has decayed under 4
    assert api(cold_plaintext).get("/api/v1/read", **_from(50)).status_code == 200
    assert argon2_calls["verify"] == 6


def test_past_the_total_budget_a_guess_is_answered_without_asking_the_clients_limit(
    settings, argon2_calls, monkeypatch, project, make_key, api
):
    """The total is asked first: a flood past it parses no address and reads no
    per-address counter, and its answer says when the suspension ends, even for a
    client that is over its own limit too."""
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 1
    settings.APIKEYS_RATE_LIMIT_FAILURES = 1
    target, _ = make_key(project, [READ_RUNS])
    wrong = key_format().generate(key_id=target.key_id).plaintext
    assert api(wrong).get("/api/v1/read", **_from(1)).status_code == 401  # spends the total
    assert argon2_calls["verify"] == 1

    asked = []
    real_blocked = ratelimit.blocked
    monkeypatch.setattr(ratelimit, "blocked", lambda ip: asked.append(ip) or real_blocked(ip))
    response = api(wrong).get("/api/v1/read", **_from(2))
    assert response.status_code == 429
    assert "cannot be checked for now" in response.json()["error"]
    assert asked == []
    # The first client is over its own limit as well: still the total's answer.
    response = api(wrong).get("/api/v1/read", **_from(1))
    assert "cannot be checked for now" in response.json()["error"]
    assert argon2_calls["verify"] == 1

    settings.APIKEYS_SECRET_FAILURES_TOTAL = 0  # no total: the client's own limit answers
    response = api(wrong).get("/api/v1/read", **_from(1))
    assert response.status_code == 429
    assert "from this address" in response.json()["error"]
    assert asked == ["198.51.0.2"]


def test_a_refusal_is_logged_once_by_the_guard_and_not_again_by_django(
    caplog, project, make_key, api
):
    target, _ = make_key(project, [READ_RUNS])
    wrong = key_format().generate(key_id=target.key_id).plaintext
    with caplog.at_level("INFO"):
        assert api(wrong).get("/api/v1/read").status_code == 401
        assert api("").get("/api/v1/read").status_code == 401
    lines = [(r.name, r.levelname) for r in caplog.records]
    assert lines == [("apikeys.requests", "WARNING")] * 2
    assert '"code": "INVALID_API_KEY"' in caplog.records[0].getMessage()
    # A 4xx the guard did not make is still Django's to log.
    with caplog.at_level("INFO"):
        caplog.clear()
        assert Client().get("/nowhere/").status_code == 404
    assert [r.name for r in caplog.records] == ["django.request"]


def test_a_new_key_works_at_once_everywhere_without_argon2_even_during_a_flood(
    settings, argon2_calls, project, make_key, api
):
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 1
    ratelimit.record_secret_failure("x" * 12)  # a flood has spent the total budget
    key, plaintext = make_key(project, [READ_RUNS], remembered=True)  # as created
    _another_process()  # created by the dashboard, first used by a worker elsewhere
    assert api(plaintext).get("/api/v1/read", **_from(1)).status_code == 200
    assert argon2_calls["verify"] == 0
    # Forgotten (unused for APIKEYS_VERIFIED_TIMEOUT), it costs one argon2 run again.
    digests.forget_secret(key)
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 0
    assert api(plaintext).get("/api/v1/read", **_from(2)).status_code == 200
    assert argon2_calls["verify"] == 1


def test_the_shared_digest_is_a_keyed_digest_not_the_secret_or_its_hash(project, make_key, api):
    import hashlib

    from apikeys.guard.sharedcache import shared_cache

    key, plaintext = make_key(project, [READ_RUNS])
    api(plaintext).get("/api/v1/read")
    secret = key_format().parse(plaintext).secret  # type: ignore[union-attr]
    derived, fingerprint = authentication.digest_key()
    stored = shared_cache.get(authentication.shared_digest_key(key.key_id, fingerprint))
    assert isinstance(stored, bytes) and len(stored) == 16 + 32  # the hash's tag, the digest
    assert hashlib.sha256(secret.encode()).digest() not in stored
    assert secret.encode() not in stored and key.hashed_secret.encode() not in stored
    assert stored[:16] == digests.hash_tag(key.hashed_secret)
    assert stored[16:] == keys.verified_digest(derived, key.hashed_secret, secret)


def test_a_new_site_secret_key_never_misreads_digests_made_under_the_old_one(
    settings, argon2_calls, project, make_key, api
):
    """A rolling deploy: processes with the old and the new SECRET_KEY share the cache."""
    _, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    _another_process()
    settings.SECRET_KEY = "another-site-secret-key-for-this-test-only-0123456789"
    assert api(plaintext).get("/api/v1/read").status_code == 200  # verified again, not refused
    assert argon2_calls["verify"] == 2


def test_a_digest_unused_for_its_lifetime_is_forgotten_and_one_in_use_is_refreshed(
    settings, argon2_calls, monkeypatch, project, make_key, api
):
    from apikeys.guard.sharedcache import shared_cache

    now = {"t": 1000.0}
    monkeypatch.setattr(digests, "now", lambda: now["t"])
    settings.APIKEYS_VERIFIED_TIMEOUT = 60
    _, plaintext = make_key(project, [READ_RUNS])
    shares = []
    original_set = shared_cache.set
    monkeypatch.setattr(
        shared_cache, "set", lambda k, v, t: (shares.append(t), original_set(k, v, t))
    )
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert shares == [60.0]
    now["t"] += 31  # past half its lifetime: the next use writes the shared entry again
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert shares == [60.0, 60.0]
    now["t"] += 61  # unused for a lifetime: forgotten here (and expired in the cache)
    shared_cache.memory.clear()
    from django.core.cache import cache

    cache.clear()
    assert api(plaintext).get("/api/v1/read").status_code == 200
    assert argon2_calls["verify"] == 2
