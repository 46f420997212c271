"""Browser: the wizard's IP allowlist field (step 3): its error, the review, the key it makes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apikeys.conf import key_format
from apikeys.models import APIKey
from tests.e2e.conftest import call_api, log_in

pytestmark = pytest.mark.e2e

KEY_RE = re.compile(key_format().pattern)
LIST = "/projects/acme/admin/api-keys/"


def test_the_wizard_takes_an_allowlist_refuses_a_bad_entry_and_the_key_obeys_it(
    page, live_server, admin, screenshot
):
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{LIST}new/")
    page.get_by_label("Name").fill("fenced")
    page.get_by_role("button", name="Next: Permissions").click()
    page.get_by_label("Monitoring Dashboard", exact=True).check()
    page.get_by_role("button", name="Next: Expiration").click()
    page.get_by_label("30 days", exact=True).check()
    field = page.get_by_label("IP allowlist")
    field.fill("127.0.0.0/8\n10.0.0.300")
    page.get_by_role("button", name="Next: Review").click()

    error = page.locator("#id_allowed_ips_error")
    expect(error).to_have_text("'10.0.0.300' is not an IPv4/IPv6 address or CIDR range.")
    expect(field).to_have_value("127.0.0.0/8\n10.0.0.300")  # kept, to be corrected
    screenshot(page, "-error")

    field.fill("127.0.0.0/8\n::1")
    page.get_by_role("button", name="Next: Review").click()
    expect(page.get_by_role("heading", name="Step 4 of 4: Review and create")).to_be_visible()
    expect(page.locator(".allowed-ips")).to_contain_text("127.0.0.0/8")
    expect(page.locator(".allowed-ips")).to_contain_text("::1/128")
    screenshot(page, "-review")
    page.get_by_role("button", name="Create key").click()
    plaintext = page.locator("#new-key").input_value()
    assert KEY_RE.fullmatch(plaintext)

    # The live server sees this test from 127.0.0.1: inside the allowlist.
    status, body = call_api(live_server.url, plaintext, "/api/v1/key")
    assert status == 200, body
    assert body["data"]["allowed_ips"] == ["127.0.0.0/8", "::1/128"]
    key = APIKey.objects.get(name="fenced")
    page.goto(f"{live_server.url}{LIST}{key.key_id}/")
    expect(page.locator("dd.allowed-ips")).to_have_text("127.0.0.0/8, ::1/128")
    screenshot(page, "-detail")
