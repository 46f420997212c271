"""nunu_admin.middleware: django-csp's and Django's messages middleware, idle under /api/."""

from __future__ import annotations

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from nunu_admin.middleware import CSPMiddleware, MessageMiddleware


@pytest.fixture
def policies_built(monkeypatch):
    import csp.middleware

    built: list[bool] = []
    original = csp.middleware.build_policy

    def counting(*args, **kwargs):
        built.append(kwargs.get("report_only", False))
        return original(*args, **kwargs)

    monkeypatch.setattr(csp.middleware, "build_policy", counting)
    return built


def answer(middleware_class, path: str) -> HttpResponse:
    middleware = middleware_class(lambda request: HttpResponse("ok"))
    return middleware(RequestFactory().get(path))


def test_a_page_gets_its_policy(policies_built):
    response = answer(CSPMiddleware, "/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert policies_built  # built as django-csp builds it


def test_an_api_answer_builds_no_policy(policies_built):
    response = answer(CSPMiddleware, "/api/v1/runs")
    assert "Content-Security-Policy" not in response
    assert policies_built == []


def test_a_report_only_policy_that_does_not_exclude_the_api_is_still_sent(settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    response = answer(CSPMiddleware, "/api/v1/runs")
    assert "Content-Security-Policy" not in response
    assert "default-src 'self'" in response["Content-Security-Policy-Report-Only"]


def test_a_report_only_policy_that_excludes_the_api_builds_nothing_there(settings, policies_built):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "EXCLUDE_URL_PREFIXES": ["/api/"],
        "DIRECTIVES": {"default-src": ["'self'"]},
    }
    response = answer(CSPMiddleware, "/api/v1/runs")
    assert "Content-Security-Policy-Report-Only" not in response
    assert policies_built == []


def test_a_page_has_message_storage_and_an_api_request_none(db):
    seen = {}

    def view(request):
        seen[request.path] = hasattr(request, "_messages")
        return HttpResponse("ok")

    middleware = SessionMiddleware(MessageMiddleware(view))
    middleware(RequestFactory().get("/accounts/login/"))
    middleware(RequestFactory().get("/api/v1/runs"))
    assert seen == {"/accounts/login/": True, "/api/v1/runs": False}


def test_the_site_uses_both(settings):
    assert "nunu_admin.middleware.CSPMiddleware" in settings.MIDDLEWARE
    assert "nunu_admin.middleware.MessageMiddleware" in settings.MIDDLEWARE
