"""The exposed state (SPEC §11): refused at once and for good, audited, mailed once,
a high finding, shown in the dashboard and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import APIKey, AuditEvent
from apikeys.reports import review
from tests.apikeys.management.test_commands import run as run_cli

pytestmark = pytest.mark.django_db

LIST = "/projects/acme/admin/api-keys/"
LEAK_URL = "https://github.com/acme/app/blob/main/.env#L3"


@pytest.fixture
def creator(make_user, project):
    return make_user("carol", project=project, role="admin", email="carol@example.com")


@pytest.fixture
def leaked(project, creator, make_user):
    """An active key made by an admin, with a second admin and an auditor in the project."""
    make_user("dave", project=project, role="admin", email="dave@example.com")
    make_user("erin", project=project, role="auditor", email="erin@example.com")
    key, plaintext = services.key_create(
        project=project,
        name="deploy",
        permissions=[READ_RUNS],
        actor=services.Actor(user=creator),
    )
    return key, plaintext


def expose(key, **kwargs):
    kwargs.setdefault("source", APIKey.ExposureSource.GITHUB)
    kwargs.setdefault("url", LEAK_URL)
    return services.key_expose(key=key, actor=services.Actor.cli("test"), **kwargs)


def test_exposing_records_when_how_and_where_and_disables_the_key(leaked):
    key, _ = leaked
    before = timezone.now()
    _, newly = expose(key, token_hash="ab" * 32)
    assert newly
    key.refresh_from_db()
    assert key.status() == APIKey.Status.EXPOSED == "exposed"
    assert not key.is_active
    assert key.exposed_at >= before
    assert (key.exposure_source, key.exposure_url) == ("github", LEAK_URL)
    event = AuditEvent.objects.get(action="key.exposed")
    assert event.key_id == key.key_id
    assert event.changes == {"source": "github", "url": LEAK_URL, "token_sha256": "ab" * 32}


def test_exposure_mails_the_creator_and_the_admins_once(leaked):
    key, _ = leaked
    expose(key)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.com", "dave@example.com"]  # not the auditor
    assert key.name in message.subject and "exposed" in message.subject
    assert LEAK_URL in message.body and key.key_id in message.body
    assert "Rotate" in message.body


def test_a_second_report_changes_nothing_and_sends_no_mail(leaked):
    key, _ = leaked
    expose(key)
    first = APIKey.objects.get(pk=key.pk)
    _, newly = expose(key, source=APIKey.ExposureSource.REVOCATION_API, url="")
    assert not newly
    again = APIKey.objects.get(pk=key.pk)
    assert (again.exposed_at, again.exposure_source, again.exposure_url) == (
        first.exposed_at,
        "github",
        LEAK_URL,
    )
    assert AuditEvent.objects.filter(action="key.exposed").count() == 1
    assert len(mail.outbox) == 1


def test_a_mail_failure_does_not_undo_the_exposure(leaked, settings, caplog):
    settings.EMAIL_BACKEND = "tests.apikeys.exposure.test_exposed_state.BrokenBackend"
    key, _ = leaked
    _, newly = expose(key)
    assert newly
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"
    assert "the exposure itself stands" in caplog.text


class BrokenBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_an_unknown_source_is_refused(leaked):
    key, _ = leaked
    with pytest.raises(services.KeyInputError, match="Unknown exposure source"):
        expose(key, source="pastebin")


def test_the_next_request_is_refused_with_reason_exposed(leaked, api):
    key, plaintext = leaked
    client = api(plaintext)
    assert client.get("/api/v1/runs").status_code == 200  # verified, now remembered
    expose(key)
    response = client.get("/api/v1/runs")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "DISABLED_API_KEY"
    assert body["details"]["reason"] == "exposed"
    assert body["details"]["key_id"] == key.key_id


def test_a_deactivated_key_says_its_reason_too(leaked, api):
    key, plaintext = leaked
    services.key_deactivate(key=key, actor=services.Actor.cli("test"))
    body = api(plaintext).get("/api/v1/runs").json()
    assert (body["code"], body["details"]["reason"]) == ("DISABLED_API_KEY", "deactivated")


def test_reactivation_is_refused_by_the_service(leaked):
    key, _ = leaked
    expose(key)
    with pytest.raises(services.PolicyError, match="exposed key cannot be reactivated"):
        services.key_reactivate(key=key, actor=services.Actor.cli("test"))
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def test_reactivation_is_refused_by_the_cli(leaked):
    key, _ = leaked
    expose(key)
    code, _, err = run_cli("apikey", "reactivate", key.key_id)
    assert code == 2
    assert "can never be reactivated" in err and "rotate" in err
    assert len(err.strip().splitlines()) == 1
    assert not APIKey.objects.get(pk=key.pk).is_active


def test_reactivation_is_refused_by_the_dashboard(client, creator, leaked):
    key, _ = leaked
    expose(key)
    client.force_login(creator)
    response = client.post(f"{LIST}{key.key_id}/reactivate/", follow=True)
    assert "exposed key cannot be reactivated" in response.content.decode()
    assert not APIKey.objects.get(pk=key.pk).is_active
    assert not AuditEvent.objects.filter(action="key.reactivated").exists()


def test_rotation_of_an_exposed_key_works_and_the_successor_is_accepted(leaked, api):
    key, _ = leaked
    expose(key)
    successor, plaintext = services.key_rotate(key=key, actor=services.Actor.cli("test"))
    assert successor.status() == "active"
    assert api(plaintext).get("/api/v1/runs").status_code == 200
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def test_list_json_shows_status_exposed_with_when_how_and_where(leaked):
    key, _ = leaked
    expose(key)
    code, out, _ = run_cli("apikey", "list", "--project", "acme", "--format", "json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["status"] == "exposed"
    assert row["exposure"]["source"] == "github"
    assert row["exposure"]["url"] == LEAK_URL
    assert row["exposure"]["exposed_at"].endswith("Z")


def test_exposed_wins_over_expired_in_the_status(project, make_key):
    now = timezone.now()
    key, _ = make_key(project, now=now - timedelta(days=3), expires_at=now - timedelta(days=1))
    expose(key)
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def test_exposure_is_a_high_finding_in_the_review_and_audit_keys(leaked, project):
    key, _ = leaked
    expose(key)
    found = [f for f in review.findings(project) if f.code == "exposed"]
    assert len(found) == 1
    assert found[0].severity == review.Severity.HIGH
    assert found[0].evidence["source"] == "github"
    assert found[0].evidence["url"] == LEAK_URL
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "audit_keys", "--project", "acme", "--fail-on", "high", stdout=out, stderr=StringIO()
        )
    assert raised.value.returncode == 1
    assert "exposed" in out.getvalue()


def test_list_has_an_exposed_badge_and_filter(client, creator, leaked, make_key, project):
    key, _ = leaked
    other, _ = make_key(project, name="still fine")
    expose(key)
    client.force_login(creator)
    page = client.get(LIST).content.decode()
    assert 'class="status status-exposed">Exposed<' in page
    assert '<option value="exposed"' in page
    filtered = client.get(f"{LIST}?status=exposed").content.decode()
    assert key.name in filtered and other.name not in filtered
    assert key.name not in client.get(f"{LIST}?status=disabled").content.decode()
    assert key.name not in client.get(f"{LIST}?status=active").content.decode()


def test_detail_says_what_happened_links_the_url_and_offers_rotation_first(client, creator, leaked):
    key, _ = leaked
    expose(key)
    client.force_login(creator)
    page = client.get(f"{LIST}{key.key_id}/").content.decode()
    assert "This key was exposed" in page
    assert "GitHub secret scanning" in page
    assert f'href="{LEAK_URL}" rel="noopener noreferrer"' in page
    rotate = page.index(f"{key.key_id}/rotate/")
    assert rotate < page.index(f"{key.key_id}/delete/")
    assert f"{key.key_id}/reactivate/" not in page


@pytest.mark.parametrize(
    "where", ["/api/v1/runs", "javascript:alert(1)", "ftp://example.com/x", "https:///nohost"]
)
def test_a_where_that_is_not_an_http_url_is_shown_but_not_linked(client, creator, leaked, where):
    key, _ = leaked
    expose(key, source=APIKey.ExposureSource.URL, url=where)
    client.force_login(creator)
    page = client.get(f"{LIST}{key.key_id}/").content.decode()
    assert "a request URL" in page
    assert 'class="exposure-url"' in page
    assert '<a class="exposure-url"' not in page
