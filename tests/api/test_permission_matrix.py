"""The permission matrix, generated from the registry so it cannot drift (STYLE.md).

Every endpoint in apikeys.permissions × every non-empty set of permissions:
a key holding the endpoint's permission gets past the guard; any other key gets
403 MISSING_PERMISSION naming that one permission. Endpoints the registry lists
but no URL serves yet are skipped with the reason, and fill in when they land.
"""

from __future__ import annotations

import itertools
import re
import uuid

import pytest
from django.urls import Resolver404, resolve

from api.models import Build, Run
from api.permissions import PERMISSION_CODES
from apikeys.decorators import (
    BY_METHOD,
    KEY_REQUIRED,
    PERMISSION,
    access_of,
    permission_for_method,
)
from apikeys.permissions import registry
from tests.api_factories import make_build, make_run

ENDPOINTS = [
    (code, *endpoint.split(" ", 1))
    for code, permission in registry.permissions.items()
    for endpoint in permission.endpoints
]
ENDPOINT_IDS = [f"{method} {path}" for _, method, path in ENDPOINTS]
PERMISSION_SETS = [
    frozenset(chosen)
    for size in range(1, len(PERMISSION_CODES) + 1)
    for chosen in itertools.combinations(PERMISSION_CODES, size)
]
ID_ENDPOINTS = [(code, method, path) for code, method, path in ENDPOINTS if "{" in path]


PARAMETER = re.compile(r"\{[^}]+\}|<[^>]+>")
# A body each endpoint accepts when the key may call it, so "allowed" is a real answer.
BODIES = {
    ("POST", "/api/v1/runs"): lambda ids: {"name": "matrix"},
    ("POST", "/api/v1/runs/stop"): lambda ids: {"run_ids": [ids["runId"]]},
}


def shape(path: str) -> str:
    """``/api/v1/runs/{runId}`` and ``api/v1/runs/<str:run_id>`` both as ``/api/v1/runs/{}``."""
    return "/" + PARAMETER.sub("{}", path).lstrip("/")


def _key_required_routes() -> list[str]:
    """Routes under /api/ declared ``@key_required``: any usable key, no permission."""
    from api import urls

    return [
        shape("api/" + str(pattern.pattern))
        for pattern in urls.urlpatterns
        if (access_of(pattern.callback) or ("",))[0] == KEY_REQUIRED
    ]


KEY_REQUIRED_ROUTES = _key_required_routes()


def assert_served(method: str, template: str, path: str) -> None:
    """Fail unless ``path`` reaches the view written for ``template``.

    Every endpoint the registry names must be served: a typo in the registry, or a
    route that swallows another (/builds/{buildId} catching /builds/upload), is a
    failure here, never a skipped row that tests nothing.
    """
    try:
        match = resolve(path)
    except Resolver404:
        pytest.fail(f"{method} {template} is in the registry but no URL serves it.")
    assert shape(match.route) == shape(template), (
        f"{method} {template} is in the registry but its path reaches the route {match.route!r}."
    )


@pytest.fixture
def ids(project):
    run = make_run(project, state=Run.State.RUNNING)
    build = make_build(project, status=Build.Status.READY)
    return {"runId": str(run.id), "buildId": str(build.id)}


def fill(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], template)


@pytest.mark.parametrize(("code", "method", "template"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_registry_endpoint_is_served_by_a_view_declaring_its_permission(
    code, method, template
):
    path = fill(template, {"runId": str(uuid.uuid4()), "buildId": str(uuid.uuid4())})
    assert_served(method, template, path)
    assert permission_for_method(access_of(resolve(path).func), method) == code


@pytest.mark.parametrize(
    "permissions", PERMISSION_SETS, ids=lambda s: "+".join(sorted(c.split(":")[1] for c in s))
)
@pytest.mark.parametrize(("code", "method", "template"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_endpoint_answers_only_keys_holding_its_permission(
    project, make_key, api, ids, code, method, template, permissions
):
    path = fill(template, ids)
    assert_served(method, template, path)
    _, plaintext = make_key(project, sorted(permissions))
    body = BODIES.get((method, template), lambda ids: None)(ids)
    response = api(plaintext).request(method, path, body)
    assert response["Content-Type"].startswith("application/json") or response.status_code == 204
    if code in permissions:
        assert response.status_code not in (401, 403), response.content
        assert response.status_code < 500, response.content
    else:
        assert response.status_code == 403, response.content
        refusal = response.json()
        assert refusal["code"] == "MISSING_PERMISSION"
        assert refusal["details"]["required_permissions"] == [code]
        assert response["X-Accepted-Permissions"] == code


@pytest.mark.parametrize(
    ("code", "method", "template"), ID_ENDPOINTS, ids=[f"{m} {p}" for _, m, p in ID_ENDPOINTS]
)
def test_another_projects_key_gets_404_on_every_id_route(
    other_project, make_key, api, ids, code, method, template
):
    path = fill(template, ids)
    assert_served(method, template, path)
    _, plaintext = make_key(other_project, list(PERMISSION_CODES))
    response = api(plaintext).request(method, path)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "NOT_FOUND"
    assert Run.objects.filter(id=ids["runId"]).exists()
    assert Build.objects.filter(id=ids["buildId"]).exists()


def test_every_api_route_declares_what_the_registry_says():
    """The other direction: no URL under /api/v1/ needs a permission the registry omits."""
    from api import urls

    registry: dict[tuple[str, str], str] = {
        (method, shape(path)): code for code, method, path in ENDPOINTS
    }
    for pattern in urls.urlpatterns:
        route = shape("api/" + str(pattern.pattern))
        declared = access_of(pattern.callback)
        assert declared is not None, f"{route} declares no access"
        kind, value = declared
        if kind == BY_METHOD:
            for method, code in value.items():
                assert registry.get((method, route)) == code, f"{method} {route}"
        elif kind == PERMISSION:
            listed = {code for (_, path), code in registry.items() if path == route}
            assert listed == {value}, f"{route} declares {value}, the registry {listed}"


def test_an_endpoint_no_url_serves_fails_the_matrix_instead_of_skipping():
    with pytest.raises(pytest.fail.Exception, match="no URL serves it"):
        assert_served("GET", "/api/v1/runz", "/api/v1/runz")
    with pytest.raises(AssertionError, match="reaches the route"):
        assert_served("POST", "/api/v1/builds/uplod", "/api/v1/builds/uplod")


def test_the_introspection_route_is_declared_key_required():
    assert "/api/v1/key" in KEY_REQUIRED_ROUTES


@pytest.mark.parametrize(
    "permissions", PERMISSION_SETS, ids=lambda s: "+".join(sorted(c.split(":")[1] for c in s))
)
@pytest.mark.parametrize("path", KEY_REQUIRED_ROUTES)
def test_key_required_routes_answer_every_key_whatever_its_permissions(
    project, make_key, api, path, permissions
):
    _, plaintext = make_key(project, sorted(permissions))
    response = api(plaintext).get(path)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["permissions"] == [
        code for code in PERMISSION_CODES if code in permissions
    ]


@pytest.mark.parametrize("path", KEY_REQUIRED_ROUTES)
def test_key_required_routes_still_refuse_requests_without_a_key(api, db, path):
    response = api(None).get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "MISSING_API_KEY"
