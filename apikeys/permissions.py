"""The permission registry and the presets: the only place the codes are written.

Every view under /api/ declares one of these codes (apikeys.decorators); the
wizard, the CLI, the docs and the tests' permission matrix all read this file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Permission:
    code: str
    label: str
    description: str
    endpoints: tuple[str, ...]


READ_RUNS = "project:read-runs"
OPERATE_RUNS = "project:operate-runs"
MANAGE_BUILD_STORAGE = "project:manage-build-storage"

PERMISSIONS: dict[str, Permission] = {
    p.code: p
    for p in (
        Permission(
            READ_RUNS,
            "Read runs",
            "List runs, read one run and the bugs it found.",
            ("GET /api/v1/runs", "GET /api/v1/runs/{runId}", "GET /api/v1/runs/{runId}/bugs"),
        ),
        Permission(
            OPERATE_RUNS,
            "Operate runs",
            "Start runs and stop them.",
            ("POST /api/v1/runs", "POST /api/v1/runs/stop"),
        ),
        Permission(
            MANAGE_BUILD_STORAGE,
            "Manage build storage",
            "List, upload and delete builds.",
            (
                "GET /api/v1/builds",
                "POST /api/v1/builds/upload",
                "POST /api/v1/builds/upload/complete",
                "DELETE /api/v1/builds/upload",
                "DELETE /api/v1/builds/{buildId}",
            ),
        ),
    )
}
PERMISSION_CODES: tuple[str, ...] = tuple(PERMISSIONS)


@dataclass(frozen=True)
class Preset:
    slug: str
    label: str
    description: str
    permissions: tuple[str, ...]


PRESETS: dict[str, Preset] = {
    p.slug: p
    for p in (
        Preset(
            "ci-cd",
            "CI/CD Integration",
            "Upload builds and start or stop runs from a pipeline.",
            (MANAGE_BUILD_STORAGE, OPERATE_RUNS),
        ),
        Preset(
            "monitoring",
            "Monitoring Dashboard",
            "Read runs and their bugs; change nothing.",
            (READ_RUNS,),
        ),
        Preset(
            "build-upload",
            "Build Upload Only",
            "Upload and manage builds; nothing else.",
            (MANAGE_BUILD_STORAGE,),
        ),
    )
}


def normalize(codes: object) -> list[str]:
    """The given codes in registry order, or ValueError naming the first unknown one."""
    if isinstance(codes, str) or not hasattr(codes, "__iter__"):
        raise ValueError("Permissions must be a list of permission codes.")
    chosen = set()
    for code in codes:  # type: ignore[attr-defined]
        if code not in PERMISSIONS:
            raise ValueError(
                f"Unknown permission {code!r}; choose from {', '.join(PERMISSION_CODES)}."
            )
        chosen.add(code)
    if not chosen:
        raise ValueError("A key needs at least one permission.")
    return [code for code in PERMISSION_CODES if code in chosen]


def preset_for(codes: list[str] | tuple[str, ...]) -> Preset | None:
    """The preset with exactly these permissions, if there is one."""
    wanted = set(codes)
    for preset in PRESETS.values():
        if set(preset.permissions) == wanted:
            return preset
    return None
