"""Browser: GitHub reports a key → Exposed in the list, its URL on the key page, no way
to reactivate it, and rotation makes a successor that works against the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import APIKey
from tests.apikeys.exposure.test_github import KEY_ID, pem, sign
from tests.e2e.conftest import call_api, log_in

pytestmark = pytest.mark.e2e

LEAK = "https://github.com/acme/deploy-scripts/blob/9c1d2e/ci/.env#L4"


def post_report(base_url: str, private_key, items: list[dict]) -> tuple[int, list]:
    body = json.dumps(items).encode()
    request = urllib.request.Request(
        f"{base_url}/api/v1/secret-scanning/github",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Github-Public-Key-Identifier": KEY_ID,
            "Github-Public-Key-Signature": sign(private_key, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # live_server: plain http
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_key_github_reports_is_exposed_cannot_come_back_and_rotates(
    page, live_server, project, make_user, settings, tmp_path, screenshot
):
    private_key = ec.generate_private_key(ec.SECP256R1())
    keys_file = tmp_path / "github-keys.json"
    keys_file.write_text(
        json.dumps({"public_keys": [{"key_identifier": KEY_ID, "key": pem(private_key)}]})
    )
    settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE = str(keys_file)
    make_user("alice", project=project, role="admin", email="alice@example.com")
    key, plaintext = services.key_create(
        project=project, name="deploy", permissions=[READ_RUNS], actor=services.Actor.cli()
    )
    assert call_api(live_server.url, plaintext)[0] == 200

    status, labels = post_report(
        live_server.url,
        private_key,
        [{"token": plaintext, "type": "nunu_api_key", "url": LEAK, "source": "content"}],
    )
    assert status == 200 and labels[0]["label"] == "true_positive"
    status, body = call_api(live_server.url, plaintext)
    assert (status, body["details"]["reason"]) == (403, "exposed")

    # The list: an Exposed badge, and the status filter finds it.
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/projects/acme/admin/api-keys/?status=exposed")
    row = page.locator(f"#key-{key.key_id}")
    assert row.locator(".status-exposed").inner_text() == "Exposed"
    assert row.get_by_role("link", name="Reactivate").count() == 0
    screenshot(page, "-list")

    # The key page: what happened, where (a link that does not leak the referrer).
    row.get_by_role("link", name="deploy", exact=True).click()
    notice = page.locator(".exposure-notice")
    notice.wait_for()
    assert "GitHub secret scanning" in notice.inner_text()
    link = notice.get_by_role("link", name=LEAK)
    assert link.get_attribute("href") == LEAK
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert page.get_by_role("link", name="Reactivate").count() == 0
    screenshot(page, "-detail")

    # Reactivating by its URL is refused, with a reason.
    page.goto(f"{live_server.url}/projects/acme/admin/api-keys/{key.key_id}/reactivate/")
    page.locator("form [type=submit]").last.click()
    page.locator(".messagelist .error", has_text="its secret is known outside").wait_for()
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"

    # Rotation, offered first on the key page, makes a successor that works.
    page.goto(f"{live_server.url}/projects/acme/admin/api-keys/{key.key_id}/")
    page.locator(".exposure-notice").get_by_role("link", name="Rotate this key…").click()
    page.locator("form [type=submit]").last.click()
    page.get_by_role("heading", name="Save your key").wait_for()
    successor_plaintext = page.locator("#new-key").input_value()
    screenshot(page, "-rotated")
    successor = APIKey.objects.get(rotated_from=key)
    assert successor.status() == "active"
    assert call_api(live_server.url, successor_plaintext)[0] == 200
    assert call_api(live_server.url, plaintext)[0] == 403
