"""bench.middleware: case (b)'s stand-in takes the guard's place only in bench.settings."""

from __future__ import annotations

import pytest

GUARD = "apikeys.middleware.APIKeyMiddleware"
STAND_IN = "bench.middleware.GuardOffMiddleware"


@pytest.fixture
def guard_off(settings, project):
    settings.ROOT_URLCONF = "tests.guard_urls"
    settings.MIDDLEWARE = [STAND_IN if entry == GUARD else entry for entry in settings.MIDDLEWARE]
    settings.BENCH_PROJECT_ID = project.pk


def test_with_the_stand_in_views_see_an_unsaved_key_of_the_bench_project(guard_off, project, api):
    response = api().get("/api/v1/read")
    assert response.status_code == 200
    assert response.json()["data"]["project_id"] == project.pk
    assert response["X-Request-Id"]


def test_the_stand_in_keeps_errors_under_api_json(guard_off, api):
    response = api().get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_the_production_middleware_has_no_switch_that_turns_the_guard_off(settings, project, api):
    settings.ROOT_URLCONF = "tests.guard_urls"
    settings.APIKEYS_BENCH_GUARD_OFF = True  # the switch this replaced is ignored
    settings.BENCH_PROJECT_ID = project.pk
    assert api().get("/api/v1/read").json()["code"] == "MISSING_API_KEY"


@pytest.mark.parametrize("guard_off", ["1", ""])
def test_bench_settings_swap_the_guard_only_when_the_benchmark_asks(monkeypatch, guard_off):
    import importlib
    import sys

    monkeypatch.setenv("BENCH_GUARD_OFF", guard_off)
    monkeypatch.setenv("DJANGO_ALLOW_DEV_SECRET_KEY", "1")
    sys.modules.pop("bench.settings", None)
    module = importlib.import_module("bench.settings")
    sys.modules.pop("bench.settings", None)
    assert (STAND_IN in module.MIDDLEWARE) is (guard_off == "1")
    assert (GUARD in module.MIDDLEWARE) is (guard_off != "1")
