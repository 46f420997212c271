"""The paths of nunu's own resources, one function per group: the key and runs, builds
(the upload protocol is api.openapi.uploads)."""

from __future__ import annotations

from typing import Any

from api.openapi.components import (
    ANY_KEY,
    BAD_INPUT,
    BAD_JSON_BODY,
    PAGE_PARAMETERS,
    UUID,
    envelope,
    error_answer,
    json_answer,
    nullable,
    operation,
    path_parameter,
    query,
    ref,
)
from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS

RUN_ID = path_parameter("runId", {"type": "string"}, "The run's id (a UUID).")
BUILD_ID = path_parameter("buildId", {"type": "string"}, "The build's id (a UUID).")
NOT_FOUND_ANSWER = error_answer("No such id in this key's project.", ["NOT_FOUND"])
BUILD_ANSWER = json_answer(envelope(ref("Build")), "The build.")
UPLOAD_GONE = error_answer("The upload is past its deadline.", ["UPLOAD_EXPIRED"])
UPLOAD_CONFLICT = error_answer("The upload is no longer in progress.", ["UPLOAD_NOT_IN_PROGRESS"])
TOO_LARGE = error_answer("Over the declared file_size or the maximum.", ["PAYLOAD_TOO_LARGE"])
STRING = {"type": "string"}


def key_and_run_paths() -> dict[str, Any]:
    """GET /key, and the runs with their bugs."""
    return {
        "/key": {
            "get": operation(
                tag="keys",
                summary="Describe the key making the request",
                permission=ANY_KEY,
                description="Its id, name, project, permissions, expiry and IP allowlist, "
                "so a pipeline can check its key before it needs it. A key that cannot be "
                "used gets the guard's refusal, which says why.",
                responses={"200": json_answer(envelope(ref("KeyInfo")), "The key.")},
            ),
        },
        "/runs": {
            "get": operation(
                tag="runs",
                summary="List the project's runs, newest first",
                permission=READ_RUNS,
                parameters=[
                    query("state", STRING, "One state or several, comma-separated, or all."),
                    query("tag", STRING, "Only runs with this tag."),
                    query("created_after", STRING, "ISO 8601 date or date-time."),
                    *PAGE_PARAMETERS,
                ],
                responses={
                    "200": json_answer(
                        envelope({"type": "array", "items": ref("Run")}, paginated=True),
                        "A page of runs.",
                    ),
                    "400": BAD_INPUT,
                },
            ),
            "post": operation(
                tag="runs",
                summary="Start a run (state QUEUED)",
                permission=OPERATE_RUNS,
                description="`build_id` must name a READY build of the key's project.",
                body={
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "build_id": nullable(UUID),
                        "tags": nullable(
                            {"type": "array", "items": {"type": "string"}, "maxItems": 50}
                        ),
                    },
                },
                responses={
                    "201": json_answer(envelope(ref("Run")), "The run, QUEUED."),
                    "400": BAD_INPUT,
                    "413": BAD_JSON_BODY,
                },
            ),
        },
        "/runs/stop": {
            "post": operation(
                tag="runs",
                summary="Stop one or more runs",
                permission=OPERATE_RUNS,
                description="200 when every run was stopped, 207 with one result per id otherwise.",
                body={
                    "type": "object",
                    "required": ["run_ids"],
                    "properties": {
                        "run_ids": {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": 1,
                            "maxItems": 100,
                        }
                    },
                },
                responses={
                    "200": json_answer(envelope(ref("StopSummary")), "Every run stopped."),
                    "207": json_answer(
                        envelope(ref("StopSummary")), "Some runs could not be stopped."
                    ),
                    "400": BAD_INPUT,
                    "413": BAD_JSON_BODY,
                },
            ),
        },
        "/runs/{runId}": {
            "get": operation(
                tag="runs",
                summary="Read one run",
                permission=READ_RUNS,
                parameters=[RUN_ID],
                responses={
                    "200": json_answer(envelope(ref("Run")), "The run."),
                    "404": NOT_FOUND_ANSWER,
                },
            ),
        },
        "/runs/{runId}/bugs": {
            "get": operation(
                tag="runs",
                summary="The bugs a run found",
                permission=READ_RUNS,
                parameters=[RUN_ID],
                responses={
                    "200": json_answer(
                        envelope({"type": "array", "items": ref("Bug")}, paginated=True),
                        "The bugs.",
                    ),
                    "404": NOT_FOUND_ANSWER,
                },
            ),
        },
    }


def build_paths() -> dict[str, Any]:
    """The stored builds: list and delete."""
    return {
        "/builds": {
            "get": operation(
                tag="builds",
                summary="List the project's builds, newest first",
                permission=MANAGE_BUILD_STORAGE,
                parameters=[
                    query("status", STRING, "One status or several, comma-separated, or all."),
                    *PAGE_PARAMETERS,
                ],
                responses={
                    "200": json_answer(
                        envelope({"type": "array", "items": ref("Build")}, paginated=True),
                        "A page of builds.",
                    ),
                    "400": BAD_INPUT,
                },
            ),
        },
        "/builds/{buildId}": {
            "delete": operation(
                tag="builds",
                summary="Delete a finished build and its file",
                permission=MANAGE_BUILD_STORAGE,
                parameters=[BUILD_ID],
                responses={
                    "204": {"description": "Deleted."},
                    "404": NOT_FOUND_ANSWER,
                    "409": error_answer(
                        "The build is still uploading.", ["BUILD_UPLOAD_IN_PROGRESS"]
                    ),
                },
            ),
        },
    }
