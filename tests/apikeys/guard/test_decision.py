"""The decision path's check 6 (IP allowlists) and the expiry header, through the real API.

SPEC §4's order is the contract: 4 expired, 5 disabled, 6 address, 7 permission;
the first that fails answers. ``X-Api-Key-Expires`` names the expiry of a key that
passed checks 1-5, on every answer, whoever made it (the guard or the view).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import allowlist, services
from apikeys.guard import usage
from apikeys.models import APIKeyRefusal

EXPIRES = "X-Api-Key-Expires"
ALLOWED = "203.0.113.7"
OUTSIDE = "198.51.100.20"


def client_at(ip: str, **extra) -> Client:
    return Client(REMOTE_ADDR=ip, **extra)


def get(plaintext: str, path: str = "/api/v1/key", *, ip: str = ALLOWED, **headers):
    return client_at(ip).get(path, headers={"X-Api-Key": plaintext, **headers})


@pytest.fixture
def soon() -> datetime:
    return (timezone.now() + timedelta(days=10)).replace(microsecond=0)


# --- Check 6 --------------------------------------------------------------------


def test_a_key_is_used_from_an_address_in_its_allowlist(project, make_key):
    _, plaintext = make_key(project, [READ_RUNS], allowed_ips=["203.0.113.0/24"])
    assert get(plaintext, "/api/v1/runs").status_code == 200


def test_a_key_from_outside_its_allowlist_is_refused_with_the_client_ip(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS], allowed_ips=["203.0.113.0/24"])
    response = get(plaintext, "/api/v1/runs", ip=OUTSIDE)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "IP_NOT_ALLOWED"
    assert body["details"]["client_ip"] == OUTSIDE
    assert body["details"]["key_id"] == key.key_id
    assert OUTSIDE in body["error"] and body["error"].endswith(".")


def test_an_allowlist_refusal_is_counted_as_a_refusal_of_that_key(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS], allowed_ips=["203.0.113.0/24"])
    get(plaintext, ip=OUTSIDE)
    get(plaintext, ip=OUTSIDE)
    usage.flush_all()
    refusal = APIKeyRefusal.objects.get(key=key, code="IP_NOT_ALLOWED")
    assert (refusal.count, refusal.last_ip) == (2, OUTSIDE)


def test_an_expired_key_from_a_disallowed_address_answers_expired(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS], allowed_ips=[ALLOWED])
    key.expires_at = timezone.now() - timedelta(minutes=1)
    key.save(update_fields=["expires_at"])
    response = get(plaintext, ip=OUTSIDE)
    assert response.json()["code"] == "EXPIRED_API_KEY"
    assert EXPIRES not in response  # it did not pass check 4


def test_a_disabled_key_from_a_disallowed_address_answers_disabled(project, make_key, soon):
    key, plaintext = make_key(project, [READ_RUNS], allowed_ips=[ALLOWED], expires_at=soon)
    services.key_deactivate(key=key, actor=services.Actor.cli())
    response = get(plaintext, ip=OUTSIDE)
    assert response.json()["code"] == "DISABLED_API_KEY"
    assert EXPIRES not in response


def test_a_key_lacking_the_permission_from_a_disallowed_address_answers_ip_not_allowed(
    project, make_key, soon
):
    _, plaintext = make_key(project, [OPERATE_RUNS], allowed_ips=[ALLOWED], expires_at=soon)
    response = get(plaintext, "/api/v1/runs", ip=OUTSIDE)
    assert response.json()["code"] == "IP_NOT_ALLOWED"
    assert "X-Accepted-Permissions" not in response
    assert response[EXPIRES] == soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    # From an allowed address the same request reaches check 7.
    assert get(plaintext, "/api/v1/runs").json()["code"] == "MISSING_PERMISSION"


def test_a_wrong_secret_from_a_disallowed_address_answers_invalid(project, make_key):
    _, plaintext = make_key(project, [READ_RUNS], allowed_ips=[ALLOWED])
    wrong = plaintext[:-10] + ("A" if plaintext[-10] != "A" else "B") + plaintext[-9:]
    assert get(wrong, ip=OUTSIDE).json()["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected", "client_ip"),
    [
        (1, "10.0.0.2", ALLOWED, 200, None),  # the proxy says who the client is
        (1, "10.0.0.2", f"{ALLOWED}, {OUTSIDE}", 403, OUTSIDE),  # the client's own entry
        (2, "10.0.0.2", f"{ALLOWED}, 10.0.0.3", 200, None),
        (0, OUTSIDE, ALLOWED, 403, OUTSIDE),  # no trusted proxy: X-Forwarded-For is ignored
        (1, ALLOWED, "", 200, None),  # fewer hops than proxies: REMOTE_ADDR
    ],
)
def test_the_allowlist_judges_the_client_ip_behind_trusted_proxies(
    settings, project, make_key, proxies, remote, forwarded, expected, client_ip
):
    settings.APIKEYS_TRUSTED_PROXY_COUNT = proxies
    _, plaintext = make_key(project, [READ_RUNS], allowed_ips=[ALLOWED])
    response = client_at(remote).get(
        "/api/v1/key", headers={"X-Api-Key": plaintext, "X-Forwarded-For": forwarded}
    )
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json()["details"]["client_ip"] == client_ip


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        (f"::ffff:{ALLOWED}", 200),  # a dual-stack socket's view of an IPv4 client
        ("::ffff:198.51.100.20", 403),
        ("2001:db8:0:7::42", 200),
        ("2001:db8:0:8::42", 403),
    ],
)
def test_ipv4_mapped_and_ipv6_clients(project, make_key, ip, expected):
    _, plaintext = make_key(
        project, [READ_RUNS], allowed_ips=["203.0.113.0/24", "2001:db8:0:7::/64"]
    )
    assert get(plaintext, ip=ip).status_code == expected


def test_a_key_without_an_allowlist_never_parses_the_client_address(project, make_key, monkeypatch):
    _, plaintext = make_key(project, [READ_RUNS])

    def must_not_run(*args, **kwargs):
        raise AssertionError("check 6 ran for a key without an allowlist")

    monkeypatch.setattr(allowlist, "allows", must_not_run)
    assert get(plaintext, ip=OUTSIDE).status_code == 200


def test_an_allowlist_change_applies_to_the_very_next_request(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    assert get(plaintext, ip=OUTSIDE).status_code == 200
    services.key_update(key=key, actor=services.Actor.cli(), allowed_ips=[ALLOWED])
    assert get(plaintext, ip=OUTSIDE).json()["code"] == "IP_NOT_ALLOWED"
    services.key_update(key=key, actor=services.Actor.cli(), allowed_ips=[])
    assert get(plaintext, ip=OUTSIDE).status_code == 200


def test_allowlist_refusals_do_not_lock_the_address_out(settings, project, make_key):
    """A real key from the wrong place is not a guess: the IP's failure limit ignores it."""
    settings.APIKEYS_RATE_LIMIT_FAILURES = 2
    _, fenced = make_key(project, [READ_RUNS], allowed_ips=[ALLOWED])
    _, open_key = make_key(project, [READ_RUNS])
    for _ in range(4):
        assert get(fenced, ip=OUTSIDE).status_code == 403
    assert get(open_key, ip=OUTSIDE).status_code == 200
    assert client_at(OUTSIDE).get("/api/v1/key").status_code == 401


