"""apikeys.services.retention: per-address usage is kept APIKEYS_ADDRESS_USAGE_DAYS days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apikeys import services
from apikeys.models import APIKeyAddressUsage, APIKeyDailyUsage
from apikeys.reports.base import ADDRESS_WINDOW_DAYS

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


def seen(key, days_ago: int, ip: str = "203.0.113.5") -> None:
    APIKeyAddressUsage.objects.create(
        key=key, date=(NOW - timedelta(days=days_ago)).date(), ip=ip, request_count=3
    )


def kept_days(key) -> list[int]:
    return sorted(
        (NOW.date() - row.date).days for row in APIKeyAddressUsage.objects.filter(key=key)
    )


def test_rows_older_than_the_retention_go_and_the_last_days_stay(project, make_key):
    key, _ = make_key(project)
    other, _ = make_key(project)
    for days_ago in (0, 30, 89, 90, 91, 400):
        seen(key, days_ago)
    seen(other, 120, ip="2001:db8::1")
    APIKeyDailyUsage.objects.create(key=key, date=(NOW - timedelta(days=400)).date())

    assert services.address_usage_prune(now=NOW, days=90) == 3
    assert kept_days(key) == [0, 30, 89, 90]
    assert not APIKeyAddressUsage.objects.filter(key=other).exists()
    # Only the addresses: the daily counts and the key itself are untouched.
    assert APIKeyDailyUsage.objects.filter(key=key).count() == 1
    assert services.address_usage_prune(now=NOW, days=90) == 0


def test_the_default_retention_is_the_setting(settings, project, make_key):
    key, _ = make_key(project)
    for days_ago in (40, 60):
        seen(key, days_ago)
    settings.APIKEYS_ADDRESS_USAGE_DAYS = 50
    assert services.address_usage_prune(now=NOW) == 1
    assert kept_days(key) == [40]


def test_a_dry_run_counts_and_deletes_nothing(project, make_key):
    key, _ = make_key(project)
    seen(key, 100)
    assert services.address_usage_prune(now=NOW, days=90, dry_run=True) == 1
    assert kept_days(key) == [100]


@pytest.mark.parametrize("days", [ADDRESS_WINDOW_DAYS - 1, 0, -5, "90", 90.5, True])
def test_a_retention_shorter_than_the_review_reads_or_not_whole_days_is_refused(days):
    with pytest.raises(ValueError, match=r"at least the 30 days the security review reads"):
        services.address_usage_prune(now=NOW, days=days)
