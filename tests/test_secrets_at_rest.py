"""The at-rest scan run after every database test (conftest._no_secret_at_rest) finds leaks.

The scan itself is what enforces SPEC §3 for the whole suite; these tests show
it would notice a secret in each place it looks.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache

from apikeys.models import APIKey
from tests.secrets_at_rest import leaks


def test_a_clean_database_has_no_leaks(project, make_key, api):
    _, plaintext = make_key(project)
    api(plaintext).get("/api/v1/runs")
    assert leaks([plaintext.split("_")[2][:32]], []) == []


def test_a_secret_in_any_column_is_found(project, make_key):
    key, plaintext = make_key(project)
    APIKey.objects.filter(pk=key.pk).update(description=f"oops {plaintext}")
    found = leaks([plaintext], [])
    APIKey.objects.filter(pk=key.pk).update(description="")
    assert len(found) == 1 and found[0].startswith("database: apikeys_apikey")
    assert plaintext not in found[0]


def test_a_secret_in_a_session_is_found(project, make_key):
    _, plaintext = make_key(project)
    session = SessionStore()
    session["shown_key"] = plaintext
    session.save()
    found = leaks([plaintext], [])
    session.delete()
    assert any(place.startswith("session:") for place in found)


def test_a_secret_in_the_cache_is_found(project, make_key):
    _, plaintext = make_key(project)
    cache.set("careless", {"key": plaintext})
    found = leaks([plaintext], [])
    cache.delete("careless")
    assert [place.split(":")[0] for place in found] == ["cache"]


def test_a_secret_in_a_log_line_is_found(db):
    assert leaks(["s3cr3t"], ["calling with s3cr3t"]) == ["log: calling with <SECRET>"]
