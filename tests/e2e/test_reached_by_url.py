"""Browser: every form works however its page is reached (a new tab, a bookmark, a typed URL)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api.permissions import OPERATE_RUNS, READ_RUNS
from apikeys.models import APIKey
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

LIST = "/projects/acme/admin/api-keys/"


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_deactivate_and_reactivate_pages_opened_by_url_work_with_javascript(
    page, live_server, admin, project, make_key, screenshot
):
    key = make_key(project, (READ_RUNS,), name="bookmarked")[0]
    errors = console_errors(page)
    log_in(page, live_server.url, "alice")

    page.goto(f"{live_server.url}{LIST}{key.key_id}/deactivate/")
    screenshot(page, "-deactivate")
    page.get_by_role("button", name="Yes, deactivate it").click()
    expect(page.get_by_role("heading", name="bookmarked", exact=True)).to_be_visible()
    expect(page.locator(".messagelist")).to_contain_text("is deactivated")
    key.refresh_from_db()
    assert not key.is_active

    page.goto(f"{live_server.url}{LIST}{key.key_id}/reactivate/")
    page.get_by_role("button", name="Yes, reactivate it").click()
    expect(page.locator(".messagelist")).to_contain_text("is active again")
    key.refresh_from_db()
    assert key.is_active
    assert not [e for e in errors if "targetError" in e], errors


def test_delete_page_opened_by_url_works_with_javascript(
    page, live_server, admin, project, make_key
):
    key = make_key(project, (READ_RUNS,), name="doomed")[0]
    errors = console_errors(page)
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/delete/")
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page.locator(".messagelist")).to_contain_text("is deleted")
    assert page.url.endswith(LIST)
    assert not APIKey.objects.filter(pk=key.pk).exists()
    assert not [e for e in errors if "targetError" in e], errors


def test_edit_page_opened_by_url_saves_and_shows_errors(
    page, live_server, admin, project, make_key, screenshot
):
    key = make_key(project, (READ_RUNS,), name="to edit")[0]
    make_key(project, (READ_RUNS,), name="taken")
    errors = console_errors(page)
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/edit/")

    # A name in use: the error shows beside the field on the same page; nothing is lost.
    page.get_by_label("Name").fill("taken")
    page.get_by_label("Description").fill("typed before the error")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist")).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value("typed before the error")
    screenshot(page, "-error")

    page.get_by_label("Name").fill("edited by url")
    page.get_by_label("Operate runs").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("is saved")
    key.refresh_from_db()
    assert key.name == "edited by url"
    assert key.permissions == [READ_RUNS, OPERATE_RUNS]
    assert key.description == "typed before the error"
    assert not [e for e in errors if "targetError" in e], errors


def test_a_made_up_wizard_id_says_no_key_was_created(page, live_server, admin, project):
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}new/notarealwizard/details/")
    messages = page.locator(".messagelist")
    expect(messages).to_contain_text("not open")
    expect(messages).to_contain_text("No key was created")
    expect(messages).not_to_contain_text("the key was created")
    assert not APIKey.objects.exists()


@pytest.mark.parametrize(
    "query",
    ["since=2027-01-01&until=2026-01-01", "since=not-a-date", "until=2026-13-45"],
)
def test_audit_log_with_invalid_filters_lists_no_events(
    page, live_server, admin, project, make_key, query, screenshot
):
    make_key(project, (READ_RUNS,), name="made an event")
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/projects/acme/admin/audit/?{query}")
    results = page.locator("#audit-results")
    expect(results).to_contain_text("No events listed")
    expect(results.locator("table")).to_have_count(0)
    expect(results).not_to_contain_text("made an event")
    screenshot(page)
