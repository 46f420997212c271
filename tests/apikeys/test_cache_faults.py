"""SPEC §10: with Redis stopped or frozen, every answer of the §4 table and the dashboard's
wizard, rotation and sign-in still come, right and in bounded time.

Each test starts its own redis-server on a free port, points the cache at it
exactly as production does for REDIS_URL (0.25 s timeouts), then stops it
(SIGTERM) or freezes it (SIGSTOP) by the PID it started. ``finishes`` fails a
request that hangs (a generous bound, not a speed measurement).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, READ_RUNS
from apikeys import keys, services
from apikeys.conf import key_format
from apikeys.guard.sharedcache import shared_cache
from apikeys.models import APIKey
from tests.faults import finishes, redis_caches

KEY_RE = re.compile(key_format().pattern)
RUNS = "/api/v1/runs"


@pytest.fixture(params=["stopped", "frozen"])
def broken_redis(request, settings, private_redis):
    """The cache is a private Redis, broken one way or the other for the test's body."""
    settings.CACHES = redis_caches(private_redis.url)
    shared_cache.reset()
    fault = request.param
    if fault == "stopped":
        private_redis.stop()
    else:
        private_redis.freeze()
    yield fault
    shared_cache.reset()  # private_redis thaws and stops it


def call(method: str, path: str, key: str | None = None, *, ip: str = "192.0.2.10", **kw):
    headers = {"X-Api-Key": key} if key else {}
    client = Client(REMOTE_ADDR=ip)
    return finishes(lambda: client.generic(method, path, headers=headers, **kw))


def code_of(response) -> str:
    return response.json()["code"]


