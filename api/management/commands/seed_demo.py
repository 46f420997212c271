"""python manage.py seed_demo: demo data for a local machine (`make run` runs it every time).

Idempotent: users, projects, keys (by name), runs and builds are created only
when missing, so running it twice adds nothing and fails on nothing. It lives
in the ``api`` app because it seeds runs and builds, which ``apikeys`` must
not know about.

The demo passwords are fixed strings on purpose: this is demo data for
127.0.0.1, and they are set only when this command creates the users. No demo
key's plaintext is printed, except the one "Quick start key", once, when it
is first created, so the README's curl example can be tried at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser
from django.db import transaction
from django.utils import timezone

from api.models import Bug, Build, Run
from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.management.base import BadInput
from apikeys.management.base import Command as CLICommand
from apikeys.models import (
    APIKey,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
    Membership,
    Project,
)
from apikeys.permissions import registry

# Where the dev server listens; `make run` passes the HOST and PORT it chose.
DEFAULT_URL = "http://127.0.0.1:8000"

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Game Studio"
OTHER_SLUG = "other-studio"
OTHER_NAME = "Other Studio"

ADMIN = ("admin", "nunu-admin-demo")
AUDITOR = ("auditor", "nunu-auditor-demo")
# Created a key, then left the project: the security review flags the key.
FORMER_MEMBER = "sam"

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


class Command(CLICommand):
    help = (
        "Create demo data: a project with keys in every state, runs, bugs and builds, "
        "an admin and an auditor. Safe to run again: it only adds what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default=DEFAULT_URL,
            help=f"The server's address, for the URLs printed (default {DEFAULT_URL}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = server_url(options["url"])
        now = timezone.now()
        with transaction.atomic():
            seeded = Seeder(now)
            seeded.run()
        self.report(seeded, base)

    def report(self, seeded: Seeder, base: str) -> None:
        out = self.stdout.write
        login_url, api_url = f"{base}/accounts/login/", f"{base}/api/v1/runs"
        if seeded.created:
            out(f"Demo data created: {', '.join(seeded.created)}.")
        else:
            out("Demo data already present; nothing added.")
        out("")
        out(f"Sign in at {login_url}")
        out(
            f"  {ADMIN[0] + ' / ' + ADMIN[1]:<30}  superuser; admin of {DEMO_SLUG!r} "
            f"and {OTHER_SLUG!r}"
        )
        out(
            f"  {AUDITOR[0] + ' / ' + AUDITOR[1]:<30}  read-only auditor of {DEMO_SLUG!r}; "
            f"not a member of {OTHER_SLUG!r} (its pages answer 404)"
        )
        out("  (passwords are set only when seed_demo creates the users)")
        out("")
        if seeded.quick_start_plaintext:
            out("Try the API with this demo key (it will not be shown again):")
            out(f"  export NUNU_API_KEY={seeded.quick_start_plaintext}")
        else:
            out("Try the API with a new key (printed once, on stdout):")
            out(
                "  export NUNU_API_KEY=$(DJANGO_DEBUG=1 .venv/bin/python manage.py createapikey "
                f"--project {DEMO_SLUG} "
                '--name "curl $(date +%s)" --preset monitoring --expires-in 7d)'
            )
        out(f'  curl -H "X-Api-Key: $NUNU_API_KEY" {api_url}')


def server_url(value: str) -> str:
    """``http://host:port`` without a trailing slash; a wildcard host reads as 127.0.0.1."""
    url = value.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    scheme, _, rest = url.partition("://")
    host, sep, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if host in ("0.0.0.0", "", "[::]", "::"):  # noqa: S104  # a listening address, not a bind
        host = "127.0.0.1"
    if scheme not in ("http", "https") or not (port.isdigit() or not sep):
        raise BadInput(f"--url must look like http://127.0.0.1:8000, not {value!r}.")
    return f"{scheme}://{host}{sep}{port}"


