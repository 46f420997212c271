"""POST /api/v1/credentials/revoke (SPEC §11): always 202, exposes live keys, its own
rate limit, bounded argon2."""

from __future__ import annotations

import pytest

from apikeys import services
from apikeys.exposure import throttle
from apikeys.models import APIKey, AuditEvent
from tests.apikeys.exposure.conftest import bad_checksum, wrong_secret_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/credentials/revoke"


def revoke(api, credentials, **kwargs):
    return api().post(URL, {"credentials": credentials}, **kwargs)


def test_a_live_key_is_exposed_and_the_answer_is_202_with_the_count(project, make_key, api):
    key, plaintext = make_key(project)
    response = revoke(api, [plaintext, "nunu_nonsense", plaintext])
    assert response.status_code == 202
    assert response.json() == {"data": {"received_count": 3}}
    key.refresh_from_db()
    assert (key.status(), key.exposure_source, key.exposure_url) == (
        "exposed",
        "revocation-api",
        "",
    )
    event = AuditEvent.objects.get(action="key.exposed")
    assert event.changes["token_sha256"] == services.token_sha256(plaintext)
    assert event.actor_username == "revocation-api"
    assert api(plaintext).get("/api/v1/runs").json()["details"]["reason"] == "exposed"


def test_the_answer_is_the_same_whatever_matched(project, make_key, api):
    key, plaintext = make_key(project)
    junk = revoke(api, ["not a key", wrong_secret_for(key.key_id)])
    live = revoke(api, [plaintext, "not a key"])
    assert junk.status_code == live.status_code == 202
    assert junk.json() == live.json()
    assert set(junk.headers) == set(live.headers)


def test_a_wrong_secret_for_a_real_id_changes_nothing(project, make_key, api):
    key, _ = make_key(project)
    assert revoke(api, [wrong_secret_for(key.key_id)]).status_code == 202
    assert APIKey.objects.get(pk=key.pk).status() == "active"
    assert not AuditEvent.objects.filter(action="key.exposed").exists()


def test_revoking_twice_changes_nothing_more(project, make_key, api, mailoutbox, make_user):
    make_user("ann", project=project, role="admin", email="ann@example.com")
    key, plaintext = make_key(project)
    revoke(api, [plaintext])
    first = APIKey.objects.get(pk=key.pk).exposed_at
    assert revoke(api, [plaintext]).status_code == 202
    assert APIKey.objects.get(pk=key.pk).exposed_at == first
    assert AuditEvent.objects.filter(action="key.exposed").count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"credentials": []}, "credentials"),
        ({"credentials": ["x"] * 101}, "credentials"),
        ({"credentials": "nunu_x"}, "credentials"),
        ({"credentials": ["ok", 5]}, "credentials.1"),
        ({"credentials": [""]}, "credentials.0"),
        ({"credentials": ["x" * 1001]}, "credentials.0"),
        ({"tokens": ["x"]}, "credentials"),
        (["x"], "credentials"),
        ("{not json", "body"),
        ("", "credentials"),
    ],
)
def test_a_bad_body_is_400_validation_error(api, db, body, field):
    response = api().post(URL, body)
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "VALIDATION_ERROR"
    assert field in data["details"]["fields"]


def test_only_post_is_served(api, db):
    response = api().get(URL)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_no_api_key_is_needed_even_in_production(api, db, settings):
    settings.APIKEYS_REQUIRE_HTTPS = True
    assert revoke(api, ["x"], secure=True).status_code == 202
    assert revoke(api, ["x"]).json()["code"] == "HTTPS_REQUIRED"


