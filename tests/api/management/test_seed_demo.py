"""seed_demo: `make run` runs it every time, so it must be idempotent and complete."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.models import Bug, Build, Run
from apikeys.allowlist import allows
from apikeys.conf import key_format
from apikeys.models import (
    APIKey,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
    AuditEvent,
    Membership,
    Project,
)

KEY_RE = re.compile(key_format().pattern)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    models = (
        get_user_model(),
        Project,
        Membership,
        APIKey,
        APIKeyDailyUsage,
        APIKeyPermissionUsage,
        APIKeyRefusal,
        AuditEvent,
        Run,
        Bug,
        Build,
    )
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def seeded(db) -> str:
    return seed()


def demo_keys() -> list[APIKey]:
    return list(APIKey.objects.filter(project__slug="demo").select_related("project"))


def test_running_seed_demo_twice_adds_nothing_the_second_time(seeded):
    before = counts()
    again = seed()
    assert counts() == before
    assert "nothing added" in again


def test_the_quick_start_key_is_printed_once_and_works(seeded, api):
    printed = KEY_RE.findall(seeded)
    assert len(printed) == 1
    parsed = key_format().parse(printed[0])
    assert parsed is not None
    assert APIKey.objects.get(key_id=parsed.key_id).name == "Quick start key"

    response = api(printed[0]).get("/api/v1/runs")
    assert response.status_code == 200
    assert len(response.json()["data"]) == Run.objects.filter(project__slug="demo").count()

    again = seed()
    assert KEY_RE.search(again) is None
    assert "createapikey --project demo" in again


def test_the_output_gives_the_login_url_and_both_logins(seeded):
    assert "http://127.0.0.1:8000/accounts/login/" in seeded
    assert "admin / nunu-admin-demo" in seeded
    assert "auditor / nunu-auditor-demo" in seeded


def test_the_demo_users_can_sign_in_and_have_their_roles(seeded, client):
    users = get_user_model().objects
    admin, auditor = users.get(username="admin"), users.get(username="auditor")
    assert admin.is_superuser and admin.is_staff
    assert not auditor.is_superuser
    assert client.login(username="admin", password="nunu-admin-demo")
    assert client.login(username="auditor", password="nunu-auditor-demo")
    demo = Project.objects.get(slug="demo", name="Demo Game Studio")
    assert Membership.objects.get(project=demo, user=admin).role == "admin"
    assert Membership.objects.get(project=demo, user=auditor).role == "auditor"
    assert not Membership.objects.filter(project__slug="other-studio", user=auditor).exists()
    assert APIKey.objects.filter(project__slug="other-studio").exists()


def test_existing_users_keep_their_passwords(db, make_user):
    make_user("admin")
    seed()
    user = get_user_model().objects.get(username="admin")
    assert user.check_password("correct horse battery staple")


def test_keys_in_every_state(seeded):
    now = timezone.now()
    demo = demo_keys()
    statuses = {key.status(now) for key in demo}
    assert statuses == {"active", "disabled", "expired", "exposed"}

    def some(condition) -> bool:
        return any(condition(key) for key in demo)

    assert some(
        lambda k: (
            k.status(now) == "active"
            and k.last_used_at
            and k.last_used_at > now - timedelta(days=1)
        )
    )
    assert some(lambda k: k.status(now) == "active" and k.last_used_at is None)
    assert some(
        lambda k: k.is_stale(now) and k.last_used_at and k.last_used_at <= now - timedelta(days=59)
    )
    assert some(lambda k: k.expires_soon(now))
    assert some(lambda k: k.expires_at is None)
    assert some(lambda k: k.rotated_from_id is not None and k.rotated_from.rotated_at is not None)
    # A disabled key still being tried, and an expired one.
    tried = {
        refusal.key.status(now): refusal
        for refusal in APIKeyRefusal.objects.select_related("key__project")
    }
    assert tried["disabled"].code == "DISABLED_API_KEY" and tried["disabled"].count > 0
    assert tried["expired"].code == "EXPIRED_API_KEY"
    # A key created by someone who is no longer a member.
    members = set(Membership.objects.filter(project__slug="demo").values_list("user", flat=True))
    assert some(lambda k: k.created_by_id is not None and k.created_by_id not in members)


def test_usage_history_covers_the_last_30_days(seeded):
    today = timezone.now().date()
    days = set(APIKeyDailyUsage.objects.values_list("date", flat=True))
    assert today - timedelta(days=29) in days
    assert all(today - timedelta(days=30) < day <= today for day in days)
    assert APIKeyPermissionUsage.objects.exists()


def test_runs_in_every_state_with_bugs_and_ready_builds(seeded):
    runs = Run.objects.filter(project__slug="demo")
    assert set(runs.values_list("state", flat=True)) == set(Run.State.values)
    assert Bug.objects.filter(run__project__slug="demo").exists()
    assert runs.filter(bugs__isnull=False).exclude(state=Run.State.QUEUED).exists()
    builds = Build.objects.filter(project__slug="demo")
    assert builds.exists() and all(build.status == Build.Status.READY for build in builds)
    assert all(run.initiator_key_id for run in runs)


def test_the_rotation_is_recorded_in_the_audit_log(seeded):
    successor = APIKey.objects.get(rotated_from__isnull=False, project__slug="demo")
    event = AuditEvent.objects.get(action="key.rotated", key_id=successor.rotated_from.key_id)
    assert event.changes["successor"] == successor.key_id


@pytest.mark.parametrize(
    ("url", "printed"),
    [
        ("http://127.0.0.1:8171", "http://127.0.0.1:8171"),
        ("http://0.0.0.0:9000/", "http://127.0.0.1:9000"),
        ("localhost:8080", "http://localhost:8080"),
    ],
)
def test_the_urls_printed_follow_the_server_address(db, url, printed):
    out = StringIO()
    call_command("seed_demo", "--url", url, stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert f"Sign in at {printed}/accounts/login/" in text
    assert f"{printed}/api/v1/runs" in text
    assert ":8000" not in text


def test_a_malformed_url_is_one_line_and_exit_2(db):
    with pytest.raises(CommandError) as raised:
        call_command("seed_demo", "--url", "ftp://host:port", stdout=StringIO(), stderr=StringIO())
    assert raised.value.returncode == 2


def test_one_demo_key_has_an_ip_allowlist_that_its_page_shows(seeded, client):
    fenced = [key for key in demo_keys() if key.allowed_ips]
    assert len(fenced) == 1
    key = fenced[0]
    assert key.status(timezone.now()) == "active"
    # Its recorded use came from inside the list, as the guard would have required.
    assert allows(key.allowed_ips, key.last_used_ip)
    assert not allows(key.allowed_ips, "198.51.100.7")
    assert client.login(username="admin", password="nunu-admin-demo")
    page = client.get(f"/projects/demo/admin/api-keys/{key.key_id}/").content.decode()
    for entry in key.allowed_ips:
        assert f"<code>{entry}</code>" in page
