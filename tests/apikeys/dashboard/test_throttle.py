"""The sign-in throttle (apikeys.dashboard.throttle): 429 past the limits, no hasher then."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from apikeys.dashboard import throttle
from apikeys.guard.sharedcache import shared_cache
from tests.faults import finishes, redis_caches

LOGIN = "/accounts/login/"
PASSWORD = "correct horse battery staple"
A = "192.0.2.10"
B = "198.51.100.20"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.APIKEYS_SIGNIN_USER_FAILURES = 3
    settings.APIKEYS_SIGNIN_CLIENT_FAILURES = 100
    settings.APIKEYS_SIGNIN_WINDOW = 900


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def sign_in(client: Client, username: str, password: str = "wrong", ip: str = A, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


@pytest.fixture
def hasher_calls():
    """Every hash the password hasher computes (the test settings' MD5 one: checking a
    password and hashing one for an unknown user both go through encode())."""
    calls = []
    original = MD5PasswordHasher.encode

    def encode(self, *args, **kwargs):
        calls.append("encode")
        return original(self, *args, **kwargs)

    with mock.patch.object(MD5PasswordHasher, "encode", encode):
        yield calls


def test_a_username_is_locked_out_from_a_client_after_the_limit(client, alice):
    for _ in range(3):
        assert sign_in(client, "alice").status_code == 200  # the form, with its error
    assert sign_in(client, "alice").status_code == 429
    assert sign_in(client, "alice", PASSWORD).status_code == 429  # even the right password


def test_the_lockout_is_for_that_username_from_that_client_only(client, alice, make_user):
    make_user("bob")
    for _ in range(3):
        sign_in(client, "alice")
    assert signed_in(sign_in(Client(), "alice", PASSWORD, ip=B))  # alice elsewhere
    assert signed_in(sign_in(Client(), "bob", PASSWORD, ip=A))  # another name from here
    assert Client().get(LOGIN, REMOTE_ADDR=A).status_code == 200  # the page itself opens


def test_a_username_in_another_case_is_the_same_username(client, alice):
    for name in ("alice", "ALICE", "Alice"):
        sign_in(client, name)
    assert sign_in(client, "aLiCe").status_code == 429


def test_a_client_is_locked_out_after_the_limit_whatever_the_usernames(client, alice, settings):
    settings.APIKEYS_SIGNIN_CLIENT_FAILURES = 4
    for n in range(4):
        assert sign_in(client, f"guess{n}").status_code == 200
    assert sign_in(client, "someone-new").status_code == 429
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    assert client.get(LOGIN, REMOTE_ADDR=A).status_code == 429  # the page says so at once
    assert signed_in(sign_in(Client(), "alice", PASSWORD, ip=B))


def test_the_429_page_says_when_to_try_again_in_the_dashboards_look(client, alice):
    for _ in range(3):
        sign_in(client, "alice")
    response = sign_in(client, "alice")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 900
    html = response.content.decode()
    assert "Too many sign-in attempts" in html
    assert "Try again in 15 minutes" in html
    assert " UTC</time>" in html
    assert 'id="site-name"' in html  # the site's header: the dashboard's base template
    assert 'href="/accounts/login/"' in html
    assert "Content-Security-Policy" in response.headers
    assert 'name="password"' not in html  # no form to keep guessing in


def test_retry_after_counts_down_with_the_clock(client, alice, monkeypatch):
    now = 1_800_000_000.0
    monkeypatch.setattr(throttle, "_now", lambda: now)
    for _ in range(3):
        sign_in(client, "alice")
    now += 600
    response = sign_in(client, "alice")
    assert response["Retry-After"] == "300"
    assert "Try again in 5 minutes" in response.content.decode()
    now += 301
    assert sign_in(client, "alice", PASSWORD).status_code == 302  # the lockout has ended


def test_past_the_limit_the_password_hasher_does_not_run(client, alice, hasher_calls):
    for _ in range(3):
        sign_in(client, "alice")
        sign_in(client, "nobody-by-that-name")  # an unknown user runs the hasher too
    assert len(hasher_calls) == 6  # the count is real: each attempt ran it once
    hasher_calls.clear()
    for _ in range(20):
        assert sign_in(client, "alice").status_code == 429
        assert sign_in(client, "alice", PASSWORD).status_code == 429
        assert sign_in(client, "nobody-by-that-name").status_code == 429
    assert hasher_calls == []


def test_a_success_forgets_that_usernames_failures_and_nothing_else(
    client, alice, make_user, settings
):
    settings.APIKEYS_SIGNIN_CLIENT_FAILURES = 7
    make_user("bob")
    for _ in range(2):
        sign_in(client, "alice")
        sign_in(client, "bob")
        sign_in(Client(), "alice", ip=B)
    assert signed_in(sign_in(Client(), "alice", PASSWORD))  # from A: 4 failures there so far

    for _ in range(3):  # alice from A starts again from zero: three more before the lockout
        assert sign_in(Client(), "alice").status_code == 200
    assert sign_in(Client(), "alice").status_code == 429
    assert sign_in(Client(), "bob", PASSWORD).status_code == 429  # A's total was kept: 7
    assert sign_in(Client(), "alice", ip=B).status_code == 200  # alice from B: 3rd failure
    assert sign_in(Client(), "alice", ip=B).status_code == 429


def test_ipv6_clients_are_counted_by_their_64(client, alice):
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::abcd", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
        sign_in(client, "alice", ip=host)
    assert sign_in(client, "alice", ip="2001:db8:1:2:dead:beef:0:1").status_code == 429
    assert sign_in(client, "alice", ip="2001:DB8:1:2::9").status_code == 429
    assert signed_in(sign_in(Client(), "alice", PASSWORD, ip="2001:db8:1:3::1"))


def test_an_ipv4_mapped_address_is_the_ipv4_client(client, alice):
    for ip in ("::ffff:192.0.2.10", "192.0.2.10", "::ffff:c000:20a"):
        sign_in(client, "alice", ip=ip)
    assert sign_in(client, "alice", ip=A).status_code == 429


def test_behind_a_proxy_the_forwarded_client_is_counted(client, alice, settings):
    settings.APIKEYS_TRUSTED_PROXY_COUNT = 1
    for n in range(3):  # what the client writes left of the proxy's entry is not trusted
        sign_in(client, "alice", ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, {B}")
    assert sign_in(client, "alice", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=B).status_code == 429
    assert signed_in(sign_in(Client(), "alice", PASSWORD, ip="10.0.0.1"))  # the proxy itself


def test_the_django_admin_sign_in_is_throttled_too(client, make_user):
    make_user("root", is_staff=True, is_superuser=True)
    for _ in range(3):
        client.post("/admin/login/", {"username": "root", "password": "x"}, REMOTE_ADDR=A)
    response = client.post(
        "/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR=A
    )
    assert response.status_code == 429


def test_a_limit_of_zero_switches_that_limit_off(client, alice, settings):
    settings.APIKEYS_SIGNIN_USER_FAILURES = 0
    for _ in range(10):
        assert sign_in(client, "alice").status_code == 200


# Sign-in runs in a thread (finishes()) and must see the test's user: no wrapping transaction.
@pytest.fixture
def on_redis(transactional_db, settings, private_redis):
    settings.CACHES = redis_caches(private_redis.url)
    settings.APIKEYS_CACHE_RETRY_INTERVAL = 60
    shared_cache.reset()
    yield private_redis
    shared_cache.reset()


def test_with_redis_the_count_is_shared_and_held_there(client, alice, on_redis):
    import redis

    for _ in range(3):
        sign_in(client, "alice")
    assert sign_in(client, "alice").status_code == 429
    keys = {key.decode() for key in redis.Redis(port=on_redis.port).keys("*signin*")}
    assert any(":locked" in key for key in keys)
    assert not any("alice" in key for key in keys)  # usernames only as a keyed digest
    assert not shared_cache.degraded


def test_with_redis_stopped_sign_in_works_and_still_locks_out_per_process(client, alice, on_redis):
    on_redis.stop()
    assert signed_in(finishes(lambda: sign_in(Client(), "alice", PASSWORD), within=10))
    for _ in range(3):
        assert finishes(lambda: sign_in(client, "alice"), within=10).status_code == 200
    assert sign_in(client, "alice").status_code == 429  # counted in this process's memory
    assert shared_cache.degraded


def test_with_redis_frozen_sign_in_answers_in_bounded_time(client, alice, on_redis):
    on_redis.freeze()
    assert signed_in(finishes(lambda: sign_in(Client(), "alice", PASSWORD), within=10))
    for _ in range(3):
        assert finishes(lambda: sign_in(client, "alice"), within=10).status_code == 200
    assert finishes(lambda: sign_in(client, "alice"), within=10).status_code == 429
