"""The demo keys: one in each state the key list, the key page and the security review
tell apart, with the usage that puts it there."""

from __future__ import annotations

from dataclasses import dataclass

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys.permissions import registry

QUICK_START_KEY = "Quick start key"
ROTATED_KEY = "Deploy bot"

CI = list(registry.presets["ci-cd"].permissions)
MONITORING = list(registry.presets["monitoring"].permissions)
BUILD_UPLOAD = list(registry.presets["build-upload"].permissions)


@dataclass(frozen=True)
class DemoKey:
    """One key in one state; times are days relative to now (negative: ago)."""

    name: str
    permissions: list[str]
    description: str
    created: float
    expires: float | None  # None: no expiry
    last_used: float | None = None  # None: never used
    deactivated: float | None = None
    # (when, source, where): reported leaked, e.g. by GitHub's secret scanning.
    exposed: tuple[float, str, str] | None = None
    refused: tuple[str, int, float] | None = None  # (code, count, last refusal)
    used_permissions: dict[str, float] | None = None  # permission -> last use
    daily: int = 0  # typical requests per day while in use
    by_former_member: bool = False
    # IPv4/IPv6 addresses and CIDR ranges the key may be used from (SPEC §11); empty: any.
    allowed_ips: tuple[str, ...] = ()


DEMO_KEYS = (
    DemoKey(
        "Docs preview deploy",
        BUILD_UPLOAD,
        "Uploaded preview builds from the docs repository.",
        created=-30,
        expires=60,
        last_used=-2,
        # committed to a public repository; GitHub's secret scanning reported it
        exposed=(-2, "github", "https://github.com/acme-demo/docs/blob/4f2a9c1/deploy.sh#L12"),
        refused=("DISABLED_API_KEY", 9, -0.5),
        used_permissions={MANAGE_BUILD_STORAGE: -2},
        daily=12,
    ),
    DemoKey(
        "GitHub Actions CI",
        CI,
        "Uploads nightly builds and starts the smoke-test runs.",
        created=-40,
        expires=50,
        last_used=-0.1,
        # operate-runs unused for 50 days: the review suggests dropping it.
        used_permissions={MANAGE_BUILD_STORAGE: -0.1, OPERATE_RUNS: -50},
        daily=120,
    ),
    DemoKey(
        "Grafana monitoring",
        MONITORING,
        "Read-only: run results for the QA dashboard.",
        created=-3,
        expires=87,
    ),
    DemoKey(
        "Build farm uploader",
        BUILD_UPLOAD,
        "Uploads from the build farm's machines only.",
        created=-25,
        expires=65,
        last_used=-0.2,
        used_permissions={MANAGE_BUILD_STORAGE: -0.2},
        daily=25,
        # The farm's IPv4 range and its IPv6 prefix: from anywhere else, 403 IP_NOT_ALLOWED.
        allowed_ips=("203.0.113.0/24", "2001:db8:42::/48"),
    ),
    DemoKey(
        "Old build uploader",
        BUILD_UPLOAD,
        "The upload script from the previous build server.",
        created=-150,
        expires=215,
        last_used=-60,  # stale: unused for longer than the 45-day threshold
        used_permissions={MANAGE_BUILD_STORAGE: -60},
        daily=15,
    ),
    DemoKey(
        "Release pipeline",
        CI,
        "Release candidates: upload and full regression.",
        created=-85,
        expires=5,  # expires within 7 days, still in use
        last_used=-1,
        used_permissions={MANAGE_BUILD_STORAGE: -1, OPERATE_RUNS: -1},
        daily=30,
    ),
    DemoKey(
        "Legacy exporter",
        MONITORING,
        "Exported run results to the old spreadsheet.",
        created=-120,
        expires=-10,  # expired, and something still tries it
        last_used=-11,
        refused=("EXPIRED_API_KEY", 14, -1),
        used_permissions={READ_RUNS: -11},
        daily=8,
    ),
    DemoKey(
        "QA contractor",
        [READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE],
        "Access for the external QA team (contract ended).",
        created=-70,
        expires=20,
        last_used=-45,
        deactivated=-40,  # disabled for over 30 days and never deleted
        used_permissions={READ_RUNS: -45, OPERATE_RUNS: -46},
        daily=40,
    ),
    DemoKey(
        "Nightly regression runner",
        [READ_RUNS, OPERATE_RUNS],
        "Starts the nightly regression suite.",
        created=-100,
        expires=80,
        last_used=-5,
        deactivated=-5,  # disabled, but the cron job was never updated
        refused=("DISABLED_API_KEY", 230, -0.02),
        used_permissions={READ_RUNS: -5, OPERATE_RUNS: -5},
        daily=46,
    ),
    DemoKey(
        "Local scripts",
        MONITORING,
        "Sam's scripts for pulling run results.",
        created=-20,
        expires=None,  # no expiry
        last_used=-3,
        used_permissions={READ_RUNS: -3},
        daily=5,
        by_former_member=True,
    ),
)
