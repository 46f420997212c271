"""Runs: list and start them, read one and its bugs, stop several at once.

    GET  /runs                  read-runs     ?state=&tag=&created_after=&page=&page_size=&cursor=
    POST /runs                  operate-runs  {"name", "build_id"?, "tags"?}  -> 201
    GET  /runs/{runId}          read-runs
    GET  /runs/{runId}/bugs     read-runs     the whole list, in the order found
    POST /runs/stop             operate-runs  {"run_ids": [...]}  -> 200 or 207

Filters: ``state`` is one state or several separated by commas, any case
(``all`` means every state); ``tag`` (or nunu's ``tags``) keeps the runs
carrying that exact tag; ``created_after`` is an ISO 8601 date or date-time
(UTC unless it names an offset) and keeps runs created strictly after it.

POST /runs: ``name`` is required (1-200 characters); ``tags`` (nunu's
``additional_tags`` too) is a list of up to 50 strings of 1-100 characters;
``build_id`` names a READY build of the key's project. A build that is
unknown, another project's or not READY is a 400 VALIDATION_ERROR on
``build_id`` (it is a bad field of this request, not a missing resource).
Fields this API does not know (nunu's ``deployment_config_id`` …) are ignored,
so a client written for nunu.ai keeps working.

POST /runs/stop answers, in both cases, one result per distinct id in order:

    {"data": {"received_count": 3, "stopped_count": 1, "results": [
        {"run_id": "…", "ok": true,  "status": 200, "state": "STOPPED", "message": "…"},
        {"run_id": "…", "ok": false, "status": 404, "code": "NOT_FOUND", "message": "…"},
        {"run_id": "…", "ok": false, "status": 409, "code": "RUN_ALREADY_FINISHED",
         "state": "COMPLETED", "message": "…"}]}}

with HTTP 200 when every run was stopped and 207 (Multi-Status) otherwise.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from api import selectors, services
from api.models import Build, Run
from api.pagination import PaginationError, parse_page_request, single_page
from api.permissions import OPERATE_RUNS, READ_RUNS
from api.serializers import bug_to_dict, run_to_dict
from api.views.base import (
    BadBody,
    is_read,
    json_body,
    key_id_of,
    method_not_allowed,
    not_found,
    ok,
    parse_id,
    parse_timestamp,
    project_id_of,
    text_problem,
    validation_error,
)
from apikeys.decorators import require_permission, require_permissions_by_method
from apikeys.guard.request import APIRequest

MAX_NAME_LENGTH = Run._meta.get_field("name").max_length or 200
MAX_TAGS = 50
MAX_TAG_LENGTH = 100
MAX_STOP_IDS = 100
STATES = tuple(Run.State.values)


@require_permissions_by_method({"GET": READ_RUNS, "POST": OPERATE_RUNS})
def runs(request: APIRequest) -> HttpResponse:
    if is_read(request):
        return _list_runs(request)
    if request.method == "POST":
        return _start_run(request)
    return method_not_allowed(request, ["GET", "POST"])


def _list_runs(request: APIRequest) -> HttpResponse:
    errors: dict[str, list[str] | str] = {}
    query = request.GET

    states: list[str] = []
    raw_state = query.get("state")
    if raw_state is not None and raw_state.strip().lower() != "all":
        for part in raw_state.split(","):
            state = part.strip().upper()
            if state not in STATES:
                errors["state"] = (
                    f"Unknown state {part.strip()!r}; use one of {', '.join(STATES)} or all."
                )
                break
            states.append(state)

    tag_param = "tag" if "tag" in query else "tags"
    tag = query.get(tag_param)
    if tag is not None and not tag.strip():
        errors[tag_param] = "Name a tag, or leave the parameter out."
    elif tag is not None and text_problem(tag):
        errors[tag_param] = text_problem(tag) or ""

    created_after = None
    raw_created_after = query.get("created_after")
    if raw_created_after is not None:
        created_after = parse_timestamp(raw_created_after)
        if created_after is None:
            errors["created_after"] = (
                f"{raw_created_after!r} is not an ISO 8601 date or date-time between "
                "the years 1 and 9999 in UTC, such as 2025-01-31 or 2025-01-31T12:00:00Z."
            )

    try:
        wanted = parse_page_request(query, list_name="runs")
    except PaginationError as bad:
        errors.update(bad.fields)
    if errors:
        return validation_error(request, errors)

    page = selectors.runs_page(
        project_id=project_id_of(request),
        wanted=wanted,
        states=states,
        tag=tag.strip() if tag is not None else None,
        created_after=created_after,
    )
    return ok([run_to_dict(run) for run in page.rows], pagination=page.pagination)


def _start_run(request: APIRequest) -> HttpResponse:
    try:
        body = json_body(request)
    except BadBody as bad:
        return bad.response
    errors: dict[str, list[str] | str] = {}
    project_id = project_id_of(request)

    name = body.get("name")
    if name is None:
        errors["name"] = "This field is required: give the run a name."
    elif not isinstance(name, str):
        errors["name"] = "Must be a string."
    elif not name.strip():
        errors["name"] = "Must not be blank."
    elif text_problem(name):
        errors["name"] = text_problem(name) or ""
    elif len(name.strip()) > MAX_NAME_LENGTH:
        errors["name"] = f"At most {MAX_NAME_LENGTH} characters; this one has {len(name.strip())}."

    tags: list[str] = []
    for field in ("tags", "additional_tags"):
        if body.get(field) is None:
            continue
        problem = _tags_problem(body[field])
        if problem:
            errors[field] = problem
        else:
            tags.extend(tag.strip() for tag in body[field])
    tags = list(dict.fromkeys(tags))
    if len(tags) > MAX_TAGS:
        errors.setdefault("tags", f"At most {MAX_TAGS} tags; this run has {len(tags)}.")

    build = None
    raw_build_id = body.get("build_id")
    if raw_build_id is not None:
        build_problem, build = _ready_build(project_id, raw_build_id)
        if build_problem:
            errors["build_id"] = build_problem

    if errors:
        return validation_error(request, errors)
    assert isinstance(name, str)
    run = services.run_create(
        project_id=project_id,
        name=name.strip(),
        key_id=key_id_of(request),
        build=build,
        tags=tags,
    )
    run.bug_count = 0  # type: ignore[attr-defined]
    return ok(run_to_dict(run), status=201)


def _tags_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return 'Must be a list of strings, such as ["nightly", "pr-123"].'
    for position, tag in enumerate(value):
        if not isinstance(tag, str):
            return f"Item {position} is not a string."
        if not tag.strip():
            return f"Item {position} is blank."
        if text_problem(tag):
            return f"Item {position}: {text_problem(tag)}"
        if len(tag.strip()) > MAX_TAG_LENGTH:
            return f"Item {position} is longer than {MAX_TAG_LENGTH} characters."
    if len(value) > MAX_TAGS:
        return f"At most {MAX_TAGS} tags; got {len(value)}."
    return None


def _ready_build(project_id: int, raw: Any) -> tuple[str | None, Build | None]:
    if not isinstance(raw, str):
        return "Must be a build id (a UUID string).", None
    build_id = parse_id(raw)
    build = selectors.build_get(project_id=project_id, build_id=build_id) if build_id else None
    if build is None:
        return f"No build {raw!r} exists in this key's project.", None
    if build.status != Build.Status.READY:
        return (
            f"Build {raw!r} is {build.status}, not READY; "
            "complete its upload (POST /api/v1/builds/upload/complete) first.",
            None,
        )
    return None, build


@require_permission(READ_RUNS)
def run_detail(request: APIRequest, run_id: str) -> HttpResponse:
    if not is_read(request):
        return method_not_allowed(request, ["GET"])
    parsed = parse_id(run_id)
    run = selectors.run_get(project_id=project_id_of(request), run_id=parsed) if parsed else None
    if run is None:
        return not_found(request, "run")
    return ok(run_to_dict(run))


@require_permission(READ_RUNS)
def run_bugs(request: APIRequest, run_id: str) -> HttpResponse:
    if not is_read(request):
        return method_not_allowed(request, ["GET"])
    parsed = parse_id(run_id)
    if parsed is None or not selectors.run_exists(project_id=project_id_of(request), run_id=parsed):
        return not_found(request, "run")
    bugs = selectors.bugs_of_run(run_id=parsed)
    return ok([bug_to_dict(bug) for bug in bugs], pagination=single_page(bugs))


_STOP_MESSAGES = {
    200: "Run stopped.",
    404: "No run with this id exists in this key's project.",
    409: "The run has already finished; only QUEUED or RUNNING runs can be stopped.",
}


@require_permission(OPERATE_RUNS)
def runs_stop(request: APIRequest) -> HttpResponse:
    if request.method != "POST":
        return method_not_allowed(request, ["POST"])
    try:
        body = json_body(request)
    except BadBody as bad:
        return bad.response
    run_ids = body.get("run_ids")
    problem = None
    if run_ids is None:
        problem = "This field is required: a list of run ids to stop."
    elif not isinstance(run_ids, list):
        problem = "Must be a list of run ids (strings)."
    elif not run_ids:
        problem = "Name at least one run id."
    elif len(run_ids) > MAX_STOP_IDS:
        problem = f"At most {MAX_STOP_IDS} run ids per request; got {len(run_ids)}."
    else:
        for position, run_id in enumerate(run_ids):
            if not isinstance(run_id, str):
                problem = f"Item {position} is not a string."
                break
    if problem:
        return validation_error(request, {"run_ids": problem})
    assert isinstance(run_ids, list)

    results = services.runs_stop(project_id=project_id_of(request), run_ids=run_ids)
    rendered = []
    for result in results:
        item: dict[str, Any] = {
            "run_id": result.run_id,
            "ok": result.stopped,
            "status": result.status,
        }
        if result.code:
            item["code"] = result.code
        if result.state:
            item["state"] = result.state
        item["message"] = _STOP_MESSAGES[result.status]
        rendered.append(item)
    stopped = sum(result.stopped for result in results)
    data = {"received_count": len(results), "stopped_count": stopped, "results": rendered}
    return ok(data, status=200 if stopped == len(results) else 207)
