"""Browser: the show-once page suggests a call the key may make, keeps the secret off
command lines, copies each snippet, and says what happens to a rotated key."""

from __future__ import annotations

import re
import shlex
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import APIKey
from apikeys.permissions import registry
from tests.e2e.conftest import log_in
from tests.e2e.test_dashboard import run_wizard

pytestmark = pytest.mark.e2e


def curl_call(snippet: str) -> tuple[str, str, bytes | None]:
    """(method, url, body) of the curl line in a snippet."""
    line = next(line for line in snippet.splitlines() if "curl " in line)
    words = shlex.split(line[line.index("curl ") :])
    method, body, url = "GET", None, ""
    for i, word in enumerate(words):
        if word == "-X":
            method = words[i + 1]
        elif word == "-d":
            body = words[i + 1].encode()
        elif word.startswith("http"):
            url = word
    return method, url, body


def send(method: str, url: str, body: bytes | None, key: str) -> int:
    headers = {"X-Api-Key": key, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("preset", list(registry.presets))
def test_the_snippets_call_what_the_key_may_do_and_keep_the_secret_off_command_lines(
    browser, live_server, admin, preset, screenshot
):
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    log_in(page, live_server.url, "alice")
    label = registry.presets[preset].label
    plaintext = run_wizard(page, live_server.url, name=f"{label} snippet", preset_label=label)
    snippets = page.locator(".snippets pre")
    expect(snippets).to_have_count(3)
    for text in snippets.all_inner_texts():
        assert plaintext not in text  # no secret on a command line (shell history)
        method, url, body = curl_call(text)
        status = send(method, url, body, plaintext)
        assert status not in (401, 403), (text, status)
    assert "read -rs NUNU_API_KEY" in snippets.first.inner_text()
    assert "gh secret set NUNU_API_KEY" in snippets.nth(1).inner_text()
    assert "--body" not in snippets.nth(1).inner_text()

    # Each snippet has its own copy button, which copies exactly that snippet.
    for i, name in enumerate(("shell", "GitHub Actions", "GitLab CI")):
        page.get_by_role("button", name=f"Copy the {name} snippet").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == snippets.nth(i).inner_text()
    if preset == "ci-cd":
        screenshot(page)
    context.close()


def test_rotation_with_grace_says_when_the_old_key_stops_working(
    page, live_server, admin, project, screenshot
):
    key, _ = services.key_create(
        project=project, name="graceful", permissions=[READ_RUNS], actor=services.Actor.cli()
    )
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/projects/acme/admin/api-keys/{key.key_id}/rotate/")
    page.get_by_label("24 hours").check()
    page.get_by_role("button", name="Rotate and show the new key").click()
    note = page.locator(".rotation-note")
    expect(note).to_contain_text("stops working")
    expect(note).to_contain_text(re.compile(r"in (23|24) hours"))
    expect(note).not_to_contain_text("keeps working until you deactivate it")
    screenshot(page, "-show-once")

    page.goto(f"{live_server.url}/projects/acme/admin/api-keys/{key.key_id}/")
    panel = page.locator(".transition")
    expect(panel).to_contain_text(re.compile(r"stops working .* \(in (23|24) hours\)"))
    expect(panel).not_to_contain_text("keeps working until you deactivate it")
    screenshot(page, "-panel")
    assert APIKey.objects.get(pk=key.pk).expires_at is not None
