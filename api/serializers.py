"""Runs, bugs and builds as the JSON the API answers, with nunu.ai's field names.

Plain functions, no queries: the selectors fetch everything a row shows
(the build's id and name, the bug count as ``bug_count``).
Timestamps are ISO 8601 in UTC with a ``Z``; absent values are null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.models import Bug, Build, Run
from api.selectors import RunRow


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def run_to_dict(run: Run | RunRow) -> dict[str, Any]:
    """A run: ``completed_at`` is when it finished (completed, stopped or failed);
    ``duration_ms`` runs from start to finish and is null until both are known."""
    duration_ms = None
    if run.started_at is not None and run.finished_at is not None:
        duration_ms = round((run.finished_at - run.started_at).total_seconds() * 1000)
    build = run.build
    bug_count = getattr(run, "bug_count", None)
    return {
        "id": str(run.id),
        "name": run.name,
        "state": run.state,
        "result": run.result or None,
        "build": {"id": str(build.id), "name": build.name} if build is not None else None,
        "tags": list(run.tags or []),
        "initiator": run.initiator or None,
        "bug_info": {"bug_count": bug_count} if bug_count is not None else None,
        "created_at": timestamp(run.created_at),
        "started_at": timestamp(run.started_at),
        "completed_at": timestamp(run.finished_at),
        "duration_ms": duration_ms,
    }


def bug_to_dict(bug: Bug) -> dict[str, Any]:
    return {
        "id": str(bug.id),
        "title": bug.title,
        "severity": bug.severity,
        "description": bug.description,
        "created_at": timestamp(bug.created_at),
    }


def build_to_dict(build: Build) -> dict[str, Any]:
    return {
        "id": str(build.id),
        "name": build.name,
        "description": build.description,
        "file_name": build.file_name,
        "file_size": build.file_size,
        "platform": build.platform,
        "tags": list(build.tags or []),
        "status": build.status,
        "multipart": build.multipart,
        "sha256": build.sha256 or None,
        "created_at": timestamp(build.created_at),
        "completed_at": timestamp(build.completed_at),
    }
