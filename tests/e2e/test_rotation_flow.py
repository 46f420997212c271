"""Browser: rotate → show once → the successor is used → transition confirmed → deactivate."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.guard import usage
from apikeys.models import APIKey

pytestmark = pytest.mark.e2e

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"


def call_api(base_url: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base_url}/api/v1/runs", headers={"X-Api-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, as `make test-e2e` expects (the e2e conftest may say the same)."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium"}


@pytest.fixture
def signed_in(page, live_server, project, make_user):
    make_user("alice", project=project, role="admin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    return page


def test_rotate_show_once_confirm_from_usage_and_deactivate(
    signed_in, live_server, project, settings
):
    # Usage is written at once and any quiet counts: the test need not wait a window.
    settings.APIKEYS_USAGE_RESOLUTION = 0
    page = signed_in
    old, old_plaintext = services.key_create(
        project=project, name="deploy", permissions=[READ_RUNS], actor=services.Actor.cli()
    )
    assert call_api(live_server.url, old_plaintext)[0] == 200
    usage.flush_all()

    page.goto(f"{live_server.url}/projects/acme/admin/api-keys/{old.key_id}/")
    page.get_by_role("link", name="Rotate…").click()
    page.get_by_label("24 hours").check()
    page.get_by_label("None: the old key works").check()
    page.get_by_role("button", name="Rotate and show the new key").click()

    page.get_by_role("heading", name="Save your key").wait_for()
    successor_plaintext = page.locator("#new-key").input_value()
    successor = APIKey.objects.get(rotated_from=old)
    assert successor_plaintext.startswith(f"nunu_{successor.key_id}_")
    assert "replaces" in page.locator(".rotation-note").inner_text()

    # Going back to the old key's page: waiting for the successor's first use.
    page.goto(f"{live_server.url}/projects/acme/admin/api-keys/{old.key_id}/")
    assert "Waiting for the new key" in page.locator(".transition").inner_text()

    status, body = call_api(live_server.url, successor_plaintext)
    assert status == 200, body
    usage.flush_all()

    page.reload()
    panel = page.locator(".transition")
    assert "Transition confirmed: safe to deactivate" in panel.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "rotation-transition-confirmed.png"), full_page=True)

    page.get_by_role("button", name="Deactivate “deploy” now").click()
    page.locator(".status-disabled").first.wait_for()
    old.refresh_from_db()
    assert not old.is_active
    status, body = call_api(live_server.url, old_plaintext)
    assert (status, body["code"]) == (403, "DISABLED_API_KEY")
    assert call_api(live_server.url, successor_plaintext)[0] == 200
    page.screenshot(path=str(SCREENSHOTS / "rotation-old-key-deactivated.png"), full_page=True)


def test_security_review_and_audit_log_pages_render_for_an_auditor(
    page, live_server, project, make_user
):
    make_user("audrey", project=project, role="auditor")
    key, _ = services.key_create(
        project=project, name="forgotten", permissions=[READ_RUNS], actor=services.Actor.cli()
    )
    services.key_rotate(key=key, actor=services.Actor.cli())
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "audrey")
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")

    page.goto(f"{live_server.url}/projects/acme/admin/security/")
    assert "Access review" in page.locator("#access-title").inner_text()
    assert page.locator("table.access-review tbody tr").count() == 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "security-review.png"), full_page=True)

    page.goto(f"{live_server.url}/projects/acme/admin/audit/")
    page.select_option("#id_action", "key.rotated")
    page.locator("#audit-results").get_by_text("1 event.").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "audit-log-filtered.png"), full_page=True)
