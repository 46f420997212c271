"""The demo's builds, runs and bugs; each says which key started it (``key_id``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from api.models import Bug, Build, Run
from apikeys.models import Project


def seed_builds(project: Project, key_id: str, *, at: Callable[[float], datetime]) -> None:
    """Three finished builds, the newest a day old."""
    for days, version, platform, size in (
        (-9, "1.4.0", "windows", 1_843_200_000),
        (-4, "1.4.1", "android", 734_003_200),
        (-1, "1.4.2", "windows", 1_851_392_000),
    ):
        file_name = f"game-{version}-{platform}.zip"
        build = Build(
            project=project,
            name=f"Game {version} ({platform})",
            description=f"Nightly build {version}.",
            file_name=file_name,
            file_size=size,
            platform=platform,
            tags=["nightly", platform],
            status=Build.Status.READY,
            sha256=hashlib.sha256(f"{project.slug}/{file_name}".encode()).hexdigest(),
            created_at=at(days),
            completed_at=at(days) + timedelta(minutes=6),
            initiator={"type": "api", "value": {"key_id": key_id}},
        )
        build.object_key = f"builds/{project.slug}/{build.id}/{file_name}"
        build.save()


def seed_runs(
    project: Project, key_id: str, *, at: Callable[[float], datetime], limit: int | None
) -> None:
    """A run in every state, some with bugs; ``limit`` keeps the first few."""
    build = Build.objects.filter(project=project).order_by("-created_at").first()
    plans: list[tuple[str, str, str, float, list[tuple[str, str]]]] = [
        # (name, state, result, started days ago, bugs as (severity, title))
        ("Smoke test", Run.State.QUEUED, "", -0.01, []),
        ("Full regression", Run.State.RUNNING, "", -0.05, []),
        ("Smoke test", Run.State.COMPLETED, Run.Result.PASSED, -1, []),
        (
            "Full regression",
            Run.State.COMPLETED,
            Run.Result.FAILED,
            -2,
            [
                (Bug.Severity.HIGH, "Player falls through the floor in level 3"),
                (Bug.Severity.MEDIUM, "Inventory icons overlap at 4K"),
                (Bug.Severity.LOW, "Typo in the credits"),
            ],
        ),
        ("Multiplayer soak", Run.State.STOPPED, "", -3, []),
        (
            "Boss fight exploration",
            Run.State.FAILED,
            Run.Result.ERROR,
            -4,
            [(Bug.Severity.CRITICAL, "Crash when the boss enters phase 2")],
        ),
        (
            "Smoke test",
            Run.State.COMPLETED,
            Run.Result.FAILED,
            -6,
            [(Bug.Severity.MEDIUM, "Main menu music does not loop")],
        ),
    ]
    for name, state, result, days, bugs in plans[:limit]:
        started = at(days)
        finished = started + timedelta(minutes=42) if state in Run.FINISHED_STATES else None
        run = Run.objects.create(
            project=project,
            name=name,
            state=state,
            result=result,
            build=build,
            tags=["nightly"] if "regression" in name.lower() else ["smoke"],
            initiator={"type": "api", "value": {"key_id": key_id}},
            initiator_key_id=key_id,
            created_at=started - timedelta(minutes=2),
            started_at=started if state != Run.State.QUEUED else None,
            finished_at=finished,
        )
        for offset, (severity, title) in enumerate(bugs):
            Bug.objects.create(
                run=run,
                title=title,
                severity=severity,
                description=f"Found by the {name.lower()} run.",
                created_at=started + timedelta(minutes=10 + offset),
            )
