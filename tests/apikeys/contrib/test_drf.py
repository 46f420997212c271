"""apikeys.contrib.drf: every answer of SPEC §4 through Django REST framework, judged
once whether or not the view is under the middleware's prefix."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import Client
from django.urls import path

from api.permissions import READ_RUNS
from apikeys.contrib.drf import HasAPIKeyPermission
from apikeys.decorators import FRONT_END, access_of
from apikeys.guard import usage
from apikeys.models import APIKeyDailyUsage
from tests.apikeys.contrib import urls
from tests.apikeys.contrib.contract import *  # noqa: F403  (the tests every front end passes)
from tests.apikeys.contrib.contract import Paths, get, refusal


@pytest.fixture(params=["/api/drf", "/drf"], ids=["under-the-api-prefix", "alone"])
def front_end(request) -> Paths:
    return Paths(read=f"{request.param}/read", write=f"{request.param}/runs")


def test_the_middleware_leaves_drf_views_it_guards_to_drf():
    assert access_of(urls.DRFRead.as_view()) == (FRONT_END, "drf")
    assert access_of(urls.DRFUnguarded.as_view()) is None


def test_a_drf_view_under_the_prefix_without_the_permission_class_is_refused(project, make_key):
    _, plaintext = make_key(project, [READ_RUNS])
    refusal(get("/api/drf/unguarded", plaintext), 403, "MISSING_PERMISSION")


def test_the_permission_class_authenticates_by_itself(project, make_key, db):
    key, plaintext = make_key(project, [READ_RUNS])
    assert get("/api/drf/permission-only", plaintext).json()["data"]["api_key"] == key.key_id
    refusal(get("/api/drf/permission-only"), 401, "MISSING_API_KEY")


def test_a_method_the_mapping_does_not_name_is_refused_to_every_key(project, make_key):
    _, plaintext = make_key(project, [READ_RUNS])
    body = refusal(
        Client().put("/api/drf/runs", headers={"X-Api-Key": plaintext}), 403, "MISSING_PERMISSION"
    )
    assert body["details"]["required_permissions"] == []
    # A method the view does not serve is DRF's 405, once the key was checked.
    assert Client().delete("/api/drf/runs", headers={"X-Api-Key": plaintext}).status_code == 405
    refusal(Client().delete("/api/drf/runs"), 401, "MISSING_API_KEY")


def test_a_refusal_is_json_even_for_a_browser(db):
    response = Client().get("/drf/read", headers={"Accept": "text/html"})
    refusal(response, 401, "MISSING_API_KEY")


def test_drfs_own_401s_name_the_key_header(project, make_key):
    response = get("/drf/user-only")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'ApiKey header="X-Api-Key"'
    # request.user is AnonymousUser: a key never passes for a signed-in person.
    _, plaintext = make_key(project, [READ_RUNS])
    assert get("/drf/user-only", plaintext).status_code == 403


def test_an_accepted_request_under_the_prefix_is_counted_once(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    response = get("/api/drf/read", plaintext)
    assert response.status_code == 200 and response["X-Request-Id"]
    usage.flush_all()
    assert APIKeyDailyUsage.objects.get(key=key).request_count == 1


class NoRequiredPermission(urls.DRFRead):
    required_permission = None


urlpatterns = [path("api/drf/forgot", NoRequiredPermission.as_view())]


def test_a_view_that_names_no_required_permission_is_refused_and_reported(
    settings, project, make_key
):
    settings.ROOT_URLCONF = __name__
    _, plaintext = make_key(project, [READ_RUNS])
    body = refusal(get("/api/drf/forgot", plaintext), 403, "MISSING_PERMISSION")
    assert body["details"]["required_permissions"] == []
    errors = [e for e in checks.run_checks() if e.id == "apikeys.E006"]
    assert len(errors) == 1 and "NoRequiredPermission" in errors[0].msg
    assert not [e for e in checks.run_checks() if e.id == "apikeys.E001"]


def test_the_contrib_urls_pass_the_system_checks_but_for_the_unguarded_views():
    errors = [e for e in checks.run_checks() if e.id.startswith("apikeys.")]
    assert sorted(e.id for e in errors) == ["apikeys.E001", "apikeys.E001"]
    assert {e.obj.rsplit(".", 1)[-1] for e in errors} == {"DRFUnguarded", "sync_view_wrapper"}


def test_the_permission_class_is_what_marks_a_view():
    class Other(HasAPIKeyPermission):
        pass

    class View(urls.DRFRead):
        permission_classes = [Other]

    assert access_of(View.as_view()) == (FRONT_END, "drf")
