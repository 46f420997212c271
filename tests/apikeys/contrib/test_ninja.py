"""apikeys.contrib.ninja: every answer of SPEC §4 through django-ninja, judged once
whether or not the API is under the middleware's prefix."""

from __future__ import annotations

import pytest
from django.core import checks
from django.urls import path
from ninja import NinjaAPI

from api.permissions import READ_RUNS
from apikeys import contrib
from apikeys.contrib.ninja import APIKeyAuth
from apikeys.guard import usage
from apikeys.models import APIKeyDailyUsage
from tests.apikeys.contrib.contract import *  # noqa: F403  (the tests every front end passes)
from tests.apikeys.contrib.contract import Paths, get, refusal


@pytest.fixture(params=["/api/ninja", "/ninja"], ids=["under-the-api-prefix", "alone"])
def front_end(request) -> Paths:
    return Paths(read=f"{request.param}/read", write=f"{request.param}/runs")


def test_an_unguarded_operation_under_the_prefix_is_refused(project, make_key):
    _, plaintext = make_key(project, [READ_RUNS])
    refusal(get("/api/ninja/open", plaintext), 403, "MISSING_PERMISSION")
    # Outside the prefix the middleware is not there: the host chose no auth.
    assert get("/ninja/open").status_code == 200


def test_the_api_root_needs_a_key_then_answers_404(project, make_key):
    _, plaintext = make_key(project, [READ_RUNS])
    refusal(get("/api/ninja/"), 401, "MISSING_API_KEY")
    refusal(get("/api/ninja/", plaintext), 404, "NOT_FOUND")


def test_the_docs_declared_public_are_served_without_a_key(db):
    response = get("/api/ninja/openapi.json")
    assert response.status_code == 200
    schemes = response.json()["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "X-Api-Key"} in schemes.values()


def test_the_expiry_is_named_on_accepted_answers(project, make_key):
    from datetime import timedelta

    from django.utils import timezone

    _, plaintext = make_key(project, [READ_RUNS], expires_at=timezone.now() + timedelta(days=5))
    response = get("/api/ninja/read", plaintext)
    assert response.status_code == 200
    assert response["X-Api-Key-Expires"].endswith("Z")


def test_an_accepted_request_under_the_prefix_is_counted_once(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    response = get("/api/ninja/read", plaintext)
    assert response.status_code == 200 and response["X-Request-Id"]
    usage.flush_all()
    assert APIKeyDailyUsage.objects.get(key=key).request_count == 1


def test_apikeyauth_needs_a_permission_code():
    with pytest.raises(TypeError, match="permission code"):
        APIKeyAuth(permission="")


not_installed = NinjaAPI(urls_namespace="not-installed")


@not_installed.get("/read", auth=APIKeyAuth(permission=READ_RUNS))
def read(request):
    return {}


urlpatterns = [path("elsewhere/", not_installed.urls)]


def test_an_api_that_was_not_installed_is_reported(settings):
    settings.ROOT_URLCONF = __name__
    errors = [e for e in checks.run_checks() if e.id == "apikeys.E006"]
    assert len(errors) == 1 and "install()" in errors[0].msg


def test_an_unknown_code_in_apikeyauth_is_reported(monkeypatch):
    monkeypatch.setattr(contrib, "_declared", [])  # the typo stays in this test
    APIKeyAuth(permission="project:read-rnus")
    errors = [e for e in checks.run_checks() if e.id == "apikeys.E005"]
    assert any("project:read-rnus" in e.msg for e in errors)
