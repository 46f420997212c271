"""nunu's permissions and presets, registered with apikeys by the site's settings
(APIKEYS_PERMISSIONS, APIKEYS_PRESETS). Every view under /api/v1/ declares one of
these codes; the wizard, the CLI, the docs and the permission matrix read them
through ``apikeys.permissions.registry``."""

from __future__ import annotations

from apikeys.permissions import Permission, Preset

READ_RUNS = "project:read-runs"
OPERATE_RUNS = "project:operate-runs"
MANAGE_BUILD_STORAGE = "project:manage-build-storage"

PERMISSIONS: tuple[Permission, ...] = (
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
PERMISSION_CODES: tuple[str, ...] = tuple(p.code for p in PERMISSIONS)

PRESETS: tuple[Preset, ...] = (
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