def test_the_rate_limit_is_per_client_ip_with_retry_after(api, db, settings):
    settings.APIKEYS_REVOCATION_RATE_LIMIT = 3
    for _ in range(3):
        assert revoke(api, ["x"], REMOTE_ADDR="203.0.113.7").status_code == 202
    refused = revoke(api, ["x"], REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert revoke(api, ["x"], REMOTE_ADDR="203.0.113.8").status_code == 202


def test_ipv6_clients_are_counted_per_64(api, db, settings):
    settings.APIKEYS_REVOCATION_RATE_LIMIT = 2
    revoke(api, ["x"], REMOTE_ADDR="2001:db8:1:2::1")
    revoke(api, ["x"], REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert revoke(api, ["x"], REMOTE_ADDR="2001:db8:1:2::77").status_code == 429
    assert revoke(api, ["x"], REMOTE_ADDR="2001:db8:1:3::1").status_code == 202


def test_the_limit_window_ends(api, db, settings, monkeypatch):
    settings.APIKEYS_REVOCATION_RATE_LIMIT = 1
    settings.APIKEYS_REVOCATION_RATE_WINDOW = 3600
    monkeypatch.setattr(throttle, "_now", lambda: 7200.0)
    assert revoke(api, ["x"]).status_code == 202
    assert revoke(api, ["x"]).status_code == 429
    monkeypatch.setattr(throttle, "_now", lambda: 7200.0 + 3600)
    assert revoke(api, ["x"]).status_code == 202


# --- What a flood costs ------------------------------------------------------


def test_junk_and_bad_checksums_cost_no_query_and_no_argon2(
    project, make_key, api, argon2_calls, django_assert_max_num_queries
):
    _key, plaintext = make_key(project)
    junk = [bad_checksum(plaintext)] * 50 + ["nunu_" + "a" * 51] * 49 + ["x"]
    # The view itself reads nothing: the rate limit is in the cache.
    with django_assert_max_num_queries(0):
        assert revoke(api, junk).status_code == 202
    assert argon2_calls["verify"] == 0


def test_recently_verified_keys_are_revoked_without_argon2(project, make_key, api, argon2_calls):
    pairs = [make_key(project) for _ in range(5)]
    for _, plaintext in pairs:
        assert api(plaintext).get("/api/v1/runs").status_code == 200
    assert argon2_calls["verify"] == 5
    assert revoke(api, [plaintext for _, plaintext in pairs]).status_code == 202
    assert argon2_calls["verify"] == 5
    assert APIKey.objects.filter(exposed_at__isnull=False).count() == 5


def test_one_request_runs_argon2_at_most_the_configured_number_of_times(
    project, make_key, api, argon2_calls, settings
):
    settings.APIKEYS_REVOCATION_MAX_VERIFICATIONS = 4
    settings.APIKEYS_SECRET_FAILURES = 1000  # so only the per-request budget binds here
    key, _ = make_key(project)
    guesses = [wrong_secret_for(key.key_id, n) for n in range(100)]
    assert revoke(api, guesses).status_code == 202
    assert argon2_calls["verify"] == 4


def test_guesses_for_one_key_stop_at_the_guards_per_key_budget(
    project, make_key, api, argon2_calls, settings
):
    settings.APIKEYS_SECRET_FAILURES = 3
    settings.APIKEYS_REVOCATION_MAX_VERIFICATIONS = 100
    key, _ = make_key(project)
    for batch in range(5):
        guesses = [wrong_secret_for(key.key_id, batch * 10 + n) for n in range(10)]
        revoke(api, guesses, REMOTE_ADDR=f"198.51.100.{batch}")
    # From five addresses, so the per-IP limits do not bind: the per-key budget does.
    assert argon2_calls["verify"] == 3
    assert APIKey.objects.get(pk=key.pk).status() == "active"


def test_guesses_spread_over_many_keys_stop_at_the_guards_total_budget(
    project, make_key, api, argon2_calls, settings
):
    settings.APIKEYS_SECRET_FAILURES = 3
    settings.APIKEYS_SECRET_FAILURES_TOTAL = 5
    settings.APIKEYS_REVOCATION_MAX_VERIFICATIONS = 100
    victims = [make_key(project, name=f"victim {n}") for n in range(8)]
    leaked, leaked_plaintext = make_key(project, name="leaked, never used")
    guesses = [wrong_secret_for(key.key_id, n) for n, (key, _) in enumerate(victims)]
    assert revoke(api, guesses, REMOTE_ADDR="198.51.100.7").status_code == 202
    assert argon2_calls["verify"] == 5  # one guess per id, yet only the total's worth
    # Past the total, a report of a key no process verified lately is not checked (the
    # answer is 202 all the same); it is exposed once a report comes after the count has decayed.
    assert revoke(api, [leaked_plaintext], REMOTE_ADDR="198.51.100.8").status_code == 202
    assert argon2_calls["verify"] == 5
    assert APIKey.objects.get(pk=leaked.pk).status() == "active"
