"""apikeys.guard.routing: a path's declaration, resolved once while the URLs stay the same."""

from __future__ import annotations

import pytest
from django.urls.resolvers import URLResolver

from api.permissions import READ_RUNS
from apikeys.decorators import PERMISSION, PUBLIC
from apikeys.guard import routing


@pytest.fixture(autouse=True)
def guard_urls(settings):
    settings.ROOT_URLCONF = "tests.guard_urls"


@pytest.fixture
def resolutions(monkeypatch):
    """The paths the root resolver is asked to resolve."""
    seen: list[str] = []
    original = URLResolver.resolve

    def counting(self, path):
        if self.pattern.regex.pattern == "^/":
            seen.append(path)
        return original(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counting)
    return seen


def test_a_path_names_its_views_declaration():
    found = routing.route("/api/v1/read")
    assert found.found
    assert found.access == (PERMISSION, READ_RUNS)
    assert routing.route("/api/openapi.json").access == (PUBLIC, None)


def test_an_undeclared_view_is_found_without_a_declaration():
    found = routing.route("/api/v1/undeclared")
    assert found.found and found.access is None
    assert found.view_name.endswith("undeclared")


def test_a_path_no_pattern_matches_is_not_found():
    assert routing.route("/api/v1/no-such-thing") == routing.NOT_FOUND


def test_a_path_is_resolved_once_however_often_it_is_asked(resolutions):
    routing.clear()
    path = "/api/v1/builds"
    for _ in range(5):
        assert routing.route(path).access is not None
    assert resolutions.count(path) == 1


def test_a_long_path_is_resolved_each_time_and_never_kept(resolutions):
    path = "/api/v1/" + "x" * routing.MAX_CACHED_PATH_LENGTH
    for _ in range(3):
        assert routing.route(path) == routing.NOT_FOUND
    assert resolutions.count(path) == 3


def test_a_changed_url_configuration_is_seen_at_once(settings):
    assert routing.route("/api/v1/read").found
    settings.ROOT_URLCONF = "tests.unknown_code_urls"
    assert not routing.route("/api/v1/read").found
    settings.ROOT_URLCONF = "tests.guard_urls"
    assert routing.route("/api/v1/read").found
