"""nunu_admin.middleware: django-csp's and Django's messages, session and authentication
middleware, idle under /api/."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client, RequestFactory

from nunu_admin.middleware import (
    AuthenticationMiddleware,
    CSPMiddleware,
    MessageMiddleware,
    SessionMiddleware,
)


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


def test_a_page_has_its_user_and_an_api_request_an_anonymous_one_and_no_session(db):
    user = get_user_model().objects.create_user("ada", password="x")
    browser = Client()
    browser.force_login(user)
    cookie = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    seen = {}

    def view(request):
        seen[request.path] = (hasattr(request, "session"), request.user.is_authenticated)
        return HttpResponse("ok")

    middleware = SessionMiddleware(AuthenticationMiddleware(view))
    for path in ("/accounts/login/", "/api/v1/runs"):
        request = RequestFactory().get(path)
        request.COOKIES[django_settings.SESSION_COOKIE_NAME] = cookie
        middleware(request)
    assert seen == {"/accounts/login/": (True, True), "/api/v1/runs": (False, False)}


def test_the_site_uses_them_all(settings):
    for name in ("CSP", "Message", "Session", "Authentication"):
        assert f"nunu_admin.middleware.{name}Middleware" in settings.MIDDLEWARE
