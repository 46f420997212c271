"""The system check (apikeys.checks): an /api/ view that declares nothing is named."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apikeys.checks import check_api_views_declare_access


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
