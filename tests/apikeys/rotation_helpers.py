"""What rotation tests share: fixed times, the actor, and usage as the guard writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apikeys import services
from apikeys.models import APIKey, APIKeyDailyUsage

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
ACTOR = services.Actor.cli("test")


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def use(key: APIKey, at: datetime, ip: str = "203.0.113.5", requests: int = 1) -> None:
    """What the guard leaves behind after requests with ``key`` at ``at``."""
    APIKey.objects.filter(pk=key.pk).update(last_used_at=at, last_used_ip=ip)
    APIKey.objects.filter(pk=key.pk, first_used_at__isnull=True).update(first_used_at=at)
    row, _ = APIKeyDailyUsage.objects.get_or_create(key=key, date=at.date())
    row.request_count += requests
    row.save()
    key.refresh_from_db()


def rotate(key: APIKey, *, now: datetime = T0, **kwargs) -> APIKey:
    """Rotate ``key`` at ``now``; ``key`` is refreshed, the successor returned."""
    successor, _ = services.key_rotate(key=key, actor=ACTOR, now=now, **kwargs)
    key.refresh_from_db()
    return successor


def make_deploy_key(project, make_key) -> APIKey:
    """The key the rotation tests rotate: made 30 days before T0, last used just before."""
    from api.permissions import OPERATE_RUNS, READ_RUNS

    key, _ = make_key(
        project, [READ_RUNS, OPERATE_RUNS], name="deploy", now=T0 - timedelta(days=30)
    )
    use(key, T0 - minutes(5), ip="198.51.100.1")
    return key