def test_every_answer_of_the_guard_table_while_the_cache_is_down(
    broken_redis, project, make_key, settings
):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 4
    valid, valid_key = make_key(project, [READ_RUNS])
    _, expired_key = make_key(project, [READ_RUNS], expires_at=timezone.now() + timedelta(days=1))
    APIKey.objects.filter(key_id=key_format().parse(expired_key).key_id).update(  # type: ignore[union-attr]
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    disabled, disabled_key = make_key(project, [READ_RUNS])
    services.key_deactivate(key=disabled, actor=services.Actor.cli("test"))
    _, builds_only_key = make_key(project, [MANAGE_BUILD_STORAGE])
    wrong_key = key_format().generate(key_id=valid.key_id).plaintext

    answers = {
        "no key": call("GET", RUNS, ip="192.0.2.1"),
        "wrong key": call("GET", RUNS, wrong_key, ip="192.0.2.2"),
        "expired": call("GET", RUNS, expired_key, ip="192.0.2.3"),
        "disabled": call("GET", RUNS, disabled_key, ip="192.0.2.4"),
        "missing permission": call("GET", RUNS, builds_only_key, ip="192.0.2.5"),
        "valid": call("GET", RUNS, valid_key, ip="192.0.2.6"),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "no key": 401,
        "wrong key": 401,
        "expired": 403,
        "disabled": 403,
        "missing permission": 403,
        "valid": 200,
    }
    assert code_of(answers["no key"]) == "MISSING_API_KEY"
    assert code_of(answers["wrong key"]) == "INVALID_API_KEY"
    assert code_of(answers["expired"]) == "EXPIRED_API_KEY"
    assert code_of(answers["disabled"]) == "DISABLED_API_KEY"
    assert code_of(answers["missing permission"]) == "MISSING_PERMISSION"

    # The rate limit still holds, counted in this process's memory.
    statuses = [call("GET", RUNS, ip="203.0.113.50").status_code for _ in range(6)]
    assert statuses == [401, 401, 401, 401, 429, 429]
    limited = call("GET", RUNS, ip="203.0.113.50")
    assert code_of(limited) == "RATE_LIMITED" and int(limited["Retry-After"]) > 0
    # ...and the valid key keeps working, from the same address too.
    assert call("GET", RUNS, valid_key, ip="203.0.113.50").status_code == 200
    assert shared_cache.degraded


def test_a_key_verified_before_the_outage_keeps_working_without_argon2(
    settings, private_redis, project, make_key, monkeypatch
):
    settings.CACHES = redis_caches(private_redis.url)
    shared_cache.reset()
    _, plaintext = make_key(project, [READ_RUNS])
    assert call("GET", RUNS, plaintext).status_code == 200
    calls = {"n": 0}
    original = keys.KeyHasher.verify
    monkeypatch.setattr(
        keys.KeyHasher,
        "verify",
        lambda self, h, s: calls.__setitem__("n", calls["n"] + 1) or original(self, h, s),
    )
    private_redis.freeze()
    try:
        for _ in range(5):
            assert call("GET", RUNS, plaintext).status_code == 200
    finally:
        private_redis.thaw()
    assert calls["n"] == 0


def test_the_per_key_budget_holds_in_memory_while_the_cache_is_down(
    broken_redis, project, make_key, settings, monkeypatch
):
    settings.APIKEYS_SECRET_FAILURES = 3
    key, _ = make_key(project, [READ_RUNS])
    calls = {"n": 0}
    original = keys.KeyHasher.verify
    monkeypatch.setattr(
        keys.KeyHasher,
        "verify",
        lambda self, h, s: calls.__setitem__("n", calls["n"] + 1) or original(self, h, s),
    )
    for n in range(10):
        wrong = key_format().generate(key_id=key.key_id).plaintext
        assert call("GET", RUNS, wrong, ip=f"198.51.100.{n + 1}").status_code == 401
    assert calls["n"] == 3


# --- The dashboard ----------------------------------------------------------------


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_wizard_creates_exactly_one_key_while_the_cache_is_down(broken_redis, admin_client):
    start = finishes(lambda: admin_client.get("/projects/acme/admin/api-keys/new/"))
    wizard = start["Location"].rsplit("/", 2)[0] + "/"
    for name, data in (
        ("details", {"name": "ci", "description": "nightly"}),
        ("permissions", {"preset": "ci-cd"}),
        ("expiration", {"expiry": "30"}),
    ):
        posted = finishes(
            lambda n=name, d=data: admin_client.post(f"{wizard}{n}/", d | {"action": "next"})
        )
        assert posted.status_code == 302
    first = finishes(lambda: admin_client.post(f"{wizard}review/", {"action": "create"}))
    second = finishes(lambda: admin_client.post(f"{wizard}review/", {"action": "create"}))
    assert first.status_code == 200 and KEY_RE.search(first.content.decode())
    assert second.status_code == 302 and not KEY_RE.search(second.content.decode())
    assert APIKey.objects.filter(name="ci").count() == 1


def test_rotation_rotates_once_while_the_cache_is_down(
    broken_redis, admin_client, project, make_key
):
    old, _ = make_key(project, [READ_RUNS])
    url = f"/projects/acme/admin/api-keys/{old.key_id}/rotate/"
    form = finishes(lambda: admin_client.get(url))
    assert form.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', form.content.decode())[1]  # type: ignore[index]
    first = finishes(lambda: admin_client.post(url, {"grace": "", "token": token}))
    again = finishes(lambda: admin_client.post(url, {"grace": "", "token": token}))
    assert first.status_code == 200 and KEY_RE.search(first.content.decode())
    assert again.status_code == 302
    assert old.successors.count() == 1


def test_sign_in_works_while_the_cache_is_down(broken_redis, admin_user):
    client = Client()
    wrong = finishes(
        lambda: client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    )
    assert wrong.status_code in (200, 429)  # the form again (or the throttle's page)
    right = finishes(
        lambda: client.post(
            "/accounts/login/",
            {"username": "alice", "password": "correct horse battery staple"},
        )
    )
    assert right.status_code == 302
    assert finishes(lambda: client.get("/")).status_code in (200, 302)
