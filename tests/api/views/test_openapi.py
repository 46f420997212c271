"""The OpenAPI document (api.views.openapi) says exactly what the API serves and who may call it."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from openapi_spec_validator import validate

from api.permissions import PERMISSION_CODES
from api.views.openapi import ERROR_CODES, document
from apikeys.decorators import (
    KEY_REQUIRED,
    PUBLIC,
    SELF_AUTHENTICATED,
    access_of,
    permission_for_method,
)
from apikeys.permissions import registry

PREFIX = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _api_v1_patterns() -> list[str]:
    """Every route under /api/v1/, as Django writes it (``v1/runs/<str:run_id>``)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    return [route.removeprefix("api/") for route in found if route.startswith("api/v1/")]


def _doc_path(route: str) -> str:
    return "/" + _CONVERTER.sub(lambda m: "{" + _camel(m.group(2)) + "}", route).removeprefix("v1/")


def _sample_url(doc_path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return "1" if match.group(1) == "partNumber" else str(uuid.uuid4())

    return PREFIX + re.sub(r"\{(\w+)\}", fill, doc_path)


def test_the_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_the_document_is_served_without_a_key(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json() == document()


def test_every_api_v1_url_is_documented_and_every_documented_path_exists():
    served = {_doc_path(route) for route in _api_v1_patterns()}
    assert served == set(document()["paths"])


@pytest.fixture
def full_key(project, make_key) -> str:
    return make_key(project, PERMISSION_CODES)[1]


@pytest.mark.parametrize("path", sorted(document()["paths"]))
def test_each_path_serves_exactly_the_documented_methods(api, full_key, path):
    """A method is served when it is answered with anything but 405."""
    client = api(full_key)
    served = set()
    for method in METHODS:
        response = client.request(method.upper(), _sample_url(path), {})
        assert response.status_code != 500
        if response.status_code != 405:
            served.add(method)
        else:
            assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert served == set(document()["paths"][path])


def _operations():
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


@pytest.mark.parametrize(("path", "method", "operation"), list(_operations()))
def test_each_operation_names_the_permission_its_view_declares(path, method, operation):
    view = resolve(_sample_url(path)).func
    access = access_of(view)
    declared = permission_for_method(access, method.upper())
    assert operation["x-required-permission"] == declared
    if access is not None and access[0] == KEY_REQUIRED:
        assert operation["x-key-required"] is True
        assert "security" not in operation  # the document's default: the ApiKey header
        assert "MISSING_PERMISSION" not in operation["responses"]["403"]["description"]
        assert "`IP_NOT_ALLOWED`" in operation["responses"]["403"]["description"]
    elif declared is None and access is not None and access[0] == PUBLIC:
        assert operation["x-public"] is True
        assert operation["security"] == []
        assert "Public" in operation["description"]
    elif declared is None:
        assert access is not None and access[0] == SELF_AUTHENTICATED
        assert operation["x-authenticated-by"] == access[1]
        assert operation["security"] == []
        assert access[1] in operation["description"]
    else:
        assert f"`{declared}`" in operation["description"]
        assert operation["responses"]["403"]  # MISSING_PERMISSION is documented


def test_the_document_grants_what_the_permission_registry_grants():
    granted: dict[str, set[str]] = {code: set() for code in PERMISSION_CODES}
    for path, method, operation in _operations():
        if operation["x-required-permission"]:
            granted[operation["x-required-permission"]].add(f"{method.upper()} {PREFIX}{path}")
    for code, permission in registry.permissions.items():
        assert granted[code] == set(permission.endpoints), code


def test_every_documented_error_code_is_explained():
    doc = document()
    assert set(doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]) == set(
        ERROR_CODES
    )
    for _, _, operation in _operations():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                codes = schema["allOf"][1]["properties"]["code"]["enum"]
                assert set(codes) <= set(ERROR_CODES)
                assert all(f"`{code}`" in response["description"] for code in codes)


def test_the_api_key_security_scheme_is_the_header():
    scheme = document()["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Api-Key")
    assert document()["security"] == [{"ApiKey": []}]


@pytest.mark.parametrize(("path", "method", "operation"), list(_operations()))
def test_every_keyed_answer_documents_the_expiry_header_and_the_allowlist_refusal(
    path, method, operation
):
    keyed = operation.get("security") != []
    for status, response in operation["responses"].items():
        headers = response.get("headers", {})
        if keyed and status not in ("401", "429"):
            assert headers["X-Api-Key-Expires"]["schema"]["format"] == "date-time", status
        else:
            assert "X-Api-Key-Expires" not in headers, status
    if keyed:
        assert "`IP_NOT_ALLOWED`" in operation["responses"]["403"]["description"]