class Seeder:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.created: list[str] = []
        self.quick_start_plaintext = ""

    def at(self, days: float) -> datetime:
        return self.now + timedelta(days=days)

    def run(self) -> None:
        admin = self.user(*ADMIN, superuser=True)
        auditor = self.user(*AUDITOR)
        self.actor = services.Actor(user=admin, ip="127.0.0.1", user_agent="seed_demo")

        demo = self.project(DEMO_SLUG, DEMO_NAME)
        services.member_set(project=demo, user=admin, role=Membership.Role.ADMIN, actor=self.actor)
        services.member_set(
            project=demo, user=auditor, role=Membership.Role.AUDITOR, actor=self.actor
        )
        former = self.former_member(demo)
        for spec in DEMO_KEYS:
            self.key(demo, spec, creator=former if spec.by_former_member else admin)
        self.rotated_pair(demo)
        self.quick_start_key(demo)
        self.builds_and_runs(demo, initiator=DEMO_KEYS[0].name)

        other = self.project(OTHER_SLUG, OTHER_NAME)
        services.member_set(project=other, user=admin, role=Membership.Role.ADMIN, actor=self.actor)
        self.key(
            other,
            DemoKey("Other studio CI", CI, "", created=-10, expires=80, last_used=-1, daily=20),
            creator=admin,
        )
        self.builds_and_runs(other, initiator="Other studio CI", runs=2)

    # --- users and projects ---------------------------------------------

    def user(self, username: str, password: str | None, *, superuser: bool = False) -> Any:
        users = get_user_model()
        user = users.objects.filter(**{users.USERNAME_FIELD: username}).first()
        if user is not None:
            return user
        if superuser:
            user = users.objects.create_superuser(username=username, password=password)
        else:
            user = users.objects.create_user(username=username, password=password)
        self.created.append(f"user {username}")
        return user

    def project(self, slug: str, name: str) -> Project:
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            project = services.project_create(slug=slug, name=name, actor=self.actor)
            self.created.append(f"project {slug}")
        return project

    def former_member(self, project: Project) -> Any:
        users = get_user_model()
        user = users.objects.filter(**{users.USERNAME_FIELD: FORMER_MEMBER}).first()
        if user is None:
            user = self.user(FORMER_MEMBER, None)  # no usable password: cannot sign in
            services.member_set(
                project=project, user=user, role=Membership.Role.ADMIN, actor=self.actor
            )
            services.member_remove(project=project, user=user, actor=self.actor)
        return user

    # --- keys -----------------------------------------------------------

    def key(self, project: Project, spec: DemoKey, *, creator: Any) -> APIKey | None:
        if APIKey.objects.filter(project=project, name=spec.name).exists():
            return None
        created = self.at(spec.created)
        key, _plaintext = services.key_create(
            project=project,
            name=spec.name,
            description=spec.description,
            permissions=spec.permissions,
            expires_at=self.at(spec.expires) if spec.expires is not None else None,
            actor=services.Actor(user=creator, ip="127.0.0.1", user_agent="seed_demo"),
            now=created,
        )
        self.created.append(f"key {spec.name!r}")
        self.usage(key, spec, since=created)
        if spec.deactivated is not None:
            services.key_deactivate(key=key, actor=self.actor, now=self.at(spec.deactivated))
        if spec.exposed is not None:
            when, source, where = spec.exposed
            services.key_expose(
                key=key,
                source=source,
                url=where,
                actor=services.Actor.cli(f"{source}-report"),
                notify=False,  # demo data: nobody to tell
                now=self.at(when),
            )
        if spec.refused is not None:
            self.refusals(key, *spec.refused)
        return key

    def usage(self, key: APIKey, spec: DemoKey, *, since: datetime) -> None:
        if spec.last_used is None:
            return
        last_used = self.at(spec.last_used)
        APIKey.objects.filter(pk=key.pk).update(
            first_used_at=min(since + timedelta(hours=1), last_used),
            last_used_at=last_used,
            last_used_ip="203.0.113.10",
        )
        APIKeyPermissionUsage.objects.bulk_create(
            APIKeyPermissionUsage(key=key, permission=code, last_used_at=self.at(days))
            for code, days in (spec.used_permissions or {}).items()
        )
        self.daily(key, first=since, last=last_used, per_day=spec.daily)

    def daily(self, key: APIKey, *, first: datetime, last: datetime, per_day: int) -> None:
        """Requests per day over the last 30 days, between first and last use."""
        rows = []
        for back in range(30):
            day = (self.now - timedelta(days=back)).date()
            if not first.date() <= day <= last.date():
                continue
            # A weekly rhythm, deterministic, so the chart has a shape.
            count = max(1, per_day + (back * 7 % 11 - 5) * per_day // 10)
            rows.append(APIKeyDailyUsage(key=key, date=day, request_count=count))
        APIKeyDailyUsage.objects.bulk_create(rows)

    def refusals(self, key: APIKey, code: str, count: int, last_days: float) -> None:
        last = self.at(last_days)
        APIKeyRefusal.objects.create(
            key=key,
            code=code,
            count=count,
            first_at=last - timedelta(days=4),
            last_at=last,
            last_ip="198.51.100.7",
        )
        for back in range(5):
            day = (last - timedelta(days=back)).date()
            refused = count // 5 + (count % 5 if back == 0 else 0)
            updated = APIKeyDailyUsage.objects.filter(key=key, date=day).update(
                refused_count=refused
            )
            if not updated:
                APIKeyDailyUsage.objects.create(key=key, date=day, refused_count=refused)

    def rotated_pair(self, project: Project) -> None:
        """Rotated two days ago with a 7-day grace: the successor took over since."""
        if APIKey.objects.filter(project=project, name=ROTATED_KEY).exists():
            return
        spec = DemoKey(
            ROTATED_KEY,
            CI,
            "Deploys builds to the test farm.",
            created=-80,
            expires=10,
            last_used=-2.1,
            used_permissions={MANAGE_BUILD_STORAGE: -2.1, OPERATE_RUNS: -2.1},
            daily=60,
        )
        old = self.key(project, spec, creator=self.actor.user)
        assert old is not None
        rotated_at = self.at(-2)
        successor, _plaintext = services.key_rotate(
            key=old, actor=self.actor, grace=services.GRACE_PERIODS["7d"], now=rotated_at
        )
        first_use = rotated_at + timedelta(hours=1)
        self.usage(
            successor,
            DemoKey(
                successor.name,
                CI,
                "",
                created=-2,
                expires=None,
                last_used=-0.05,
                used_permissions={MANAGE_BUILD_STORAGE: -0.05, OPERATE_RUNS: -0.5},
                daily=60,
            ),
            since=first_use,
        )
        self.created.append(f"its successor {successor.name!r}")

    def quick_start_key(self, project: Project) -> None:
        if APIKey.objects.filter(project=project, name=QUICK_START_KEY).exists():
            return
        _key, plaintext = services.key_create(
            project=project,
            name=QUICK_START_KEY,
            description="Made by seed_demo for trying the API with curl.",
            permissions=[READ_RUNS, OPERATE_RUNS],
            expires_at=self.at(30),
            actor=self.actor,
            now=self.now,
        )
        self.quick_start_plaintext = plaintext
        self.created.append(f"key {QUICK_START_KEY!r}")

    # --- runs, bugs, builds ---------------------------------------------

    def builds_and_runs(self, project: Project, *, initiator: str, runs: int | None = None) -> None:
        """The runs and builds say which key started them: ``initiator`` names it."""
        key_id = (
            APIKey.objects.filter(project=project, name=initiator)
            .values_list("key_id", flat=True)
            .first()
        ) or ""
        if not Build.objects.filter(project=project).exists():
            self.builds(project, key_id)
        if not Run.objects.filter(project=project).exists():
            self.runs(project, key_id, limit=runs)

    def builds(self, project: Project, key_id: str) -> None:
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
                created_at=self.at(days),
                completed_at=self.at(days) + timedelta(minutes=6),
                initiator={"type": "api", "value": {"key_id": key_id}},
            )
            build.object_key = f"builds/{project.slug}/{build.id}/{file_name}"
            build.save()
        self.created.append(f"builds in {project.slug}")

    def runs(self, project: Project, key_id: str, *, limit: int | None) -> None:
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
            started = self.at(days)
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
        self.created.append(f"runs in {project.slug}")
