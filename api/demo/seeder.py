"""Seeder: the demo's users, projects and keys with their usage, created only when missing.

Idempotent: users, projects, keys (by name), runs and builds are created only
when missing, so running it twice adds nothing and fails on nothing. The demo
passwords are fixed strings on purpose: this is demo data for 127.0.0.1, and
they are set only when the users are created here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model

from api.demo.keys import (
    CI,
    DEMO_KEYS,
    QUICK_START_KEY,
    ROTATED_KEY,
    DemoKey,
)
from api.demo.runs import seed_builds, seed_runs
from api.models import Build, Run
from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.models import (
    APIKey,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
    Membership,
    Project,
)

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Game Studio"
OTHER_SLUG = "other-studio"
OTHER_NAME = "Other Studio"

ADMIN = ("admin", "nunu-admin-demo")
AUDITOR = ("auditor", "nunu-auditor-demo")
# Created a key, then left the project: the security review flags the key.
FORMER_MEMBER = "sam"


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
            allowed_ips=list(spec.allowed_ips),
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
            seed_builds(project, key_id, at=self.at)
            self.created.append(f"builds in {project.slug}")
        if not Run.objects.filter(project=project).exists():
            seed_runs(project, key_id, at=self.at, limit=runs)
            self.created.append(f"runs in {project.slug}")
