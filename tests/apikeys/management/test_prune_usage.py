"""manage.py prune_usage: the cron job that deletes old per-address usage."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apikeys.models import APIKeyAddressUsage

pytestmark = pytest.mark.django_db


def prune(*args: str) -> str:
    err = io.StringIO()
    call_command("prune_usage", *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def rows(project, make_key):
    key, _ = make_key(project)
    today = timezone.now().date()
    for days_ago, ip in ((1, "203.0.113.5"), (200, "203.0.113.6"), (365, "2001:db8::1")):
        APIKeyAddressUsage.objects.create(
            key=key, date=today - timedelta(days=days_ago), ip=ip, request_count=1
        )
    return key


def test_old_rows_are_deleted_and_the_count_said_on_stderr(rows):
    assert prune() == "Deleted 2 per-address usage rows older than 90 days.\n"
    assert list(APIKeyAddressUsage.objects.values_list("ip", flat=True)) == ["203.0.113.5"]
    assert prune() == "Deleted 0 per-address usage rows older than 90 days.\n"


def test_dry_run_changes_nothing(rows):
    assert prune("--dry-run") == "Would delete 2 per-address usage rows older than 90 days.\n"
    assert APIKeyAddressUsage.objects.count() == 3


def test_a_too_short_retention_is_bad_input_with_exit_2(settings, rows):
    settings.APIKEYS_ADDRESS_USAGE_DAYS = 7
    with pytest.raises(CommandError) as refused:
        prune()
    assert refused.value.returncode == 2
    assert "at least the 30 days the security review reads, not 7" in str(refused.value)
    assert APIKeyAddressUsage.objects.count() == 3
