"""SPEC §4's answers, as every front end of the guard must give them (SPEC §12).

Each front end's test module sets the ``front_end`` fixture to the paths of its views
(under the API prefix, where the middleware also sees the request, and outside it)
and imports these tests; ``plain`` is the middleware's own view, the reference the
bodies are compared with. Nothing here knows which front end it is testing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from api.permissions import OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.conf import key_format
from apikeys.guard import authentication, usage
from apikeys.models import APIKey, APIKeyDailyUsage, APIKeyPermissionUsage, APIKeyRefusal

WWW_AUTHENTICATE = 'ApiKey header="X-Api-Key"'
PLAIN = "/api/plain/read"


@dataclass(frozen=True)
class Paths:
    read: str  # needs READ_RUNS on GET
    write: str  # needs OPERATE_RUNS on POST


@pytest.fixture(autouse=True)
def contrib_urls(settings):
    settings.ROOT_URLCONF = "tests.apikeys.contrib.urls"


def get(path: str, key: str | None = None, *, ip: str = "203.0.113.5", **headers):
    if key is not None:
        headers["X-Api-Key"] = key
    return Client(REMOTE_ADDR=ip).get(path, headers=headers)


def refusal(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["code"] == code
    assert body["error"].endswith(".")
    assert body["details"]["request_id"]
    return body


def same_as_the_middleware(body: dict, reference) -> None:
    """The front end's body is the middleware's, but for the request id."""
    expected = json.loads(reference.content)
    body["details"].pop("request_id")
    expected["details"].pop("request_id")
    assert body == expected


def test_a_good_key_is_accepted_and_request_auth_is_the_key(front_end, project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    response = get(front_end.read, plaintext)
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"auth": key.key_id, "api_key": key.key_id, "method": "GET"}


def test_a_missing_key_is_401_with_www_authenticate(front_end, db):
    response = get(front_end.read)
    body = refusal(response, 401, "MISSING_API_KEY")
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    same_as_the_middleware(body, get(PLAIN))


def test_an_invalid_key_is_401_with_www_authenticate(front_end, project, make_key):
    key, _ = make_key(project, [READ_RUNS])
    wrong = key_format().generate(key_id=key.key_id).plaintext
    response = get(front_end.read, wrong)
    body = refusal(response, 401, "INVALID_API_KEY")
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    same_as_the_middleware(body, get(PLAIN, wrong))


def test_an_expired_key_is_refused_with_403(front_end, project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = get(front_end.read, plaintext)
    body = refusal(response, 403, "EXPIRED_API_KEY")
    assert "WWW-Authenticate" not in response
    same_as_the_middleware(body, get(PLAIN, plaintext))


def test_a_deactivated_key_is_refused_with_403(front_end, project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    services.key_deactivate(key=key, actor=services.Actor.cli())
    body = refusal(get(front_end.read, plaintext), 403, "DISABLED_API_KEY")
    assert body["details"]["reason"] == "deactivated"
    same_as_the_middleware(body, get(PLAIN, plaintext))


def test_an_exposed_key_is_refused_with_403_saying_so(front_end, project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    services.key_expose(
        key=key, source=APIKey.ExposureSource.URL, actor=services.Actor.cli(), url=""
    )
    body = refusal(get(front_end.read, plaintext), 403, "DISABLED_API_KEY")
    assert body["details"]["reason"] == "exposed"


def test_a_key_outside_its_allowlist_is_refused_with_403(front_end, project, make_key):
    _, plaintext = make_key(project, [READ_RUNS], allowed_ips=["203.0.113.0/24"])
    assert get(front_end.read, plaintext, ip="203.0.113.9").status_code == 200
    response = get(front_end.read, plaintext, ip="198.51.100.1")
    body = refusal(response, 403, "IP_NOT_ALLOWED")
    assert body["details"]["client_ip"] == "198.51.100.1"
    same_as_the_middleware(body, get(PLAIN, plaintext, ip="198.51.100.1"))


def test_a_key_without_the_permission_is_refused_naming_it(front_end, project, make_key):
    soon = timezone.now() + timedelta(days=3)
    _, plaintext = make_key(project, [OPERATE_RUNS], expires_at=soon)
    response = get(front_end.read, plaintext)
    body = refusal(response, 403, "MISSING_PERMISSION")
    assert body["details"]["required_permissions"] == [READ_RUNS]
    assert response["X-Accepted-Permissions"] == READ_RUNS
    assert response["X-Api-Key-Expires"]  # it passed checks 1-5
    same_as_the_middleware(body, get(PLAIN, plaintext))


def test_the_permission_follows_the_method(front_end, project, make_key):
    _, reader = make_key(project, [READ_RUNS])
    _, operator = make_key(project, [OPERATE_RUNS])
    post = Client().post(front_end.write, headers={"X-Api-Key": reader})
    refusal(post, 403, "MISSING_PERMISSION")
    assert Client().post(front_end.write, headers={"X-Api-Key": operator}).status_code in {200, 201}


def test_plain_http_is_refused_when_https_is_required(front_end, settings, project, make_key):
    settings.APIKEYS_REQUIRE_HTTPS = True
    _, plaintext = make_key(project, [READ_RUNS])
    refusal(get(front_end.read, plaintext), 403, "HTTPS_REQUIRED")
    assert (
        Client().get(front_end.read, headers={"X-Api-Key": plaintext}, secure=True).status_code
        == 200
    )


def test_too_many_failures_from_one_ip_answer_429_counted_once_per_request(front_end, settings, db):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 3
    for _ in range(3):  # counted twice, the third would already be 429
        refusal(get(front_end.read, ip="203.0.113.77"), 401, "MISSING_API_KEY")
    response = get(front_end.read, ip="203.0.113.77")
    body = refusal(response, 429, "RATE_LIMITED")
    assert int(response["Retry-After"]) == body["details"]["retry_after"] >= 1
    # The middleware counts the same limit: the address is over it there too.
    refusal(get(PLAIN, ip="203.0.113.77"), 429, "RATE_LIMITED")


def test_a_key_in_the_url_is_refused_and_exposed(front_end, project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    response = Client().get(f"{front_end.read}?api_key={plaintext}")
    body = refusal(response, 401, "MISSING_API_KEY")
    assert "never read" in body["error"]
    key.refresh_from_db()
    assert key.exposed_at is not None


def test_usage_is_recorded_once_per_accepted_request(front_end, project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    for _ in range(3):
        assert get(front_end.read, plaintext, ip="203.0.113.8").status_code == 200
    usage.flush_all()
    day = APIKeyDailyUsage.objects.get(key=key)
    assert day.request_count == 3
    assert APIKeyPermissionUsage.objects.filter(key=key, permission=READ_RUNS).exists()
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_ip == "203.0.113.8"


def test_refusals_of_a_known_key_are_recorded_once_each(front_end, project, make_key):
    key, plaintext = make_key(project, [OPERATE_RUNS])
    get(front_end.read, plaintext)
    get(front_end.read, plaintext)
    usage.flush_all()
    assert APIKeyRefusal.objects.get(key=key, code="MISSING_PERMISSION").count == 2


def test_a_database_that_cannot_be_reached_answers_503(front_end, project, make_key, monkeypatch):
    _, plaintext = make_key(project, [READ_RUNS])

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(authentication, "key_by_id", unreachable)
    response = get(front_end.read, plaintext)
    refusal(response, 503, "SERVICE_UNAVAILABLE")
    assert response["Retry-After"]
