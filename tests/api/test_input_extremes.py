"""Every query parameter, path parameter and body field of the API, fed extreme values:
never a 5xx (SPEC §4: bad input is a 400 VALIDATION_ERROR or another 4xx).

The operations and their fields are read from the OpenAPI document, so a new
parameter is fuzzed the day it is documented. Values: dates at years 1 and 9999
with offsets up to ±23:59 (PostgreSQL refuses offsets beyond ±15:59), huge and
negative numbers (as JSON numbers and as text), and odd Unicode (NUL, lone
surrogates, direction overrides, combining marks, astral characters, 10,000
characters). Runs on SQLite and, with DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.permissions import PERMISSION_CODES
from api.views.openapi import document

DOCUMENT = document()
BASE = DOCUMENT["servers"][0]["url"]


def _operations() -> list[tuple[str, str, list[tuple[str, str]], dict[str, Any]]]:
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = [
                (p["in"], p["name"])
                for p in operation.get("parameters", []) + item.get("parameters", [])
                if isinstance(p, dict) and "name" in p
            ]
            body = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            found.append((method.upper(), path, parameters, body.get("properties", {})))
    return found


OPERATIONS = _operations()

offsets = st.builds(
    lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
    st.sampled_from("+-"),
    st.integers(0, 23),
    st.integers(0, 59),
) | st.sampled_from(["Z", "", "+23:59", "-23:59", "+16:00", "-15:59"])
# The edges of what datetime can hold, where an offset pushes a value over them.
edges = st.sampled_from([(1, 1, 1), (9999, 12, 31), (1970, 1, 1), (2038, 1, 19)]) | st.tuples(
    st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28)
)
dates = st.builds(
    lambda day, clock, offset: f"{day[0]:04d}-{day[1]:02d}-{day[2]:02d}{clock}{offset}",
    edges,
    st.sampled_from(["T00:00:00", "T23:59:59", "T23:59:59.999999", "T12:00", " 00:00:00"]),
    offsets,
) | st.sampled_from(
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "0001-01-01",
        "9999-12-31",
        "0000-01-01",
        "10000-01-01",
        "2025-02-30",
        "2025-01-01T24:00:00",
    ]
)
numbers = st.sampled_from(
    [0, -1, 1, 2**31, 2**31 - 1, -(2**31), 2**63, 2**63 - 1, -(2**63), 10**30, -(10**30)]
) | st.integers(-(10**40), 10**40)
odd_text = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\ud800",
        "\udfff",
        "\u202eevil",
        "e\u0301\u0301\u0301",
        "\U0001d518\U0001f600",
        "\ufeff",
        "\u200b",
        "%00",
        "../../etc/passwd",
        "x" * 10_000,
        "",
        " ",
        "null",
        "-0",
        "1e400",
        "NaN",
    ]
) | st.text(max_size=30)
scalars = st.one_of(
    dates, numbers, numbers.map(str), odd_text, st.booleans(), st.none(), st.floats()
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=6,
)
# What a query string or a path segment can carry: text (any, even a lone surrogate,
# which a real client can send percent-encoded).
# Dates twice: most parameters are not dates, so their extremes must come often.
texts = st.one_of(dates, dates, numbers.map(str), odd_text)


def _encoded(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _body_field(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    items = schema.get("items", {})
    if schema.get("type") == "array" and items.get("properties"):
        objects = st.fixed_dictionaries(
            {}, optional=dict.fromkeys(items["properties"], json_values)
        )
        return st.lists(objects, max_size=3) | json_values
    return json_values


@st.composite
def requests(draw: Any, operation: tuple) -> tuple[str, str, bytes | None]:
    method, path, parameters, body = operation
    url = BASE + path
    query = []
    for where, name in parameters:
        if where == "path":
            url = url.replace("{" + name + "}", _encoded(draw(texts)) or "x")
        elif where == "query" and draw(st.booleans()):
            query.append(f"{_encoded(name)}={_encoded(draw(texts))}")
    if query:
        url += "?" + "&".join(query)
    data = None
    if body:
        fields = {name: _body_field(schema) for name, schema in body.items()}
        payload = draw(st.fixed_dictionaries({}, optional=fields))
        data = json.dumps(payload, allow_nan=True).encode()
    return method, url, data


@pytest.fixture
def full_key(project, make_key, settings) -> str:
    settings.APIKEYS_RATE_LIMIT_ENABLED = False
    _, plaintext = make_key(project, list(PERMISSION_CODES))
    return plaintext


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=[f"{method} {path}" for method, path, _, _ in OPERATIONS]
)
def test_extreme_input_is_never_a_server_error(operation, full_key, client):
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(requests(operation))
    def check(request: tuple[str, str, bytes | None]) -> None:
        method, url, data = request
        response = client.generic(
            method,
            url,
            data=data or b"",
            content_type="application/json",
            headers={"X-Api-Key": full_key},
        )
        assert response.status_code < 500, (method, url, data, response.content[:500])
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/json"), response.content

    check()


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59-00:01",
        "0001-01-01T00:00:00+00:01",
        "0001-01-01T00:00:00+23:59",
        "10000-01-01",
    ],
)
def test_a_date_outside_years_1_to_9999_in_utc_is_a_validation_error_quoting_it(
    value, full_key, client
):
    response = client.get(
        f"{BASE}/runs?created_after={_encoded(value)}", headers={"X-Api-Key": full_key}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert repr(value) in body["details"]["fields"]["created_after"][0]


@pytest.mark.parametrize(
    "value",
    ["2025-01-31T12:00:00+16:00", "2025-01-31T12:00:00-23:59", "0001-01-01T23:59:00+23:59"],
)
def test_an_offset_postgresql_cannot_store_is_moved_to_utc_and_answered(value, full_key, client):
    response = client.get(
        f"{BASE}/runs?created_after={_encoded(value)}", headers={"X-Api-Key": full_key}
    )
    assert response.status_code == 200, response.content
