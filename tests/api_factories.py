"""Runs, bugs and builds for the API tests, made directly (the API only starts runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.models import Bug, Build, Run
from apikeys.models import Project

BASE_TIME = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def make_build(project: Project, **fields: Any) -> Build:
    values: dict[str, Any] = {
        "name": "Build",
        "file_name": "game.apk",
        "file_size": 1024,
        "platform": "android",
        "status": Build.Status.READY,
    }
    values.update(fields)
    return Build.objects.create(project=project, **values)


def make_run(project: Project, **fields: Any) -> Run:
    values: dict[str, Any] = {"name": "Run", "state": Run.State.QUEUED}
    values.update(fields)
    return Run.objects.create(project=project, **values)


def make_runs(project: Project, count: int, *, start: datetime = BASE_TIME, **fields: Any):
    """``count`` runs one minute apart, oldest first, named "run 0" … "run n-1"."""
    return [
        make_run(project, name=f"run {n}", created_at=start + timedelta(minutes=n), **fields)
        for n in range(count)
    ]


def make_bug(run: Run, **fields: Any) -> Bug:
    values: dict[str, Any] = {"title": "Button does not respond", "severity": "high"}
    values.update(fields)
    return Bug.objects.create(run=run, **values)
