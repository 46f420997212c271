"""Browser: the key list, the wizard with show-once, copy, filters, deactivate, roles, no-JS."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.conf import key_format
from apikeys.models import APIKey
from apikeys.permissions import registry
from tests.e2e.conftest import call_api, log_in

pytestmark = pytest.mark.e2e

KEY_RE = re.compile(key_format().pattern)
LIST = "/projects/acme/admin/api-keys/"


def run_wizard(
    page, base_url: str, *, name: str, preset_label: str, expiry: str = "30 days", shoot=None
):
    """Click through the four steps; return the plaintext shown on "Save your key"."""
    page.goto(f"{base_url}{LIST}")
    page.get_by_role("link", name="Create API key").click()
    expect(page.get_by_role("heading", name="Step 1 of 4: Details")).to_be_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill("made by the browser test")
    page.get_by_role("button", name="Next: Permissions").click()
    page.get_by_label(preset_label, exact=True).check()
    if shoot:
        shoot(page, "-step2")
    page.get_by_role("button", name="Next: Expiration").click()
    page.get_by_label(expiry, exact=True).check()
    if shoot:
        shoot(page, "-step3")
    page.get_by_role("button", name="Next: Review").click()
    expect(page.get_by_role("heading", name="Step 4 of 4: Review and create")).to_be_visible()
    if shoot:
        shoot(page, "-step4")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Save your key")).to_be_visible()
    plaintext = page.locator("#new-key").input_value()
    assert KEY_RE.fullmatch(plaintext)
    return plaintext


@pytest.mark.parametrize("preset", list(registry.presets))
def test_wizard_with_each_preset_shows_a_key_that_works_once(
    page, live_server, admin, preset, screenshot
):
    log_in(page, live_server.url, "alice")
    label = registry.presets[preset].label
    shoot = screenshot if preset == "ci-cd" else None
    plaintext = run_wizard(
        page, live_server.url, name=f"{label} key", preset_label=label, shoot=shoot
    )
    screenshot(page)
    if preset == "monitoring":
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "-390")
        page.set_viewport_size({"width": 1280, "height": 900})

    # The key works against the API with exactly its preset's permissions.
    status, body = call_api(live_server.url, plaintext)
    if READ_RUNS in registry.presets[preset].permissions:
        assert status == 200, body
    else:
        assert (status, body["code"]) == (403, "MISSING_PERMISSION"), body
    if MANAGE_BUILD_STORAGE in registry.presets[preset].permissions:
        assert call_api(live_server.url, plaintext, "/api/v1/builds")[0] == 200

    # Reload and Back never show it again.
    page.reload()
    assert plaintext not in page.content()
    assert not KEY_RE.search(page.content())
    page.go_back()
    assert plaintext not in page.content()
    assert APIKey.objects.filter(name=f"{label} key").count() == 1


def test_saved_it_goes_to_the_list_with_the_new_row_highlighted(
    page, live_server, admin, screenshot
):
    log_in(page, live_server.url, "alice")
    run_wizard(page, live_server.url, name="highlight me", preset_label="Monitoring Dashboard")
    page.get_by_role("link", name="I have saved it").click()
    key = APIKey.objects.get(name="highlight me")
    row = page.locator(f"#key-{key.key_id}")
    expect(row).to_have_class(re.compile("highlight"))
    assert "highlight=" in page.url
    screenshot(page)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "-390")


def test_pages_are_readable_in_dark_mode(
    browser, live_server, admin, make_key, project, screenshot
):
    make_key(project, (READ_RUNS,), name="dark reader")
    soon = make_key(
        project, (OPERATE_RUNS,), name="dark soon", expires_at=timezone.now() + timedelta(days=2)
    )[0]
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 18, 18)"  # Django admin's dark --body-bg
    screenshot(page, "-list")
    page.goto(f"{live_server.url}{LIST}{soon.key_id}/")
    screenshot(page, "-detail")
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_pages_fit_the_screen_without_sideways_scrolling(
    browser, live_server, admin, make_key, project, screenshot, width
):
    key, _ = make_key(project, (READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE), name="wide one")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "alice")
    for path in (LIST, f"{LIST}{key.key_id}/", f"{LIST}new/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    screenshot(page, f"-{width}")
    context.close()


def test_copy_button_puts_the_key_on_the_clipboard(browser, live_server, admin, screenshot):
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"],
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    log_in(page, live_server.url, "alice")
    plaintext = run_wizard(page, live_server.url, name="copy me", preset_label="Build Upload Only")
    button = page.get_by_role("button", name="Copy", exact=True)
    button.click()
    expect(page.locator(".copy-button")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    screenshot(page)
    context.close()


def test_filters_and_search_update_the_table_and_the_url(
    page, live_server, admin, make_key, project, screenshot
):
    now = timezone.now()
    make_key(project, (READ_RUNS,), name="grafana board")
    old = make_key(project, (OPERATE_RUNS,), name="jenkins legacy")[0]
    APIKey.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=120))
    off = make_key(
        project, (MANAGE_BUILD_STORAGE,), name="uploader", expires_at=now + timedelta(days=3)
    )[0]
    APIKey.objects.filter(pk=off.pk).update(is_active=False)
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}")
    table = page.locator("#key-table")
    expect(table).to_contain_text("grafana board")

    page.get_by_label("Search").fill("jenk")
    page.wait_for_url(re.compile(r"q=jenk"))
    expect(table).to_contain_text("jenkins legacy")
    expect(table).not_to_contain_text("grafana board")
    screenshot(page, "-search")

    page.get_by_label("Search").fill("")
    page.get_by_label("Flag").select_option("stale")
    page.wait_for_url(re.compile(r"flag=stale"))
    expect(table).to_contain_text("jenkins legacy")
    expect(table).not_to_contain_text("uploader")

    page.get_by_label("Flag").select_option("")
    page.get_by_label("Status").select_option("disabled")
    page.wait_for_url(re.compile(r"status=disabled"))
    expect(table).to_contain_text("uploader")
    expect(table).not_to_contain_text("jenkins legacy")
    screenshot(page)

    # Sorting is a link inside the swapped table, and the URL follows it.
    page.get_by_label("Status").select_option("")
    page.wait_for_url(lambda url: "status=" not in url)
    page.get_by_role("link", name="Name").click()
    page.wait_for_url(re.compile(r"sort=name"))
    expect(table.locator("tbody tr").first).to_contain_text("grafana board")

    # Back returns to the previous filtered view; a bookmark of it renders the same.
    page.go_back()
    page.wait_for_url(lambda url: "sort=name" not in url)
    page.goto(f"{live_server.url}{LIST}?q=grafana")
    expect(table).to_contain_text("grafana board")
    expect(table).not_to_contain_text("jenkins legacy")


def test_deactivate_in_the_browser_refuses_the_next_api_request(
    page, live_server, admin, project, screenshot
):
    key, plaintext = services.key_create(
        project=project, name="to switch off", permissions=[READ_RUNS], actor=services.Actor.cli()
    )
    assert call_api(live_server.url, plaintext)[0] == 200
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    page.get_by_role("link", name="Deactivate").click()
    confirm = page.get_by_role("heading", name="Deactivate “to switch off”?")
    expect(confirm).to_be_focused()
    screenshot(page, "-confirm")
    page.get_by_role("button", name="Yes, deactivate it").click()
    expect(page.locator("#key-section")).to_contain_text("is deactivated")
    expect(page.get_by_role("heading", name="to switch off")).to_be_focused()
    screenshot(page)
    status, body = call_api(live_server.url, plaintext)
    assert (status, body["code"]) == (403, "DISABLED_API_KEY")


def test_deactivate_from_the_list_row_swaps_the_row_and_refuses_the_key(
    page, live_server, admin, project, make_key, screenshot
):
    make_key(project, (OPERATE_RUNS,), name="stays on")
    key, plaintext = services.key_create(
        project=project, name="row switch", permissions=[READ_RUNS], actor=services.Actor.cli()
    )
    assert call_api(live_server.url, plaintext)[0] == 200
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}")
    row = page.locator(f"#key-{key.key_id}")
    row.get_by_role("link", name="Deactivate “row switch”").click()
    expect(page.get_by_role("heading", name="Deactivate “row switch”?")).to_be_focused()
    expect(page.locator(f"#confirm-{key.key_id}")).to_be_visible()
    screenshot(page, "-confirm")
    page.get_by_role("button", name="Yes, deactivate it").click()
    expect(row.locator(".status")).to_have_text("Disabled")
    expect(page.locator(f"#confirm-{key.key_id}")).to_have_count(0)
    expect(page.locator("#row-status")).to_contain_text("“row switch” is deactivated")
    expect(row.get_by_role("link", name="row switch", exact=True)).to_be_focused()
    expect(row.get_by_role("link", name="Reactivate “row switch”")).to_be_visible()
    expect(page.locator("#key-summary .summary-number").first).to_have_text("1")
    assert page.url.endswith(LIST)  # a row action pushes no URL
    screenshot(page)
    status, body = call_api(live_server.url, plaintext)
    assert (status, body["code"]) == (403, "DISABLED_API_KEY")

    # On a phone the row is a card; delete asks for the name (the key was just used).
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "-390")
    row.get_by_role("link", name="Delete “row switch”").click()
    expect(page.get_by_role("heading", name="Delete “row switch”?")).to_be_focused()
    page.get_by_label("Type row switch to confirm").fill("row switch")
    screenshot(page, "-390-delete")
    page.get_by_role("button", name="Yes, delete it").click()
    expect(row).to_have_count(0)
    expect(page.locator("#row-status")).to_contain_text("“row switch” is deleted")
    expect(page.locator("#row-status .messagelist")).to_be_focused()
    expect(page.locator("#result-count")).to_contain_text("1 key")  # was 2 keys
    expect(page.locator("#key-summary")).to_contain_text("expiring within 7 days")
    assert not APIKey.objects.filter(pk=key.pk).exists()


def test_auditor_sees_no_actions(page, live_server, project, make_user, make_key, screenshot):
    make_user("audrey", project=project, role="auditor")
    key = make_key(project, name="read only")[0]
    log_in(page, live_server.url, "audrey")
    page.goto(f"{live_server.url}{LIST}")
    expect(page.locator("#key-table")).to_contain_text("read only")
    expect(page.get_by_role("link", name="Create API key")).to_have_count(0)
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    for name in ("Edit", "Deactivate", "Delete", "Rotate…"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    screenshot(page)


def test_wizard_works_without_javascript(browser, live_server, admin, screenshot):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}")
    page.get_by_role("link", name="Create API key").click()
    page.get_by_label("Name").fill("no js")
    page.get_by_role("button", name="Next: Permissions").click()
    # Custom with nothing ticked: the server says so beside the field.
    page.get_by_label("Custom", exact=True).check()
    page.get_by_role("button", name="Next: Expiration").click()
    expect(page.locator(".errorlist")).to_contain_text("Tick at least one permission")
    page.get_by_label("Read runs").check()
    page.get_by_role("button", name="Next: Expiration").click()
    # Back keeps the choice.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Read runs")).to_be_checked()
    page.get_by_role("button", name="Next: Expiration").click()
    page.get_by_label("7 days", exact=True).check()
    page.get_by_role("button", name="Next: Review").click()
    page.get_by_role("button", name="Create key").click()
    plaintext = page.locator("#new-key").input_value()
    assert KEY_RE.fullmatch(plaintext)
    expect(page.locator(".copy-button")).to_be_hidden()  # no JavaScript: select and copy
    screenshot(page)
    assert call_api(live_server.url, plaintext)[0] == 200
    page.get_by_role("link", name="I have saved it").click()
    key = APIKey.objects.get(name="no js")
    expect(page.locator(f"#key-{key.key_id}")).to_have_class(re.compile("highlight"))
    context.close()


def test_typing_an_expiry_date_picks_it_and_shows_the_resulting_date(
    page, live_server, admin, screenshot
):
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}new/")
    page.get_by_label("Name").fill("dated key")
    page.get_by_role("button", name="Next: Permissions").click()
    page.get_by_label("Monitoring Dashboard", exact=True).check()
    page.get_by_role("button", name="Next: Expiration").click()
    day = (timezone.now() + timedelta(days=10)).date().isoformat()
    page.get_by_label("Expiry date").fill(day)
    expect(page.get_by_label("On a date", exact=True)).to_be_checked()
    expect(page.locator("[data-expiry-date-result]")).to_have_text(
        re.compile(rf"expires {day} 00:00 UTC, in (9|10) days")
    )
    screenshot(page)
    page.get_by_role("button", name="Next: Review").click()
    expect(page.get_by_role("heading", name="Step 4 of 4: Review and create")).to_be_visible()
    assert day in page.content()
