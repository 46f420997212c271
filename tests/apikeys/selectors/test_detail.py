"""The key page's reads: permission use, the usage chart and refusals in a fixed number
of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.permissions import OPERATE_RUNS, READ_RUNS
from apikeys.models import APIKey, APIKeyDailyUsage, APIKeyPermissionUsage, APIKeyRefusal
from apikeys.selectors.detail import key_detail

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


def test_key_detail(project, make_key, now):
    key = make_key(project, (READ_RUNS, OPERATE_RUNS), name="detail")[0]
    APIKey.objects.filter(pk=key.pk).update(created_at=now - timedelta(days=200))
    APIKeyPermissionUsage.objects.create(key=key, permission=READ_RUNS, last_used_at=now)
    APIKeyDailyUsage.objects.create(key=key, date=now.date(), request_count=40, refused_count=10)
    APIKeyDailyUsage.objects.create(
        key=key, date=now.date() - timedelta(days=40), request_count=999
    )
    APIKeyRefusal.objects.create(
        key=key, code="MISSING_PERMISSION", count=3, first_at=now, last_at=now
    )
    with CaptureQueriesContext(connection) as ctx:
        detail = key_detail(project, key.key_id, now=now)
    assert len(ctx.captured_queries) <= 7
    uses = {u.permission.code: u for u in detail.permissions}
    assert not uses[READ_RUNS].candidate_for_removal
    assert uses[OPERATE_RUNS].candidate_for_removal
    assert len(detail.chart.bars) == 30
    assert detail.chart.total_requests == 40 and detail.chart.total_refused == 10
    assert detail.chart.bars[-1].day == now.date()
    assert (
        detail.chart.bars[-1].height + detail.chart.bars[-1].refused_height <= detail.chart.height
    )
    assert [r.code for r in detail.refusals] == ["MISSING_PERMISSION"]


def test_young_keys_permissions_are_not_removal_candidates(project, make_key, now):
    key = make_key(project, (READ_RUNS,))[0]
    detail = key_detail(project, key.key_id, now=now)
    assert not detail.permissions[0].candidate_for_removal
