"""The key page: the key, each permission's last use, its chart, refusals, lineage and
what the host shows about the key's work (APIKEYS_KEY_ACTIVITY)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.module_loading import import_string

from apikeys.conf import apikeys_settings
from apikeys.models import APIKey, APIKeyPermissionUsage, APIKeyRefusal, Project
from apikeys.permissions import Permission
from apikeys.selectors.chart import UsageChart, usage_chart
from apikeys.selectors.listing import key_flags

RECENT_USE_DAYS = 7  # deleting a key used this recently needs its name typed


@dataclass(frozen=True)
class PermissionUse:
    permission: Permission
    last_used_at: datetime | None
    candidate_for_removal: bool


@dataclass
class KeyDetail:
    key: APIKey
    status: str
    flags: list[tuple[str, str]]
    permissions: list[PermissionUse]
    chart: UsageChart
    refusals: list[APIKeyRefusal]
    activity: KeyActivity | None
    successors: list[APIKey]
    used_recently: bool

    @property
    def flag_codes(self) -> list[str]:
        return [str(code) for code, _ in self.flags]


def get_key(project: Project, key_id: str) -> APIKey:
    """The project's key with this id, or APIKey.DoesNotExist (another project's too)."""
    return APIKey.objects.select_related("created_by", "rotated_from").get(
        project=project, key_id=key_id
    )


def used_recently(key: APIKey, now: datetime) -> bool:
    return key.last_used_at is not None and key.last_used_at > now - timedelta(days=RECENT_USE_DAYS)


@dataclass(frozen=True)
class KeyActivity:
    """What the host shows on a key's page about the key's work in the host's own terms
    (nunu: "Runs started with this key"). APIKEYS_KEY_ACTIVITY names a callable
    ``(key) -> KeyActivity | None``; ``template`` renders ``items``."""

    title: str
    template: str
    items: list[Any]
    empty: str = "Nothing yet."


@functools.cache
def _activity_hook(path: str) -> Callable[[APIKey], KeyActivity | None]:
    return import_string(path)


def key_activity(key: APIKey) -> KeyActivity | None:
    path = apikeys_settings.KEY_ACTIVITY
    if not path:
        return None
    hook = _activity_hook(path) if isinstance(path, str) else path
    return hook(key)


def key_detail(project: Project, key_id: str, *, now: datetime | None = None) -> KeyDetail:
    """Everything the key page shows: six queries whatever the key's history."""
    now = now or timezone.now()
    key = get_key(project, key_id)
    used = {u.permission: u.last_used_at for u in APIKeyPermissionUsage.objects.filter(key=key)}
    cutoff = now - timedelta(days=project.stale_threshold_days)
    permissions = []
    for perm in key.permission_objects():
        last = used.get(perm.code)
        unused = last <= cutoff if last is not None else key.created_at <= cutoff
        permissions.append(PermissionUse(perm, last, unused))
    return KeyDetail(
        key=key,
        status=str(key.status(now)),
        flags=key_flags(key, project, now),
        permissions=permissions,
        chart=usage_chart(key, today=now.date()),
        refusals=list(APIKeyRefusal.objects.filter(key=key).order_by("-count", "code")),
        activity=key_activity(key),
        successors=list(key.successors.order_by("created_at")),
        used_recently=used_recently(key, now),
    )
