"""The data a benchmark run needs, made in bulk.

Key plaintexts exist only in this process's memory: they are handed to the load
generator through its environment and never written to a file or a table.

argon2id at full cost takes tens of milliseconds per secret, so the API
project's keys are hashed by a process pool before Django starts. The
dashboard project's 10,000 keys are never presented, so they get distinct
hashes made with argon2's smallest parameters: the list page reads rows, it
never verifies a secret.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from apikeys import keys

API_PROJECT_SLUG = "bench-api"
DASHBOARD_PROJECT_SLUG = "bench-dashboard"
ADMIN_USERNAME = "bench-admin"
RUN_COUNT = 50
# argon2's floor (8 KiB per lane, one pass): distinct, well-formed, and nearly free.
_CHEAP_HASH = {"memory_cost": 8, "time_cost": 1, "parallelism": 1}


@dataclass(frozen=True)
class HashedKey:
    key_id: str
    plaintext: str = field(repr=False)
    hashed_secret: str = field(repr=False)


def _hash_chunk(args: tuple[dict[str, int], list[tuple[str, str, str]]]) -> list[HashedKey]:
    params, chunk = args
    hasher = keys.KeyHasher(**params)
    return [
        HashedKey(key_id=key_id, plaintext=plaintext, hashed_secret=hasher.hash(secret))
        for key_id, secret, plaintext in chunk
    ]


def hashed_keys(
    count: int, params: dict[str, int], *, prefix: str, processes: int | None = None
) -> list:
    """``count`` new keys hashed with ``params``, on every core (call before django.setup())."""
    generated = [keys.generate(prefix=prefix) for _ in range(count)]
    if len({g.key_id for g in generated}) != count:  # 62**12 ids: never, but cheap to check
        return hashed_keys(count, params, prefix=prefix, processes=processes)
    triples = [(g.key_id, g.secret, g.plaintext) for g in generated]
    processes = processes or os.cpu_count() or 1
    chunk_size = max(1, min(50, count // (processes * 4) or 1))
    chunks = [(params, triples[i : i + chunk_size]) for i in range(0, count, chunk_size)]
    if processes == 1 or count < 50:
        return [key for chunk in chunks for key in _hash_chunk(chunk)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        return [key for result in pool.map(_hash_chunk, chunks) for key in result]


def cheap_hashed_keys(count: int, *, prefix: str) -> list[HashedKey]:
    return hashed_keys(count, _CHEAP_HASH, prefix=prefix, processes=1)


# --- After django.setup() ---------------------------------------------------


@dataclass
class Seeded:
    api_project_slug: str
    api_project_id: int
    valid_key: str = field(repr=False)  # (a): holds read-runs
    wrong_secret_key: str = field(repr=False)  # (d): a real id, a wrong secret, a good checksum
    valid_key_id: str = ""
    # d2's flood: a wrong secret for every other key id (none of them is a key)
    flood_keys: list[str] = field(default_factory=list, repr=False)
    drf_key: str = field(default="", repr=False)  # (e)
    key_count: int = 0
    run_count: int = 0


def seed_api_project(hashed: Sequence[HashedKey]) -> Seeded:
    from django.db import transaction
    from django.utils import timezone

    from api.models import Bug, Run
    from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
    from apikeys.models import APIKey, Project

    now = timezone.now()
    permission_sets = [[READ_RUNS], [READ_RUNS, OPERATE_RUNS], [MANAGE_BUILD_STORAGE, READ_RUNS]]
    with transaction.atomic():
        project = Project.objects.create(slug=API_PROJECT_SLUG, name="Benchmark API")
        APIKey.objects.bulk_create(
            [
                APIKey(
                    project=project,
                    key_id=key.key_id,
                    hashed_secret=key.hashed_secret,
                    name=f"bench key {index:05d}",
                    permissions=permission_sets[index % len(permission_sets)],
                    created_at=now - timedelta(minutes=index),
                )
                for index, key in enumerate(hashed)
            ],
            batch_size=500,
        )
        rng = random.Random(2)
        states = list(Run.State)
        runs = [
            Run(
                project=project,
                name=f"nightly smoke {index:03d}",
                state=states[index % len(states)],
                result=Run.Result.PASSED if states[index % len(states)] == "COMPLETED" else "",
                tags=["nightly", "android" if index % 2 else "ios"],
                initiator={"type": "api", "value": {"key_id": hashed[0].key_id}},
                initiator_key_id=hashed[0].key_id,
                created_at=now - timedelta(hours=index),
                started_at=now - timedelta(hours=index, minutes=-1),
            )
            for index in range(RUN_COUNT)
        ]
        Run.objects.bulk_create(runs)
        Bug.objects.bulk_create(
            [
                Bug(run=run, title=f"Crash on level {n}", severity=rng.choice(list(Bug.Severity)))
                for run in runs
                for n in range(rng.randint(0, 2))
            ]
        )
    from apikeys.conf import apikeys_settings

    prefix = apikeys_settings.KEY_PREFIX
    wrong = keys.generate(prefix=prefix, key_id=hashed[1].key_id).plaintext
    # Neither the valid key's id nor (d)'s, unless there are no others.
    flood_ids = [key.key_id for key in hashed[2:]] or [hashed[1].key_id]
    flood = [keys.generate(prefix=prefix, key_id=key_id).plaintext for key_id in flood_ids]
    return Seeded(
        api_project_slug=project.slug,
        api_project_id=project.pk,
        valid_key=hashed[0].plaintext,
        valid_key_id=hashed[0].key_id,
        wrong_secret_key=wrong,
        flood_keys=flood,
        key_count=len(hashed),
        run_count=RUN_COUNT,
    )


def seed_drf_key() -> str:
    from rest_framework_api_key.models import APIKey as DRFAPIKey

    _, plaintext = DRFAPIKey.objects.create_key(name="bench")
    return plaintext


def seed_admin():  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username=ADMIN_USERNAME, is_active=True)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def seed_dashboard_project(user, hashed: Sequence[HashedKey]) -> str:  # type: ignore[no-untyped-def]
    """A project with many keys in every state the list page flags, and ``user`` as admin."""
    from django.db import transaction
    from django.utils import timezone

    from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
    from apikeys.models import APIKey, Membership, Project

    now = timezone.now()
    rng = random.Random(4)
    permission_sets = [
        [READ_RUNS],
        [MANAGE_BUILD_STORAGE, OPERATE_RUNS],
        [MANAGE_BUILD_STORAGE],
        [READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE],
    ]
    rows = []
    for index, key in enumerate(hashed):
        created = now - timedelta(days=rng.uniform(0, 400))
        used = rng.random()
        last_used = None if used < 0.15 else created + (now - created) * rng.random()
        expiry = rng.random()
        if expiry < 0.3:
            expires_at = None
        elif expiry < 0.4:
            expires_at = now - timedelta(days=rng.uniform(0.1, 60))  # expired
        elif expiry < 0.5:
            expires_at = now + timedelta(days=rng.uniform(0.1, 7))  # expires soon
        else:
            expires_at = now + timedelta(days=rng.uniform(8, 365))
        active = rng.random() > 0.1
        rows.append(
            APIKey(
                project_id=0,
                key_id=key.key_id,
                hashed_secret=key.hashed_secret,
                name=f"integration {index:05d}",
                description="Seeded by make bench." if index % 3 == 0 else "",
                permissions=permission_sets[index % len(permission_sets)],
                created_by=user,
                created_at=created,
                expires_at=expires_at,
                is_active=active,
                deactivated_at=None if active else created + (now - created) / 2,
                last_used_at=last_used,
                last_used_ip="203.0.113.7" if last_used else None,
            )
        )
    with transaction.atomic():
        project = Project.objects.create(slug=DASHBOARD_PROJECT_SLUG, name="Benchmark dashboard")
        Membership.objects.create(project=project, user=user, role=Membership.Role.ADMIN)
        for row in rows:
            row.project_id = project.pk
        APIKey.objects.bulk_create(rows, batch_size=1000)
    return project.slug
