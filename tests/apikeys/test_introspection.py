"""GET /api/v1/key (apikeys.introspection): any usable key learns what it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, READ_RUNS
from apikeys import services

URL = "/api/v1/key"


def test_a_key_is_described_to_itself(project, make_key, api):
    expires_at = datetime(2031, 6, 30, 12, 0, tzinfo=UTC)
    key, plaintext = make_key(
        project,
        [MANAGE_BUILD_STORAGE, READ_RUNS],
        name="nightly",
        expires_at=expires_at,
        allowed_ips=["127.0.0.0/8", "2001:db8::/32"],
    )
    response = api(plaintext).get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "key_id": key.key_id,
            "name": "nightly",
            "project": {"slug": project.slug, "name": project.name},
            "permissions": [READ_RUNS, MANAGE_BUILD_STORAGE],
            "created_at": key.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "expires_at": "2031-06-30T12:00:00Z",
            "allowed_ips": ["127.0.0.0/8", "2001:db8::/32"],
        }
    }
    assert response["X-Api-Key-Expires"] == "2031-06-30T12:00:00Z"
    assert plaintext not in response.content.decode()


def test_a_key_without_expiry_or_allowlist(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    data = api(plaintext).get(URL).json()["data"]
    assert (data["expires_at"], data["allowed_ips"]) == (None, [])


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ("expired", 403, "EXPIRED_API_KEY"),
        ("disabled", 403, "DISABLED_API_KEY"),
        ("fenced", 403, "IP_NOT_ALLOWED"),
        ("deleted", 401, "INVALID_API_KEY"),
    ],
)
def test_a_key_that_cannot_be_used_gets_the_guards_reason(
    project, make_key, api, change, status, code
):
    key, plaintext = make_key(project, [READ_RUNS])
    actor = services.Actor.cli()
    if change == "expired":
        key.expires_at = timezone.now() - timedelta(seconds=1)
        key.save(update_fields=["expires_at"])
    elif change == "disabled":
        services.key_deactivate(key=key, actor=actor)
    elif change == "fenced":
        services.key_update(key=key, actor=actor, allowed_ips=["192.0.2.0/24"])
    else:
        services.key_delete(key=key, actor=actor)
    response = api(plaintext).get(URL)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_only_get_and_head_are_served(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).request("HEAD", URL).status_code == 200
    response = api(plaintext).post(URL, {})
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert response["Allow"] == "GET, HEAD"


def test_introspection_writes_usage_but_exercises_no_permission(project, make_key, api):
    from apikeys.guard import usage

    key, plaintext = make_key(project, [READ_RUNS])
    api(plaintext).get(URL)
    usage.flush_all()
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert not key.permission_usage.exists()
