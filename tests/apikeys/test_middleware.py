"""The /api/ guard (apikeys.middleware): SPEC §4's checks, in order, with their answers."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.http import HttpResponse, HttpResponseNotFound
from django.test import Client, RequestFactory
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.conf import apikeys_settings, key_format
from apikeys.guard.errors import REQUEST_ID_HEADER
from apikeys.middleware import APIKeyMiddleware
from apikeys.models import APIKey, APIKeyRefusal

WWW_AUTHENTICATE = 'ApiKey header="X-Api-Key"'


@pytest.fixture(autouse=True)
def guard_urls(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)  # test client answers and direct calls alike
    assert body["code"] == code
    assert body["error"].endswith(".")
    assert body["details"]["request_id"] == response["X-Request-Id"]
    return body


# --- Passing ------------------------------------------------------------------


def test_valid_key_reaches_the_view_with_request_api_key_set(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    response = api(plaintext).get("/api/v1/read")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "key_id": key.key_id,
        "project_id": project.pk,
        "method": "GET",
    }


def test_every_answer_carries_a_request_id(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    ok = api(plaintext).get("/api/v1/read")
    refused = api().get("/api/v1/read")
    assert ok["X-Request-Id"] and refused["X-Request-Id"]
    assert ok["X-Request-Id"] != refused["X-Request-Id"]


def test_a_plain_incoming_request_id_is_kept_and_a_hostile_one_replaced(api):
    kept = api().get("/api/v1/read", headers={"X-Request-Id": "ci-build-42.7"})
    assert kept["X-Request-Id"] == "ci-build-42.7"
    replaced = api().get("/api/v1/read", headers={"X-Request-Id": "x\r\nSet-Cookie: a=b"})
    assert replaced["X-Request-Id"] != "x\r\nSet-Cookie: a=b"
    assert len(replaced["X-Request-Id"]) == 32


def test_csrf_is_not_enforced_under_api(project, make_key):
    _, plaintext = make_key(project, [OPERATE_RUNS])
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/runs", headers={"X-Api-Key": plaintext})
    assert response.status_code == 200


def test_paths_outside_api_are_not_guarded(db, client):
    response = client.get("/elsewhere/undeclared")
    assert response.status_code == 200


# --- 1. HTTPS -----------------------------------------------------------------


def test_plain_http_in_production_is_refused_with_403_not_redirected(
    settings, project, make_key, api
):
    settings.APIKEYS_REQUIRE_HTTPS = True
    settings.SECURE_SSL_REDIRECT = True
    _, plaintext = make_key(project, [READ_RUNS])
    response = api(plaintext).get("/api/v1/read")
    assert_error(response, 403, "HTTPS_REQUIRED")
    assert "Location" not in response


def test_https_and_a_trusted_forwarded_proto_both_pass(settings, project, make_key, api):
    settings.APIKEYS_REQUIRE_HTTPS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read", secure=True).status_code == 200
    forwarded = api(plaintext).get("/api/v1/read", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.status_code == 200


def test_https_is_checked_before_the_key(settings, api, db):
    settings.APIKEYS_REQUIRE_HTTPS = True
    assert_error(api().get("/api/v1/read"), 403, "HTTPS_REQUIRED")


# --- 2. Missing key -----------------------------------------------------------


def test_a_request_without_key_is_refused_with_401(api, db):
    response = api().get("/api/v1/read")
    assert_error(response, 401, "MISSING_API_KEY")
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE


def test_a_key_in_the_query_string_is_never_read_and_the_answer_says_so(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    response = api().get(f"/api/v1/read?api_key={plaintext}")
    body = assert_error(response, 401, "MISSING_API_KEY")
    assert "X-Api-Key header" in body["error"]
    assert "never read" in body["error"]


# --- 3. Invalid key -----------------------------------------------------------


def _variants(plaintext: str, key: APIKey) -> dict[str, str]:
    parsed = key_format().parse(plaintext)
    assert parsed is not None
    flipped = "A" if plaintext[-1] != "A" else "B"
    other_secret = key_format().generate(key_id=key.key_id).plaintext
    return {
        "malformed": "not a key at all",
        "bad checksum": plaintext[:-1] + flipped,
        "unknown id": key_format().generate().plaintext,
        "wrong secret": other_secret,
        "too long": plaintext + "x" * 10_000,
    }


@pytest.mark.parametrize(
    "variant", ["malformed", "bad checksum", "unknown id", "wrong secret", "too long"]
)
def test_every_kind_of_invalid_key_gets_the_same_401(variant, project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    response = api(_variants(plaintext, key)[variant]).get("/api/v1/read")
    body = assert_error(response, 401, "INVALID_API_KEY")
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    assert set(body["details"]) == {"request_id"}


def test_a_deleted_key_is_refused_on_the_very_next_request(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200
    services.key_delete(key=key, actor=services.Actor.cli("test"))
    assert_error(api(plaintext).get("/api/v1/read"), 401, "INVALID_API_KEY")


def test_a_wrong_secret_for_a_disabled_key_is_401_not_403(project, make_key, api):
    key, _ = make_key(project, [READ_RUNS])
    services.key_deactivate(key=key, actor=services.Actor.cli("test"))
    wrong = key_format().generate(key_id=key.key_id).plaintext
    assert_error(api(wrong).get("/api/v1/read"), 401, "INVALID_API_KEY")


# --- 4, 5. Expired, disabled --------------------------------------------------


def test_expired_key_is_refused_with_403(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS], expires_at=timezone.now() + timedelta(days=1))
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = assert_error(api(plaintext).get("/api/v1/read"), 403, "EXPIRED_API_KEY")
    assert body["details"]["key_id"] == key.key_id


def test_an_expired_and_disabled_key_answers_expired_first(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS], expires_at=timezone.now() + timedelta(days=1))
    APIKey.objects.filter(pk=key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1), is_active=False
    )
    assert_error(api(plaintext).get("/api/v1/read"), 403, "EXPIRED_API_KEY")


def test_deactivated_key_is_refused_on_the_very_next_request(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200  # now remembered as verified
    services.key_deactivate(key=key, actor=services.Actor.cli("test"))
    assert_error(api(plaintext).get("/api/v1/read"), 403, "DISABLED_API_KEY")
    services.key_reactivate(key=key, actor=services.Actor.cli("test"))
    assert api(plaintext).get("/api/v1/read").status_code == 200


def test_refusals_of_a_known_key_are_counted_per_key_and_reason(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    services.key_deactivate(key=key, actor=services.Actor.cli("test"))
    api(plaintext).get("/api/v1/read")
    refusal = APIKeyRefusal.objects.get(key=key)
    assert (refusal.code, refusal.count, refusal.last_ip) == ("DISABLED_API_KEY", 1, "127.0.0.1")


# --- 6. Permissions -----------------------------------------------------------


def test_a_key_without_the_permission_is_refused_naming_what_is_needed(project, make_key, api):
    _, plaintext = make_key(project, [OPERATE_RUNS])
    response = api(plaintext).get("/api/v1/read")
    body = assert_error(response, 403, "MISSING_PERMISSION")
    assert body["details"]["required_permissions"] == [READ_RUNS]
    assert response["X-Accepted-Permissions"] == READ_RUNS
    assert READ_RUNS in body["error"]


def test_one_url_can_need_a_different_permission_per_method(project, make_key, api):
    _, reader = make_key(project, [READ_RUNS])
    assert api(reader).get("/api/v1/runs").status_code == 200
    refused = api(reader).post("/api/v1/runs", {})
    assert_error(refused, 403, "MISSING_PERMISSION")
    assert refused["X-Accepted-Permissions"] == OPERATE_RUNS


def test_a_view_that_declares_nothing_refuses_every_key(project, make_key, api):
    _, plaintext = make_key(project)  # every permission
    body = assert_error(api(plaintext).get("/api/v1/undeclared"), 403, "MISSING_PERMISSION")
    assert body["details"]["required_permissions"] == []


def test_public_and_self_authenticated_views_need_no_key(api, db):
    assert api().get("/api/openapi.json").status_code == 200
    assert api().get("/api/v1/upload-part").status_code == 200


# --- JSON for Django's own errors -------------------------------------------


def test_an_unknown_path_needs_a_key_first_then_answers_json_404(project, make_key, api):
    assert_error(api().get("/api/v1/nothing-here"), 401, "MISSING_API_KEY")
    _, plaintext = make_key(project, [READ_RUNS])
    assert_error(api(plaintext).get("/api/v1/nothing-here"), 404, "NOT_FOUND")


def test_the_api_prefix_without_its_slash_is_the_apis_too(project, make_key, api):
    assert_error(api().get("/api"), 401, "MISSING_API_KEY")
    _, plaintext = make_key(project, [READ_RUNS])
    assert_error(api(plaintext).get("/api"), 404, "NOT_FOUND")
    assert api().get("/apiary").status_code != 401  # a site path that merely starts alike


def test_a_wrong_method_answers_json_405(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    response = api(plaintext).request("DELETE", "/api/v1/read")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET"


def test_a_method_a_by_method_view_does_not_map_needs_no_permission_but_checks_1_to_6(
    project, make_key, api
):
    """apikeys.decorators: such a method still needs a usable key, from an allowed address."""
    _, other_permission = make_key(project, [MANAGE_BUILD_STORAGE])
    assert api(other_permission).request("DELETE", "/api/v1/runs").status_code == 200
    assert_error(api().request("DELETE", "/api/v1/runs"), 401, "MISSING_API_KEY")
    key, expired = make_key(project, [READ_RUNS])
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(api(expired).request("DELETE", "/api/v1/runs"), 403, "EXPIRED_API_KEY")
    # The test client comes from 127.0.0.1.
    _, fenced = make_key(project, [READ_RUNS], allowed_ips=["203.0.113.0/24"])
    assert_error(api(fenced).request("DELETE", "/api/v1/runs"), 403, "IP_NOT_ALLOWED")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/missing", 404, "NOT_FOUND"),
        ("/api/v1/bad", 400, "BAD_REQUEST"),
        ("/api/v1/crash", 500, "INTERNAL_ERROR"),
    ],
)
def test_errors_raised_in_views_answer_json_even_with_debug(
    debug, path, status, code, settings, project, make_key, api
):
    settings.DEBUG = debug
    _, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    client.client.raise_request_exception = False
    assert_error(client.get(path), status, code)


def test_a_disallowed_host_answers_json_400(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    client.client.raise_request_exception = False
    response = client.get("/api/v1/read", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


# --- 7. Rate limit ------------------------------------------------------------


def test_too_many_failures_from_one_ip_answer_429_with_retry_after(settings, project, make_key):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 3
    key, plaintext = make_key(project, [READ_RUNS])
    wrong = key_format().generate(key_id=key.key_id).plaintext
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        response = attacker.get("/api/v1/read", headers={"X-Api-Key": wrong})
        assert response.status_code == 401
    blocked = attacker.get("/api/v1/read", headers={"X-Api-Key": wrong})
    body = assert_error(blocked, 429, "RATE_LIMITED")
    assert 1 <= int(blocked["Retry-After"]) <= apikeys_settings.RATE_LIMIT_WINDOW
    assert body["details"]["retry_after"] == int(blocked["Retry-After"])
    # The limit is per IP: another client with the right key is not affected.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.get("/api/v1/read", headers={"X-Api-Key": plaintext}).status_code == 200


def test_missing_permission_does_not_count_towards_the_rate_limit(settings, project, make_key):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 2
    _, plaintext = make_key(project, [OPERATE_RUNS])
    client = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(4):
        response = client.get("/api/v1/read", headers={"X-Api-Key": plaintext})
        assert response.status_code == 403


def test_the_rate_limit_can_be_switched_off(settings, db):
    settings.APIKEYS_RATE_LIMIT_ENABLED = False
    settings.APIKEYS_RATE_LIMIT_FAILURES = 1
    client = Client(REMOTE_ADDR="203.0.113.11")
    for _ in range(3):
        assert client.get("/api/v1/read").status_code == 401


# --- Secrets stay out of logs -------------------------------------------------


def test_no_log_line_contains_the_key(caplog, project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    services.key_update(key=key, actor=services.Actor.cli("t"), permissions=[OPERATE_RUNS])
    with caplog.at_level(logging.DEBUG):
        api(plaintext).get("/api/v1/read")
        api(plaintext).get(f"/api/v1/read?api_key={plaintext}")
        api(plaintext).get("/api/v1/crash")
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert key.key_id in logged
    assert key_format().parse(plaintext).secret not in logged  # type: ignore[union-attr]


# --- Client address -----------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.5", "10.0.0.5"),  # no proxy trusted: the header is ignored
        (1, "203.0.113.7, 198.51.100.1", "10.0.0.5", "198.51.100.1"),  # the proxy's own entry
        (2, "203.0.113.7, 198.51.100.1", "10.0.0.5", "203.0.113.7"),
        (2, "198.51.100.1", "10.0.0.5", "10.0.0.5"),  # fewer hops than proxies: REMOTE_ADDR
        (1, "not-an-ip", "10.0.0.5", "10.0.0.5"),
        (0, "", "", None),
    ],
)
def test_the_client_ip_trusts_only_the_configured_proxies(
    settings, rf, proxies, forwarded, remote, expected
):
    from apikeys.guard.clientip import client_ip

    settings.APIKEYS_TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/api/v1/read", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected


def test_usage_records_no_address_when_the_client_has_none(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read", REMOTE_ADDR="").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert key.last_used_ip is None


# --- The middleware called directly (RequestFactory and a dummy view) --------


class DummyView:
    """Stands for everything after the middleware; records what it was given."""

    def __init__(self, response=None, error: Exception | None = None) -> None:
        self.response = response
        self.error = error
        self.requests: list = []

    def __call__(self, request):
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return self.response if self.response is not None else HttpResponse("dummy")


def test_called_directly_a_path_outside_the_api_passes_untouched():
    view = DummyView()
    request = RequestFactory().get("/projects/")
    response = APIKeyMiddleware(view)(request)
    assert view.requests == [request]
    assert response.content == b"dummy"
    assert REQUEST_ID_HEADER not in response
    assert not hasattr(request, "api_key")


def test_called_directly_a_request_without_a_key_never_reaches_the_view(db):
    view = DummyView()
    response = APIKeyMiddleware(view)(RequestFactory().get("/api/v1/read"))
    assert view.requests == []
    body = assert_error(response, 401, "MISSING_API_KEY")
    assert "X-Api-Key" in body["error"]


def test_called_directly_a_valid_key_reaches_the_view_with_the_key_and_request_id(
    project, make_key
):
    key, plaintext = make_key(project, [READ_RUNS])
    view = DummyView()
    request = RequestFactory().get("/api/v1/read", headers={"X-Api-Key": plaintext})
    response = APIKeyMiddleware(view)(request)
    assert view.requests == [request]
    assert request.api_key.pk == key.pk
    assert response.content == b"dummy"
    assert response[REQUEST_ID_HEADER] == request.request_id


def test_called_directly_a_key_without_the_views_permission_never_reaches_it(project, make_key):
    _, plaintext = make_key(project, [OPERATE_RUNS])
    view = DummyView()
    request = RequestFactory().get("/api/v1/read", headers={"X-Api-Key": plaintext})
    response = APIKeyMiddleware(view)(request)
    assert view.requests == []
    assert assert_error(response, 403, "MISSING_PERMISSION")["details"]["required_permissions"] == [
        READ_RUNS
    ]


def test_called_directly_an_html_error_from_the_view_becomes_json(project, make_key):
    _, plaintext = make_key(project, [READ_RUNS])
    view = DummyView(response=HttpResponseNotFound("<h1>Not Found</h1>"))
    request = RequestFactory().get("/api/v1/read", headers={"X-Api-Key": plaintext})
    assert_error(APIKeyMiddleware(view)(request), 404, "NOT_FOUND")


def test_called_directly_a_view_that_raises_is_a_json_500_not_a_traceback(
    project, make_key, caplog
):
    _, plaintext = make_key(project, [READ_RUNS])
    view = DummyView(error=RuntimeError("boom"))
    request = RequestFactory().get("/api/v1/read", headers={"X-Api-Key": plaintext})
    with caplog.at_level(logging.ERROR):
        response = APIKeyMiddleware(view)(request)
    assert_error(response, 500, "INTERNAL_ERROR")
    assert plaintext not in caplog.text


# --- Where keys are presented (APIKEYS_HEADER, APIKEYS_API_PREFIX, APIKEYS_KEY_PREFIX) ---


def test_the_key_header_is_the_hosts_setting(settings, project, make_key):
    settings.APIKEYS_HEADER = "X-Acme-Key"
    _, plaintext = make_key(project, [READ_RUNS])
    client = Client()
    assert client.get("/api/v1/read", headers={"X-Acme-Key": plaintext}).status_code == 200
    refused = client.get("/api/v1/read", headers={"X-Api-Key": plaintext})
    body = assert_error(refused, 401, "MISSING_API_KEY")
    assert "X-Acme-Key header" in body["error"]
    assert refused["WWW-Authenticate"] == 'ApiKey header="X-Acme-Key"'


def test_the_guarded_prefix_is_the_hosts_setting(settings, db, api):
    settings.APIKEYS_API_PREFIX = "/elsewhere/"
    assert_error(api().get("/elsewhere/undeclared"), 401, "MISSING_API_KEY")
    # Outside the prefix the middleware steps aside, but a declared view still judges
    # the request itself (its decorator fails closed), with the same answers.
    assert_error(api().get("/api/v1/read"), 401, "MISSING_API_KEY")


def test_a_key_made_under_another_prefix_is_invalid(settings, project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    settings.APIKEYS_KEY_PREFIX = "acme"
    assert_error(api(plaintext).get("/api/v1/read"), 401, "INVALID_API_KEY")
    acme_key, acme_plaintext = make_key(project, [READ_RUNS])
    assert acme_plaintext.startswith(f"acme_{acme_key.key_id}_")
    assert acme_key.masked.startswith("acme_")
    assert api(acme_plaintext).get("/api/v1/read").status_code == 200


# --- What an accepted request costs ---------------------------------------------


CACHE_METHODS = ("get", "get_many", "set", "set_many", "add", "incr", "decr", "delete", "touch")


@pytest.fixture
def cache_calls(monkeypatch):
    """Every call the guard makes to the shared cache, through apikeys' wrapper or
    straight to Django's cache behind it."""
    from django.core.cache import caches

    from apikeys.guard.sharedcache import shared_cache

    calls: list[str] = []
    backend = caches[apikeys_settings.CACHE_ALIAS]
    for owner, label in ((shared_cache, "shared_cache"), (backend, "cache")):
        for name in CACHE_METHODS:
            original = getattr(owner, name, None)
            if original is None:
                continue

            def counting(*args, _original=original, _name=f"{label}.{name}", **kwargs):
                calls.append(_name)
                return _original(*args, **kwargs)

            monkeypatch.setattr(owner, name, counting)
    return calls


