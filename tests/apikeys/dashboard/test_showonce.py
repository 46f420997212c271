"""apikeys.dashboard.showonce: the call the show-once page suggests is one the key may make."""

from __future__ import annotations

import pytest
from django.urls import Resolver404

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys.dashboard import showonce


@pytest.fixture
def no_introspection(monkeypatch):
    monkeypatch.setattr(showonce, "_routed", lambda path: False)


@pytest.mark.parametrize(
    ("codes", "method", "path"),
    [
        ([READ_RUNS], "GET", "/api/v1/runs"),
        ([MANAGE_BUILD_STORAGE, OPERATE_RUNS], "GET", "/api/v1/builds"),
        ([OPERATE_RUNS], "POST", "/api/v1/runs"),
    ],
)
def test_the_call_comes_from_the_keys_permissions(no_introspection, codes, method, path):
    call = showonce.example_call(codes)
    assert (call.method, call.path) == (method, path)


def test_introspection_is_used_when_the_site_routes_it(monkeypatch):
    monkeypatch.setattr(showonce, "_routed", lambda path: path == showonce.INTROSPECTION)
    assert showonce.example_call([OPERATE_RUNS]).path == "/api/v1/key"


def test_routed_asks_the_urlconf(monkeypatch):
    def resolve(path):
        raise Resolver404(path)

    monkeypatch.setattr(showonce, "resolve", resolve)
    assert showonce._routed("/api/v1/key") is False


def test_the_curl_line_reads_the_key_from_the_variable():
    line = showonce.ExampleCall("GET", "/api/v1/runs").curl("http://127.0.0.1:8000/")
    assert (
        line
        == 'curl --fail-with-body -H "X-Api-Key: $NUNU_API_KEY" http://127.0.0.1:8000/api/v1/runs'
    )
    post = showonce.ExampleCall("POST", "/api/v1/runs", body="{}").curl("http://h")
    assert "-X POST" in post and "-d '{}'" in post
