"""Browser: the wizard's permissions step keeps the Custom checkboxes to Custom."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api.permissions import READ_RUNS
from apikeys.models import APIKey
from apikeys.permissions import registry
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

LIST = "/projects/acme/admin/api-keys/"


def test_custom_checkboxes_are_disabled_while_a_preset_is_chosen(
    page, live_server, admin, screenshot
):
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}")
    page.get_by_role("link", name="Create API key").click()
    expect(page.get_by_label("Name")).to_be_focused()  # the step's first field
    page.get_by_label("Name").fill("custom boxes")
    page.get_by_role("button", name="Next: Permissions").click()

    boxes = page.locator(".custom-permissions input[type=checkbox]")
    assert boxes.count() == len(registry.permissions)
    preset = next(iter(registry.presets.values()))
    page.get_by_label(preset.label, exact=True).check()
    for n in range(boxes.count()):
        expect(boxes.nth(n)).to_be_disabled()
    screenshot(page, "-preset")

    page.get_by_label("Custom", exact=True).check()
    for n in range(boxes.count()):
        expect(boxes.nth(n)).to_be_enabled()
    page.get_by_label(registry.permissions[READ_RUNS].label).check()
    screenshot(page, "-custom")

    # Back to a preset: the boxes go grey again and the preset is what the key gets.
    page.get_by_label(preset.label, exact=True).check()
    for n in range(boxes.count()):
        expect(boxes.nth(n)).to_be_disabled()
    page.get_by_role("button", name="Next: Expiration").click()
    # Focus is on the checked choice (the default), not the group's first radio.
    checked = page.locator("input[type=radio]:checked")
    expect(checked).to_have_count(1)
    expect(checked).to_be_focused()
    page.get_by_label("30 days", exact=True).check()
    page.get_by_role("button", name="Next: Review").click()
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Save your key")).to_be_visible()
    assert sorted(APIKey.objects.get(name="custom boxes").permissions) == sorted(preset.permissions)