@pytest.fixture
def argon2_calls(monkeypatch):
    """Every argon2 hash or verification, wherever it is asked for."""
    import argon2

    calls: list[str] = []
    for name in ("hash", "verify", "check_needs_rehash"):
        original = getattr(argon2.PasswordHasher, name)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(argon2.PasswordHasher, name, counting)
    return calls


def test_an_accepted_request_with_a_recently_verified_key_costs_one_query_and_nothing_else(
    project, make_key, api, cache_calls, argon2_calls
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    assert client.get("/api/v1/read").status_code == 200  # verified, first use written
    assert argon2_calls and cache_calls  # the spies see the first request's work
    cache_calls.clear()
    argon2_calls.clear()

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/read").status_code == 200
    # The key's row, read fresh (SPEC §5): status, expiry and permissions.
    assert [q["sql"] for q in queries.captured_queries] == [
        q["sql"] for q in queries.captured_queries if "apikeys_apikey" in q["sql"]
    ]
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert cache_calls == []
    assert argon2_calls == []


def test_an_accepted_request_resolves_its_path_once(project, make_key, api, monkeypatch):
    from django.urls.resolvers import URLResolver

    _, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    client.get("/api/v1/read")  # the guard's first look at this path
    resolved: list[str] = []
    original = URLResolver.resolve

    def counting(self, path):
        if self.pattern.regex.pattern == "^/":  # the root resolver, not the nested ones
            resolved.append(path)
        return original(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counting)
    for _ in range(3):
        assert client.get("/api/v1/read").status_code == 200
    assert resolved == ["/api/v1/read"] * 3  # Django's own resolution only
