"""apikeys.decorators: a declared view fails closed where the middleware is not."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import Client

from api.permissions import OPERATE_RUNS, READ_RUNS
from apikeys.decorators import access_of, require_permission
from apikeys.models import APIKeyDailyUsage

GUARD = "apikeys.middleware.APIKeyMiddleware"


@pytest.fixture
def without_the_middleware(settings):
    """A host that forgot the guard's middleware (CSRF checks on, as in any site)."""
    settings.ROOT_URLCONF = "tests.guard_urls"
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != GUARD]


def _code(response) -> str:
    return response.json()["code"]


def test_without_the_middleware_a_declared_view_still_refuses_and_answers_like_it(
    without_the_middleware, project, make_key, api
):
    _, reader = make_key(project, [READ_RUNS])
    _, operator = make_key(project, [OPERATE_RUNS])
    missing = api().get("/api/v1/read")
    assert (missing.status_code, _code(missing)) == (401, "MISSING_API_KEY")
    assert missing["WWW-Authenticate"].startswith("ApiKey")
    assert missing["X-Request-Id"]
    wrong = api(operator).get("/api/v1/read")
    assert (wrong.status_code, _code(wrong)) == (403, "MISSING_PERMISSION")
    assert api("nunu_not-a-key").get("/api/v1/read").status_code == 401
    accepted = api(reader).get("/api/v1/read")
    assert accepted.status_code == 200
    assert accepted.json()["data"]["key_id"] == reader.split("_")[1]
    # By method too: POST needs operate-runs, and no CSRF token (a key is no cookie).
    strict = Client(enforce_csrf_checks=True)
    refused = strict.post("/api/v1/runs", headers={"X-Api-Key": reader})
    assert (refused.status_code, _code(refused)) == (403, "MISSING_PERMISSION")
    assert strict.post("/api/v1/runs", headers={"X-Api-Key": operator}).status_code == 200


def test_without_the_middleware_usage_is_recorded_once(
    without_the_middleware, project, make_key, api
):
    key, plaintext = make_key(project, [READ_RUNS])
    for _ in range(3):
        assert api(plaintext).get("/api/v1/read").status_code == 200
    from apikeys.guard import usage

    usage.flush_all()
    assert sum(row.request_count for row in APIKeyDailyUsage.objects.filter(key=key)) == 3


def test_under_the_middleware_the_decorator_judges_nothing_again(
    settings, project, make_key, api, monkeypatch
):
    settings.ROOT_URLCONF = "tests.guard_urls"
    from apikeys.guard import frontend

    def must_not_run(request):
        raise AssertionError("the middleware judged this request already")

    monkeypatch.setattr(frontend, "authenticate", must_not_run)
    _, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/read").status_code == 200


def test_the_declaration_is_still_read_through_the_wrapper():
    def view(request):
        raise AssertionError

    decorated = require_permission(READ_RUNS)(view)
    assert decorated is not view and decorated.__wrapped__ is view
    assert access_of(decorated) == ("permission", READ_RUNS)


def test_a_host_without_the_middleware_is_told_by_a_check(without_the_middleware):
    warnings = [m for m in run_checks() if m.id == "apikeys.W002"]
    assert len(warnings) == 1
    assert GUARD in warnings[0].hint


def test_a_host_with_the_middleware_gets_no_such_warning(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"
    assert not [m for m in run_checks() if m.id == "apikeys.W002"]