# --- X-Api-Key-Expires ------------------------------------------------------------

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_the_expiry_header_is_iso_8601_utc(project, make_key):
    expires_at = datetime(2031, 12, 31, 23, 59, 59, 999, tzinfo=UTC)
    _, plaintext = make_key(project, [READ_RUNS], expires_at=expires_at)
    response = get(plaintext)
    assert response.status_code == 200
    assert response[EXPIRES] == "2031-12-31T23:59:59Z"
    assert ISO_UTC.fullmatch(response[EXPIRES])


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/api/v1/runs", None, 200, None),
        ("GET", f"/api/v1/runs/{uuid.uuid4()}", None, 404, "NOT_FOUND"),
        ("POST", "/api/v1/runs", "{not json", 400, "VALIDATION_ERROR"),
        ("GET", "/api/v1/nothing-here", None, 404, "NOT_FOUND"),
        ("PUT", "/api/v1/runs", None, 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/api/v1/builds", None, 403, "MISSING_PERMISSION"),
    ],
)
def test_every_answer_to_a_usable_key_names_its_expiry(
    project, make_key, soon, method, path, body, status, code
):
    _, plaintext = make_key(project, [READ_RUNS, OPERATE_RUNS], expires_at=soon)
    response = client_at(ALLOWED).generic(
        method,
        path,
        data=body or "",
        content_type="application/json",
        headers={"X-Api-Key": plaintext},
    )
    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
    assert response[EXPIRES] == soon.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_no_expiry_header_for_a_key_without_expiry_or_without_a_valid_key(project, make_key, soon):
    _, forever = make_key(project, [READ_RUNS])
    assert EXPIRES not in get(forever)
    _, plaintext = make_key(project, [READ_RUNS], expires_at=soon)
    wrong = plaintext[:-10] + ("A" if plaintext[-10] != "A" else "B") + plaintext[-9:]
    assert get(wrong).status_code == 401
    assert EXPIRES not in get(wrong)
    assert EXPIRES not in client_at(ALLOWED).get("/api/v1/key")
    assert EXPIRES not in client_at(ALLOWED).get("/api/openapi.json")


def test_the_expiry_header_shows_a_grace_period_set_by_rotation(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS, MANAGE_BUILD_STORAGE])
    assert EXPIRES not in get(plaintext)
    services.key_rotate(key=key, actor=services.Actor.cli(), grace=timedelta(hours=1))
    key.refresh_from_db()
    assert get(plaintext)[EXPIRES] == key.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
