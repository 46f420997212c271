"""A key sent in a URL (SPEC §11): refused as MISSING_API_KEY with the hint, and exposed."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from api.permissions import READ_RUNS
from apikeys.models import APIKey, AuditEvent
from tests.apikeys.exposure.conftest import bad_checksum, wrong_secret_for

pytestmark = pytest.mark.django_db

HINT = "Keys in the URL are never read"


def assert_missing_key_with_hint(response):
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "MISSING_API_KEY"
    assert HINT in body["error"]
    assert response["WWW-Authenticate"] == 'ApiKey header="X-Api-Key"'


def test_a_live_key_in_the_query_is_refused_and_exposed_with_the_path(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    response = api().get(f"/api/v1/runs?state=RUNNING&api_key={plaintext}")
    assert_missing_key_with_hint(response)
    key.refresh_from_db()
    assert key.status() == "exposed"
    assert (key.exposure_source, key.exposure_url) == ("url", "/api/v1/runs")
    event = AuditEvent.objects.get(action="key.exposed")
    assert event.changes["url"] == "/api/v1/runs"
    assert plaintext not in str(event.changes)
    # ...and the key is refused from then on, in the header too.
    refused = api(plaintext).get("/api/v1/runs").json()
    assert (refused["code"], refused["details"]["reason"]) == ("DISABLED_API_KEY", "exposed")


@pytest.mark.parametrize(
    "query",
    [
        "q={token}",
        "filter=name:{token}",
        "{token}",
        "x={quoted}",
        "Authorization=Bearer+{token}",
    ],
)
def test_any_parameter_name_or_encoding_is_found(project, make_key, api, query):
    key, plaintext = make_key(project, [READ_RUNS])
    encoded = "".join(f"%{ord(c):02X}" for c in plaintext)
    path = "/api/v1/runs?" + query.format(token=plaintext, quoted=encoded)
    assert_missing_key_with_hint(api().get(path))
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def test_a_key_in_the_url_is_refused_even_beside_a_valid_header(project, make_key, api):
    header_key, header_plaintext = make_key(project, [READ_RUNS], name="header")
    url_key, url_plaintext = make_key(project, [READ_RUNS], name="url")
    response = api(header_plaintext).get(f"/api/v1/runs?token={quote(url_plaintext)}")
    assert_missing_key_with_hint(response)
    assert APIKey.objects.get(pk=url_key.pk).status() == "exposed"
    assert APIKey.objects.get(pk=header_key.pk).status() == "active"


def test_junk_costs_no_query_and_no_argon2(
    project, make_key, api, argon2_calls, django_assert_num_queries
):
    key, plaintext = make_key(project, [READ_RUNS])
    client = api()
    junk = f"/api/v1/runs?a={bad_checksum(plaintext)}&b=nunu_short&c={'nunu_' + 'x' * 51}"
    with django_assert_num_queries(0):
        response = client.get(junk)
    assert response.status_code == 401
    assert argon2_calls["verify"] == 0
    assert APIKey.objects.get(pk=key.pk).status() == "active"


def test_a_wrong_secret_for_a_real_id_exposes_nothing_and_counts_as_a_failure(
    settings, project, make_key, api
):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 4
    key, plaintext = make_key(project, [READ_RUNS])
    client = api(plaintext)
    # A working key in the header, guesses in the URL: each guess is a failed attempt...
    for n in range(4):
        assert client.get(f"/api/v1/runs?x={wrong_secret_for(key.key_id, n)}").status_code == 200
    assert APIKey.objects.get(pk=key.pk).status() == "active"
    assert not AuditEvent.objects.filter(action="key.exposed").exists()
    # ...so past the limit a guess no longer reaches argon2, and the working key still works.
    assert client.get("/api/v1/runs").status_code == 200


def test_guesses_in_urls_stop_reaching_argon2_at_the_limit(
    settings, project, make_key, api, argon2_calls
):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 3
    key, _ = make_key(project, [READ_RUNS])
    client = api()
    for n in range(10):
        client.get(f"/api/openapi.json?x={wrong_secret_for(key.key_id, n)}")
    assert argon2_calls["verify"] == 3


def test_a_verified_key_in_a_url_costs_no_argon2(project, make_key, api, argon2_calls):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/runs").status_code == 200
    assert argon2_calls["verify"] == 1
    api().get(f"/api/v1/runs?key={plaintext}")
    assert argon2_calls["verify"] == 1
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def test_a_key_in_the_url_of_a_public_view_is_exposed_too(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS])
    assert api().get(f"/api/openapi.json?api_key={plaintext}").status_code == 200
    key.refresh_from_db()
    assert (key.status(), key.exposure_url) == ("exposed", "/api/openapi.json")


def test_a_deleted_keys_token_in_a_url_is_just_junk(project, make_key, api):
    from apikeys import services

    key, plaintext = make_key(project, [READ_RUNS])
    services.key_delete(key=key, actor=services.Actor.cli("test"))
    response = api().get(f"/api/v1/runs?api_key={plaintext}")
    assert_missing_key_with_hint(response)  # the known parameter name still earns the hint
    assert not AuditEvent.objects.filter(action="key.exposed").exists()
