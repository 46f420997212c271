"""Browser: times and counts read true: "in 7 days", "60 days ago", "Expired …", totals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from api.permissions import OPERATE_RUNS, READ_RUNS
from apikeys.guard import usage
from apikeys.models import APIKey
from tests.e2e.conftest import call_api, log_in
from tests.e2e.test_dashboard import run_wizard

pytestmark = pytest.mark.e2e

LIST = "/projects/acme/admin/api-keys/"


def test_a_seven_day_key_says_in_7_days(page, live_server, admin):
    log_in(page, live_server.url, "alice")
    run_wizard(
        page, live_server.url, name="week key", preset_label="Monitoring Dashboard", expiry="7 days"
    )
    page.get_by_role("link", name="I have saved it").click()
    key = APIKey.objects.get(name="week key")
    expect(page.locator(f"#key-{key.key_id} td[data-label=Expires]")).to_have_text("in 7 days")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    expect(page.locator(".key-facts")).to_contain_text("(in 7 days)")


def test_sixty_days_unused_reads_60_days_beside_stale(
    page, live_server, admin, project, make_key, screenshot
):
    now = timezone.now()
    key = make_key(project, (READ_RUNS,), name="dusty", now=now - timedelta(days=90))[0]
    APIKey.objects.filter(pk=key.pk).update(last_used_at=now - timedelta(days=60, hours=3))
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}")
    row = page.locator(f"#key-{key.key_id}")
    expect(row.locator("td[data-label='Last used']")).to_have_text("60 days ago")
    expect(row).to_contain_text("Stale")
    screenshot(page)


def test_an_expired_key_says_expired(page, live_server, admin, project, make_key):
    now = timezone.now()
    key = make_key(project, (READ_RUNS,), name="gone", now=now - timedelta(days=30))[0]
    APIKey.objects.filter(pk=key.pk).update(expires_at=now - timedelta(days=7, hours=2))
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}")
    cell = page.locator(f"#key-{key.key_id} td[data-label=Expires]")
    expect(cell).to_have_text("Expired 7 days ago")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    expect(page.locator(".key-facts")).to_contain_text("Expired")


def test_one_accepted_and_one_refused_call_read_as_two_requests(
    page, live_server, admin, project, make_key, settings
):
    settings.APIKEYS_USAGE_RESOLUTION = 0
    key, plaintext = make_key(project, (READ_RUNS,), name="counted")
    assert call_api(live_server.url, plaintext)[0] == 200
    assert call_api(live_server.url, plaintext, "/api/v1/builds")[0] == 403
    usage.flush_all()
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    expect(page.locator(".chart-total").first).to_have_text("2 requests: 1 accepted, 1 refused.")


def test_a_key_without_requests_has_no_numbers_to_show(page, live_server, admin, project, make_key):
    key = make_key(project, (OPERATE_RUNS,), name="quiet")[0]
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    expect(page.get_by_text("No requests in the last 30 days.")).to_be_visible()
    expect(page.get_by_text("Show the numbers")).to_have_count(0)


def test_a_stale_key_says_why_with_the_action_beside_it(
    page, live_server, admin, project, make_key
):
    now = timezone.now()
    key = make_key(project, (READ_RUNS,), name="forgotten", now=now - timedelta(days=90))[0]
    APIKey.objects.filter(pk=key.pk).update(last_used_at=now - timedelta(days=60, hours=1))
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    note = page.locator(".stale-note")
    expect(note).to_contain_text("not used for 60 days; this project's threshold is 45 days")
    expect(note.get_by_role("link", name="Deactivate")).to_be_visible()
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", re.compile(r"favicon\.svg$"))
    # The breadcrumb's project link goes to the project, not the list of projects.
    page.locator(".breadcrumbs .crumb-project").click()
    page.wait_for_url(f"**{LIST}")
