"""The runs API (SPEC §4): list with filters and pagination, start, read, bugs, stop."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import Run
from api.permissions import OPERATE_RUNS, READ_RUNS
from tests.api_factories import BASE_TIME, make_bug, make_build, make_run, make_runs

RUNS = "/api/v1/runs"


@pytest.fixture
def client(project, make_key, api):
    _, plaintext = make_key(project, [READ_RUNS, OPERATE_RUNS])
    return api(plaintext)


@pytest.fixture
def key_and_client(project, make_key, api):
    key, plaintext = make_key(project, [READ_RUNS, OPERATE_RUNS])
    return key, api(plaintext)


def names(response) -> list[str]:
    return [run["name"] for run in response.json()["data"]]


def field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    return body["details"]["fields"]


# --- GET /runs -------------------------------------------------------------


def test_list_is_newest_first_in_the_data_envelope_with_pagination(client, project):
    make_runs(project, 3)
    response = client.get(RUNS)
    assert response.status_code == 200
    assert names(response) == ["run 2", "run 1", "run 0"]
    assert response.json()["pagination"] == {
        "page": 0,
        "page_size": 20,
        "total_count": 3,
        "total_pages": 1,
        "has_more": False,
        "next_cursor": None,
    }


def test_a_run_shows_nunus_fields_with_utc_timestamps(client, project):
    build = make_build(project, name="v1.2.3")
    run = make_run(
        project,
        name="smoke",
        state=Run.State.COMPLETED,
        result=Run.Result.PASSED,
        build=build,
        tags=["nightly"],
        initiator={"type": "api", "value": {"key_id": "abcdefghijkl"}},
        created_at=BASE_TIME,
        started_at=BASE_TIME + timedelta(seconds=30),
        finished_at=BASE_TIME + timedelta(seconds=90, milliseconds=500),
    )
    make_bug(run)
    make_bug(run)
    listed = client.get(RUNS).json()["data"][0]
    assert listed == {
        "id": str(run.id),
        "name": "smoke",
        "state": "COMPLETED",
        "result": "PASSED",
        "build": {"id": str(build.id), "name": "v1.2.3"},
        "tags": ["nightly"],
        "initiator": {"type": "api", "value": {"key_id": "abcdefghijkl"}},
        "bug_info": {"bug_count": 2},
        "created_at": "2025-01-10T12:00:00Z",
        "started_at": "2025-01-10T12:00:30Z",
        "completed_at": "2025-01-10T12:01:30.500000Z",
        "duration_ms": 60500,
    }
    assert client.get(f"{RUNS}/{run.id}").json()["data"] == listed


def test_list_shows_only_the_keys_project(client, project, other_project):
    make_run(project, name="mine")
    make_run(other_project, name="theirs")
    assert names(client.get(RUNS)) == ["mine"]


@pytest.mark.parametrize("value", ["running", "RUNNING", "Running", " running "])
def test_state_filter_ignores_case(client, project, value):
    make_run(project, name="queued", state=Run.State.QUEUED)
    make_run(project, name="running", state=Run.State.RUNNING)
    assert names(client.get(f"{RUNS}?state={quote(value)}")) == ["running"]


def test_state_filter_takes_several_states_or_all(client, project):
    make_runs(project, 1, state=Run.State.QUEUED)
    make_run(project, name="running", state=Run.State.RUNNING, created_at=BASE_TIME)
    make_run(project, name="failed", state=Run.State.FAILED, created_at=BASE_TIME)
    assert sorted(names(client.get(f"{RUNS}?state=running,failed"))) == ["failed", "running"]
    assert len(names(client.get(f"{RUNS}?state=all"))) == 3


def test_unknown_state_is_a_validation_error_naming_state(client):
    fields = field_errors(client.get(f"{RUNS}?state=sleeping"))
    assert list(fields) == ["state"]
    assert "'sleeping'" in fields["state"][0]


def test_tag_filter_matches_whole_tags_only(client, project):
    make_run(project, name="nightly", tags=["nightly", "android"])
    make_run(project, name="nightly-2", tags=["nightly-2"])
    make_run(project, name="untagged")
    assert names(client.get(f"{RUNS}?tag=nightly")) == ["nightly"]
    assert names(client.get(f"{RUNS}?tags=android")) == ["nightly"]
    assert names(client.get(f"{RUNS}?tag=night")) == []


@pytest.mark.parametrize("value", ["%20", "%00"])
def test_blank_or_nul_tag_is_a_validation_error(client, value):
    assert list(field_errors(client.get(f"{RUNS}?tag={value}"))) == ["tag"]


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-10T12:01:00Z",
        "2025-01-10T12:01:00+00:00",
        "2025-01-10T13:01:00+01:00",
        "2025-01-10T12:01:00",
    ],
)
def test_created_after_keeps_runs_created_strictly_later(client, project, value):
    make_runs(project, 3)  # 12:00, 12:01, 12:02
    assert names(client.get(f"{RUNS}?created_after={quote(value)}")) == ["run 2"]


def test_created_after_survives_an_unencoded_plus_in_the_offset(client, project):
    make_runs(project, 3)
    # "+" in a query string decodes to a space; the filter reads it as the offset sign.
    assert names(client.get(f"{RUNS}?created_after=2025-01-10T13:01:00+01:00")) == ["run 2"]


def test_created_after_accepts_a_date(client, project):
    make_runs(project, 1)
    assert names(client.get(f"{RUNS}?created_after=2025-01-10")) == ["run 0"]
    assert names(client.get(f"{RUNS}?created_after=2025-01-11")) == []


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "2025-01-10T25:00:00Z", ""])
def test_bad_created_after_is_a_validation_error_naming_the_field(client, value):
    fields = field_errors(client.get(f"{RUNS}?created_after={quote(value)}"))
    assert list(fields) == ["created_after"]


def test_page_pagination_counts_pages_from_zero(client, project):
    make_runs(project, 5)
    first = client.get(f"{RUNS}?page_size=2")
    assert names(first) == ["run 4", "run 3"]
    assert first.json()["pagination"]["total_pages"] == 3
    assert first.json()["pagination"]["has_more"] is True
    last = client.get(f"{RUNS}?page=2&page_size=2")
    assert names(last) == ["run 0"]
    assert last.json()["pagination"]["has_more"] is False
    assert last.json()["pagination"]["next_cursor"] is None
    assert names(client.get(f"{RUNS}?page=3&page_size=2")) == []


def test_limit_is_accepted_for_page_size(client, project):
    make_runs(project, 3)
    response = client.get(f"{RUNS}?limit=1")
    assert names(response) == ["run 2"]
    assert response.json()["pagination"]["page_size"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
        ("limit=-1", "limit"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("page=99999999999999999999", "page"),
    ],
)
def test_bad_pagination_parameters_are_validation_errors(client, query, field):
    assert list(field_errors(client.get(f"{RUNS}?{query}"))) == [field]


def test_several_bad_parameters_are_all_named(client):
    fields = field_errors(client.get(f"{RUNS}?state=nope&created_after=nope&page_size=0"))
    assert set(fields) == {"state", "created_after", "page_size"}


def test_cursor_walks_every_run_once_even_while_new_runs_arrive(client, project):
    make_runs(project, 5)
    seen: list[str] = []
    response = client.get(f"{RUNS}?page_size=2")
    while True:
        seen += names(response)
        # A run started between two pages must not shift the pages that follow.
        make_run(project, name="late", created_at=BASE_TIME + timedelta(days=1))
        pagination = response.json()["pagination"]
        if not pagination["has_more"]:
            break
        response = client.get(f"{RUNS}?page_size=2&cursor={quote(pagination['next_cursor'])}")
        assert response.json()["pagination"]["page"] is None
    assert seen == ["run 4", "run 3", "run 2", "run 1", "run 0"]


def test_cursor_orders_runs_created_at_the_same_instant_by_id(client, project):
    for n in range(4):
        make_run(project, name=f"same {n}", created_at=BASE_TIME)
    everything = names(client.get(RUNS))
    seen: list[str] = []
    cursor = ""
    while True:
        response = client.get(f"{RUNS}?page_size=1{cursor}")
        seen += names(response)
        pagination = response.json()["pagination"]
        if not pagination["has_more"]:
            break
        cursor = f"&cursor={quote(pagination['next_cursor'])}"
    assert seen == everything
    assert sorted(seen) == [f"same {n}" for n in range(4)]


def test_cursor_keeps_the_filters(client, project):
    make_runs(project, 4, tags=["a"])
    make_runs(project, 4, tags=["b"])
    first = client.get(f"{RUNS}?tag=a&page_size=3").json()
    cursor = quote(first["pagination"]["next_cursor"])
    rest = client.get(f"{RUNS}?tag=a&page_size=3&cursor={cursor}").json()
    assert all(run["tags"] == ["a"] for run in first["data"] + rest["data"])
    assert len(first["data"] + rest["data"]) == 4


def test_tampered_cursor_is_a_validation_error(client, project):
    make_runs(project, 3)
    cursor = client.get(f"{RUNS}?page_size=1").json()["pagination"]["next_cursor"]
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    for bad in (tampered, "garbage", "", "..."):
        assert list(field_errors(client.get(f"{RUNS}?cursor={quote(bad)}"))) == ["cursor"]


def test_cursor_and_page_together_are_refused(client, project):
    make_runs(project, 3)
    cursor = client.get(f"{RUNS}?page_size=1").json()["pagination"]["next_cursor"]
    fields = field_errors(client.get(f"{RUNS}?page=1&cursor={quote(cursor)}"))
    assert list(fields) == ["cursor"]


def test_a_builds_cursor_is_not_a_runs_cursor(project, make_key, api):
    from api.permissions import MANAGE_BUILD_STORAGE

    _, plaintext = make_key(project, [READ_RUNS, MANAGE_BUILD_STORAGE])
    client = api(plaintext)
    for n in range(3):
        make_build(project, name=f"b{n}", created_at=BASE_TIME + timedelta(minutes=n))
    cursor = client.get("/api/v1/builds?page_size=1").json()["pagination"]["next_cursor"]
    assert list(field_errors(client.get(f"{RUNS}?cursor={quote(cursor)}"))) == ["cursor"]


def test_list_query_count_does_not_grow_with_rows(client, project):
    build = make_build(project)
    for run in make_runs(project, 2, build=build):
        make_bug(run)
    client.get(RUNS)  # the key's first use is written at once; later ones are batched
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(RUNS).json()["data"]) == 2
    for run in make_runs(project, 10, build=build):
        make_bug(run)
        make_bug(run)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(RUNS).json()["data"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


# --- POST /runs ------------------------------------------------------------


def test_start_answers_201_with_a_queued_run_initiated_by_the_key(key_and_client):
    key, client = key_and_client
    response = client.post(RUNS, {"name": "  smoke test ", "tags": ["ci", "pr-1", "ci"]})
    assert response.status_code == 201
    run = response.json()["data"]
    assert run["name"] == "smoke test"
    assert run["state"] == "QUEUED"
    assert run["tags"] == ["ci", "pr-1"]
    assert run["initiator"] == {"type": "api", "value": {"key_id": key.key_id}}
    assert run["build"] is None
    assert run["created_at"].endswith("Z")
    stored = Run.objects.get(id=run["id"])
    assert stored.project_id == key.project_id
    assert stored.initiator_key_id == key.key_id
    assert client.get(f"{RUNS}/{run['id']}").json()["data"] == run


def test_start_accepts_nunus_additional_tags_and_ignores_unknown_fields(client):
    response = client.post(
        RUNS,
        {
            "name": "from a nunu client",
            "deployment_config_id": str(uuid.uuid4()),
            "tags": ["a"],
            "additional_tags": ["b", "a"],
        },
    )
    assert response.status_code == 201
    assert response.json()["data"]["tags"] == ["a", "b"]


def test_start_with_a_ready_build_of_the_project(client, project):
    build = make_build(project, name="v2")
    response = client.post(RUNS, {"name": "with build", "build_id": str(build.id)})
    assert response.status_code == 201
    assert response.json()["data"]["build"] == {"id": str(build.id), "name": "v2"}
    assert Run.objects.get(id=response.json()["data"]["id"]).build_id == build.id


def test_start_with_null_build_id_and_tags_means_none(client):
    response = client.post(RUNS, {"name": "plain", "build_id": None, "tags": None})
    assert response.status_code == 201
    assert response.json()["data"]["tags"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 42}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "nul\x00byte"}, "name"),
        ({"name": "\ud800"}, "name"),
        ({"name": "ok", "tags": "nightly"}, "tags"),
        ({"name": "ok", "tags": {"a": 1}}, "tags"),
        ({"name": "ok", "tags": ["ok", 3]}, "tags"),
        ({"name": "ok", "tags": [""]}, "tags"),
        ({"name": "ok", "tags": ["\x00"]}, "tags"),
        ({"name": "ok", "tags": ["x" * 101]}, "tags"),
        ({"name": "ok", "tags": [f"t{n}" for n in range(51)]}, "tags"),
        ({"name": "ok", "additional_tags": [None]}, "additional_tags"),
        ({"name": "ok", "build_id": 7}, "build_id"),
        ({"name": "ok", "build_id": "not-a-uuid"}, "build_id"),
        ({"name": "ok", "build_id": str(uuid.uuid4())}, "build_id"),
    ],
)
def test_start_with_bad_fields_is_a_validation_error_naming_them(client, body, field):
    assert list(field_errors(client.post(RUNS, body))) == [field]
    assert not Run.objects.exists()


def test_start_names_every_bad_field_at_once(client):
    fields = field_errors(client.post(RUNS, {"name": "", "tags": "x", "build_id": 1}))
    assert set(fields) == {"name", "tags", "build_id"}


def test_start_refuses_another_projects_build_like_an_unknown_one(client, other_project):
    theirs = make_build(other_project)
    unknown = uuid.uuid4()
    theirs_error = field_errors(client.post(RUNS, {"name": "x", "build_id": str(theirs.id)}))
    unknown_error = field_errors(client.post(RUNS, {"name": "x", "build_id": str(unknown)}))
    assert theirs_error["build_id"][0].replace(str(theirs.id), "ID") == unknown_error["build_id"][
        0
    ].replace(str(unknown), "ID")


@pytest.mark.parametrize("status", ["UPLOADING", "CANCELED", "EXPIRED"])
def test_start_refuses_a_build_that_is_not_ready(client, project, status):
    build = make_build(project, status=status)
    fields = field_errors(client.post(RUNS, {"name": "x", "build_id": str(build.id)}))
    assert status in fields["build_id"][0]


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"   ", b"[1, 2]", b'"name"', b"null", b"42", b"\xff\xfe"],
)
def test_start_with_a_body_that_is_not_a_json_object_is_a_validation_error(client, raw):
    assert list(field_errors(client.post(RUNS, raw))) == ["body"]


# --- GET /runs/{id} and /runs/{id}/bugs --------------------------------------


def test_read_one_run(client, project):
    run = make_run(project, name="one", state=Run.State.RUNNING, started_at=BASE_TIME)
    data = client.get(f"{RUNS}/{run.id}").json()["data"]
    assert data["id"] == str(run.id)
    assert data["state"] == "RUNNING"
    assert data["duration_ms"] is None
    assert data["completed_at"] is None
    assert "pagination" not in client.get(f"{RUNS}/{run.id}").json()


@pytest.mark.parametrize("suffix", ["", "/bugs"])
def test_unknown_malformed_and_other_projects_run_ids_answer_the_same_404(
    client, other_project, suffix
):
    theirs = make_run(other_project)
    bodies = []
    for run_id in (uuid.uuid4(), "not-a-uuid", theirs.id, "12345"):
        response = client.get(f"{RUNS}/{run_id}{suffix}")
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "NOT_FOUND"
        body["details"].pop("request_id")
        bodies.append(body)
    assert all(body == bodies[0] for body in bodies)


def test_bugs_of_a_run_in_the_order_found(client, project):
    run = make_run(project)
    other_run = make_run(project)
    second = make_bug(
        run, title="second", severity="low", created_at=BASE_TIME + timedelta(minutes=1)
    )
    first = make_bug(
        run, title="first", severity="critical", description="Crash", created_at=BASE_TIME
    )
    make_bug(other_run, title="elsewhere")
    response = client.get(f"{RUNS}/{run.id}/bugs")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == [
        {
            "id": str(first.id),
            "title": "first",
            "severity": "critical",
            "description": "Crash",
            "created_at": "2025-01-10T12:00:00Z",
        },
        {
            "id": str(second.id),
            "title": "second",
            "severity": "low",
            "description": "",
            "created_at": "2025-01-10T12:01:00Z",
        },
    ]
    assert body["pagination"]["total_count"] == 2
    assert body["pagination"]["has_more"] is False


def test_bugs_of_a_run_without_bugs_is_an_empty_list(client, project):
    run = make_run(project)
    body = client.get(f"{RUNS}/{run.id}/bugs").json()
    assert body["data"] == []
    assert body["pagination"]["total_count"] == 0


# --- POST /runs/stop -------------------------------------------------------


def test_stop_answers_200_when_every_run_stopped(client, project):
    queued = make_run(project, state=Run.State.QUEUED)
    running = make_run(project, state=Run.State.RUNNING, started_at=BASE_TIME)
    response = client.post(f"{RUNS}/stop", {"run_ids": [str(queued.id), str(running.id)]})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["received_count"] == 2
    assert data["stopped_count"] == 2
    assert [(r["run_id"], r["ok"], r["status"], r["state"]) for r in data["results"]] == [
        (str(queued.id), True, 200, "STOPPED"),
        (str(running.id), True, 200, "STOPPED"),
    ]
    for run in (queued, running):
        run.refresh_from_db()
        assert run.state == Run.State.STOPPED
        assert run.finished_at is not None


def test_stop_answers_207_with_a_result_per_id_when_some_could_not_be_stopped(
    client, project, other_project
):
    running = make_run(project, state=Run.State.RUNNING)
    completed = make_run(project, state=Run.State.COMPLETED, finished_at=BASE_TIME)
    theirs = make_run(other_project, state=Run.State.RUNNING)
    unknown = str(uuid.uuid4())
    run_ids = [str(running.id), str(completed.id), str(theirs.id), unknown, "junk"]
    response = client.post(f"{RUNS}/stop", {"run_ids": run_ids})
    assert response.status_code == 207
    data = response.json()["data"]
    assert data["received_count"] == 5
    assert data["stopped_count"] == 1
    results = data["results"]
    assert [r["run_id"] for r in results] == run_ids
    assert results[0] == {
        "run_id": str(running.id),
        "ok": True,
        "status": 200,
        "state": "STOPPED",
        "message": "Run stopped.",
    }
    assert results[1]["ok"] is False
    assert results[1]["status"] == 409
    assert results[1]["code"] == "RUN_ALREADY_FINISHED"
    assert results[1]["state"] == "COMPLETED"
    for result in results[2:]:
        assert (result["ok"], result["status"], result["code"]) == (False, 404, "NOT_FOUND")
        assert result["message"] == results[2]["message"]
        assert "state" not in result
    completed.refresh_from_db()
    theirs.refresh_from_db()
    assert completed.state == Run.State.COMPLETED
    assert completed.finished_at == BASE_TIME
    assert theirs.state == Run.State.RUNNING


def test_stop_when_nothing_could_be_stopped_is_still_207(client, project):
    failed = make_run(project, state=Run.State.FAILED)
    response = client.post(f"{RUNS}/stop", {"run_ids": [str(failed.id)]})
    assert response.status_code == 207
    assert response.json()["data"]["stopped_count"] == 0


def test_stop_reports_a_repeated_id_once(client, project):
    run = make_run(project, state=Run.State.RUNNING)
    response = client.post(f"{RUNS}/stop", {"run_ids": [str(run.id), str(run.id)]})
    assert response.status_code == 200
    assert response.json()["data"]["received_count"] == 1


def test_stopping_a_stopped_run_again_is_a_conflict(client, project):
    run = make_run(project, state=Run.State.RUNNING)
    assert client.post(f"{RUNS}/stop", {"run_ids": [str(run.id)]}).status_code == 200
    again = client.post(f"{RUNS}/stop", {"run_ids": [str(run.id)]})
    assert again.status_code == 207
    assert again.json()["data"]["results"][0]["code"] == "RUN_ALREADY_FINISHED"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"run_ids": None},
        {"run_ids": []},
        {"run_ids": "abc"},
        {"run_ids": {"id": "abc"}},
        {"run_ids": [1]},
        {"run_ids": ["ok", None]},
        {"run_ids": [str(uuid.uuid4()) for _ in range(101)]},
    ],
)
def test_stop_with_bad_run_ids_is_a_validation_error(client, body):
    assert list(field_errors(client.post(f"{RUNS}/stop", body))) == ["run_ids"]


def test_stop_accepts_a_hundred_ids(client, project):
    run = make_run(project, state=Run.State.RUNNING)
    run_ids = [str(run.id)] + [str(uuid.uuid4()) for _ in range(99)]
    response = client.post(f"{RUNS}/stop", {"run_ids": run_ids})
    assert response.status_code == 207
    assert response.json()["data"]["stopped_count"] == 1


@pytest.mark.parametrize("raw", [b"{oops", b"", b"[]", b'"run"'])
def test_stop_with_a_body_that_is_not_a_json_object_is_a_validation_error(client, raw):
    assert list(field_errors(client.post(f"{RUNS}/stop", raw))) == ["body"]
