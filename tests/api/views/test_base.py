"""Bad requests to the API views get JSON answers with nunu's error envelope, never HTML
and never a 500: wrong methods (405 + Allow), unknown paths, oversized and hostile
bodies and query strings."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.permissions import PERMISSION_CODES
from tests.api_factories import make_build, make_run


@pytest.fixture
def client(project, make_key, api):
    _, plaintext = make_key(project, list(PERMISSION_CODES))
    return api(plaintext)


@pytest.fixture
def ids(project):
    return {"run": make_run(project).id, "build": make_build(project).id}


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "code", "details"}
    assert body["code"] == code
    assert body["error"].strip()
    return body


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/runs", "GET, HEAD, POST"),
        ("DELETE", "/api/v1/runs", "GET, HEAD, POST"),
        ("PATCH", "/api/v1/runs/{run}", "GET, HEAD"),
        ("DELETE", "/api/v1/runs/{run}", "GET, HEAD"),
        ("POST", "/api/v1/runs/{run}/bugs", "GET, HEAD"),
        ("GET", "/api/v1/runs/stop", "POST"),
        ("DELETE", "/api/v1/runs/stop", "POST"),
        ("POST", "/api/v1/builds", "GET, HEAD"),
        ("GET", "/api/v1/builds/{build}", "DELETE"),
        ("PUT", "/api/v1/builds/{build}", "DELETE"),
    ],
)
def test_a_wrong_method_is_405_with_an_allow_header(client, ids, method, path, allow):
    response = client.request(method, path.format(**ids))
    body = assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == allow
    assert body["details"]["allowed_methods"] == allow.split(", ")
    assert method in body["error"]


def test_head_is_answered_like_get(client, ids):
    assert client.request("HEAD", "/api/v1/runs").status_code == 200
    assert client.request("HEAD", f"/api/v1/runs/{ids['run']}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing",
        "/api/v1/runs/",
        "/api/v1/runs/{run}/",
        "/api/v1/runs/{run}/logs",
        "/api/v2/runs",
    ],
)
def test_an_unknown_path_is_a_json_404_not_a_redirect(client, ids, path):
    assert_json_error(client.get(path.format(**ids)), 404, "NOT_FOUND")


def test_the_request_id_in_an_error_is_the_one_in_the_header(client):
    response = client.get("/api/v1/runs?page=-1")
    body = assert_json_error(response, 400, "VALIDATION_ERROR")
    assert body["details"]["request_id"]
    assert body["details"]["request_id"] == response["X-Request-Id"]


def test_validation_errors_quote_the_bad_value(client):
    body = assert_json_error(client.get("/api/v1/runs?state=paused"), 400, "VALIDATION_ERROR")
    assert "'paused'" in body["details"]["fields"]["state"][0]
    assert "state" in body["error"]


def test_a_body_over_the_upload_limit_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/api/v1/runs", {"name": "x", "tags": ["t" * 100] * 20})
    assert_json_error(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deep nesting must not crash the parser
        b'{"name": "\\ud800"}',  # a lone surrogate
        b'{"name": NaN}',
        b"\x00\x01",
    ],
)
def test_hostile_bodies_never_cause_a_500(client, raw):
    response = client.post("/api/v1/runs", raw)
    assert response.status_code in (201, 400), response.content
    assert response["Content-Type"] == "application/json"


def test_bodies_sent_as_form_data_are_a_validation_error(client):
    response = client.client.post("/api/v1/runs", {"name": "x"}, headers={"X-Api-Key": client.key})
    body = assert_json_error(response, 400, "VALIDATION_ERROR")
    assert list(body["details"]["fields"]) == ["body"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
RUN_BODIES = (
    st.dictionaries(
        st.sampled_from(["name", "tags", "additional_tags", "build_id", "other"]), JSON_VALUES
    )
    | JSON_VALUES
)
STOP_BODIES = st.dictionaries(st.sampled_from(["run_ids", "job_ids"]), JSON_VALUES) | st.builds(
    lambda ids: {"run_ids": ids}, st.lists(st.text() | st.just(str(uuid.uuid4())), max_size=5)
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=RUN_BODIES)
def test_any_json_body_to_start_a_run_is_201_or_a_validation_error(client, body):
    response = client.post("/api/v1/runs", json.dumps(body))
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert response.json()["code"] == "VALIDATION_ERROR"
        assert response.json()["details"]["fields"]


@FUZZ
@given(body=STOP_BODIES)
def test_any_json_body_to_stop_runs_is_200_207_or_a_validation_error(client, body):
    response = client.post("/api/v1/runs/stop", json.dumps(body))
    assert response.status_code in (200, 207, 400), response.content
    assert response["Content-Type"] == "application/json"


QUERY_PARAMETERS = st.dictionaries(
    st.sampled_from(
        ["state", "tag", "tags", "created_after", "page", "page_size", "limit", "cursor"]
    ),
    st.text(max_size=30),
)


@FUZZ
@given(query=QUERY_PARAMETERS)
def test_any_query_string_on_a_list_is_200_or_a_validation_error(client, query):
    for path in ("/api/v1/runs", "/api/v1/builds"):
        response = client.get(f"{path}?{urlencode(query)}")
        assert response.status_code in (200, 400), response.content
        assert response["Content-Type"] == "application/json"


@FUZZ
@given(segment=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s))
def test_any_id_segment_is_answered_with_json(client, segment):
    from urllib.parse import quote

    for method, template in (
        ("GET", "/api/v1/runs/{}"),
        ("GET", "/api/v1/runs/{}/bugs"),
        ("DELETE", "/api/v1/builds/{}"),
    ):
        response = client.request(method, template.format(quote(segment, safe="")))
        assert response.status_code in (200, 204, 404, 405), response.content
        if response.status_code != 204:
            assert response["Content-Type"] == "application/json"
