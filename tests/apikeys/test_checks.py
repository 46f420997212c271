"""The system checks (apikeys.checks): an /api/ view that declares nothing is named;
a per-process cache is a deploy warning."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apikeys.checks import check_api_views_declare_access, check_shared_cache


def test_an_undeclared_api_view_is_reported_by_name(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"
    errors = check_api_views_declare_access()
    assert [error.id for error in errors] == ["apikeys.E001"]
    assert "tests.guard_urls.undeclared" in errors[0].msg
    assert "/api/v1/undeclared" in errors[0].msg


def test_undeclared_views_outside_api_are_not_its_business(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"
    reported = " ".join(error.msg for error in check_api_views_declare_access())
    assert "/elsewhere/" not in reported


def test_manage_py_check_fails_on_an_undeclared_api_view(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"
    try:
        call_command("check")
    except SystemCheckError as error:
        assert "apikeys.E001" in str(error)
    else:
        raise AssertionError("manage.py check passed with an undeclared /api/ view")


def test_the_projects_own_api_views_all_declare_their_access():
    assert check_api_views_declare_access() == []


LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
REDIS = "django.core.cache.backends.redis.RedisCache"


@pytest.mark.parametrize(
    "backend", [LOCMEM, "django.core.cache.backends.dummy.DummyCache"], ids=["locmem", "dummy"]
)
def test_a_cache_the_processes_do_not_share_is_a_deploy_warning(settings, backend):
    settings.CACHES = {"default": {"BACKEND": backend}}
    warnings = check_shared_cache()
    assert [warning.id for warning in warnings] == ["apikeys.W001"]
    assert "count per process" in warnings[0].msg
    assert "REDIS_URL" in warnings[0].hint


def test_redis_as_the_cache_is_no_warning(settings):
    settings.CACHES = {"default": {"BACKEND": REDIS, "LOCATION": "redis://127.0.0.1:1/0"}}
    assert check_shared_cache() == []


def test_the_warning_looks_at_the_cache_the_limits_use(settings):
    settings.CACHES = {"default": {"BACKEND": REDIS}, "local": {"BACKEND": LOCMEM}}
    settings.APIKEYS_CACHE_ALIAS = "local"
    assert [warning.id for warning in check_shared_cache()] == ["apikeys.W001"]


def test_the_cache_warning_is_for_deploy_only(settings):
    settings.CACHES = {"default": {"BACKEND": LOCMEM}}
    call_command("check")  # no SystemCheckError, and W001 is not among plain checks
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING")
    except SystemCheckError as error:
        assert "apikeys.W001" in str(error)
    else:
        raise AssertionError("check --deploy was silent about a per-process cache")


def test_key_required_is_a_declaration_and_an_unknown_kind_is_reported(settings):
    settings.ROOT_URLCONF = "tests.access_kinds_urls"
    errors = check_api_views_declare_access()
    assert [error.id for error in errors] == ["apikeys.E002"]
    assert "/api/v1/mystery" in errors[0].msg and "'everyone'" in errors[0].msg


def test_the_guard_lets_any_key_through_key_required_and_none_through_an_unknown_kind(
    settings, project, make_key, api
):
    from api.permissions import READ_RUNS

    settings.ROOT_URLCONF = "tests.access_kinds_urls"
    key, plaintext = make_key(project, [READ_RUNS])
    assert api(plaintext).get("/api/v1/whoami").json() == {"data": {"key_id": key.key_id}}
    assert api(None).get("/api/v1/whoami").status_code == 401
    refused = api(plaintext).get("/api/v1/mystery")
    assert (refused.status_code, refused.json()["code"]) == (403, "MISSING_PERMISSION")


def test_a_declared_code_nobody_registered_is_reported_not_raised_at_import(settings):
    settings.ROOT_URLCONF = "tests.unknown_code_urls"  # importing it raised nothing
    errors = [e for e in check_api_views_declare_access() if e.id == "apikeys.E005"]
    assert sorted(e.msg.split("'")[1] for e in errors) == ["project:launch", "project:read-rnus"]
    assert "tests.unknown_code_urls.typo" in " ".join(e.msg for e in errors)


def test_a_key_never_passes_a_view_whose_code_nobody_registered(settings, project, make_key, api):
    settings.ROOT_URLCONF = "tests.unknown_code_urls"
    _, plaintext = make_key(project)
    response = api(plaintext).get("/api/v1/typo")
    assert response.status_code == 403
    assert response.json()["code"] == "MISSING_PERMISSION"


def test_a_registry_that_cannot_be_read_is_a_check_error(settings):
    from apikeys.checks import check_registry

    assert check_registry() == []
    settings.APIKEYS_PERMISSIONS = "no.such.module.PERMISSIONS"
    errors = check_registry()
    assert [e.id for e in errors] == ["apikeys.E003"]
    assert "'no.such.module.PERMISSIONS' cannot be imported" in errors[0].msg


def test_a_key_prefix_that_is_not_letters_and_digits_is_a_check_error(settings):
    from apikeys.checks import check_registry

    settings.APIKEYS_KEY_PREFIX = "my_app"
    assert [e.id for e in check_registry()] == ["apikeys.E004"]
