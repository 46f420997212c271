"""The key policy: enforced on every path that creates or changes a key (services, CLI,
rotation), changed only through services with an audit event, and its settings page."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import APIKey, AuditEvent, Membership

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ACTOR = services.Actor.cli("test")


def set_policy(project, *, max_days=None, required=False, stale=45):
    return services.policy_update(
        project=project,
        actor=ACTOR,
        max_key_lifetime_days=max_days,
        expiry_required=required,
        stale_threshold_days=stale,
    )


def create(project, **kwargs):
    return services.key_create(
        project=project, name="k", permissions=[READ_RUNS], actor=ACTOR, now=T0, **kwargs
    )


# --- Services -------------------------------------------------------------


def test_policy_change_is_audited_with_before_and_after(project):
    set_policy(project, max_days=30, required=True, stale=10)
    event = AuditEvent.objects.get(action=AuditEvent.Action.POLICY_CHANGED)
    assert event.changes == {
        "max_key_lifetime_days": {"before": None, "after": 30},
        "expiry_required": {"before": False, "after": True},
        "stale_threshold_days": {"before": 45, "after": 10},
    }


def test_unchanged_policy_logs_nothing(project):
    set_policy(project)
    assert not AuditEvent.objects.exists()


def test_expiry_required_refuses_a_key_without_expiry_and_says_why(project):
    project = set_policy(project, required=True)
    with pytest.raises(services.PolicyError, match="Project policy: every key must have an"):
        create(project)
    create(project, expires_at=T0 + timedelta(days=400))


def test_max_lifetime_refuses_longer_and_missing_expiries(project):
    project = set_policy(project, max_days=30)
    with pytest.raises(services.PolicyError, match="at most 30 days"):
        create(project, expires_at=T0 + timedelta(days=31))
    with pytest.raises(services.PolicyError, match="within 30 days"):
        create(project)
    key, _ = create(project, expires_at=T0 + timedelta(days=30))
    assert key.expires_at == T0 + timedelta(days=30)


def test_rotation_under_a_max_lifetime_gets_an_expiry_within_it(project, make_key):
    key, _ = make_key(project, [READ_RUNS], now=T0 - timedelta(days=1))
    set_policy(project, max_days=14)
    successor, _ = services.key_rotate(key=key, actor=ACTOR, now=T0)
    assert successor.expires_at is not None
    assert successor.expires_at <= T0 + timedelta(days=14)
    with pytest.raises(services.PolicyError, match="at most 14 days"):
        services.key_rotate(key=successor, actor=ACTOR, now=T0, expires_at=T0 + timedelta(days=20))


def test_membership_changes_go_through_services_with_audit_events(project, make_user):
    make_user("alice", project=project, role="admin")
    bob = make_user("bob")
    services.member_set(project=project, user=bob, role="auditor", actor=ACTOR)
    services.member_set(project=project, user=bob, role="admin", actor=ACTOR)
    services.member_remove(project=project, user=bob, actor=ACTOR)
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "member.added",
        "member.role_changed",
        "member.removed",
    ]
    assert not Membership.objects.filter(user=bob).exists()


# --- Command line ---------------------------------------------------------


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_createapikey_refuses_what_the_policy_forbids_with_exit_2(project):
    project = set_policy(project, max_days=30)
    for expiry in (("--expires-in", "31d"), ()):
        with pytest.raises(CommandError, match="Project policy") as raised:
            cli(
                "createapikey",
                "--project",
                "acme",
                "--name",
                "x",
                "--preset",
                "monitoring",
                *expiry,
            )
        assert raised.value.returncode == 2
    assert not APIKey.objects.exists()
    assert cli(
        "createapikey",
        "--project",
        "acme",
        "--name",
        "x",
        "--preset",
        "monitoring",
        "--expires-in",
        "30d",
    ).startswith("nunu_")


def test_cli_rotate_refuses_an_expiry_past_the_policy_with_exit_2(project, make_key):
    key, _ = make_key(project, [READ_RUNS])
    set_policy(project, max_days=7)
    with pytest.raises(CommandError, match="at most 7 days") as raised:
        cli("apikey", "rotate", key.key_id, "--expires-in", "30d")
    assert raised.value.returncode == 2
    assert not key.successors.exists()
    assert cli("apikey", "rotate", key.key_id, "--grace", "1h").startswith("nunu_")
    successor = key.successors.get()
    assert successor.expires_at is not None


# --- The settings page ----------------------------------------------------

SETTINGS = "/projects/acme/admin/settings/"
POLICY = {"max_key_lifetime_days": "30", "expiry_required": "on", "stale_threshold_days": "20"}


def test_admin_changes_the_policy_and_it_is_audited(client, project, admin_user):
    client.force_login(admin_user)
    response = client.post(SETTINGS, POLICY)
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.max_key_lifetime_days, project.expiry_required) == (30, True)
    assert project.stale_threshold_days == 20
    event = AuditEvent.objects.get(action=AuditEvent.Action.POLICY_CHANGED)
    assert event.actor_username == "alice"


def test_empty_max_lifetime_means_none(client, project, admin_user):
    project.max_key_lifetime_days = 10
    project.save()
    client.force_login(admin_user)
    client.post(SETTINGS, {"max_key_lifetime_days": "", "stale_threshold_days": "45"})
    project.refresh_from_db()
    assert project.max_key_lifetime_days is None


@pytest.mark.parametrize("bad", [{"stale_threshold_days": "0"}, {"max_key_lifetime_days": "-3"}])
def test_invalid_policy_is_refused_with_422(client, project, admin_user, bad):
    client.force_login(admin_user)
    response = client.post(SETTINGS, {**POLICY, **bad})
    assert response.status_code == 422
    assert not AuditEvent.objects.exists()


def test_auditor_reads_the_settings_but_gets_403_on_every_write(
    client, project, auditor_user, admin_user
):
    client.force_login(auditor_user)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    assert "disabled" in page.content.decode()
    assert "Save policy" not in page.content.decode()
    assert client.post(SETTINGS, POLICY).status_code == 403
    assert (
        client.post(SETTINGS + "members/add/", {"username": "audrey", "role": "admin"}).status_code
        == 403
    )
    assert (
        client.post(SETTINGS + f"members/{auditor_user.pk}/role/", {"role": "admin"}).status_code
        == 403
    )
    assert client.post(SETTINGS + f"members/{admin_user.pk}/remove/").status_code == 403
    assert not AuditEvent.objects.exists()


def test_outsider_gets_404_on_settings(client, project, make_user):
    client.force_login(make_user("mallory"))
    assert client.get(SETTINGS).status_code == 404
    assert client.post(SETTINGS, POLICY).status_code == 404


def test_admin_adds_changes_and_removes_a_member(client, project, admin_user, make_user):
    bob = make_user("bob")
    client.force_login(admin_user)
    client.post(SETTINGS + "members/add/", {"username": "bob", "role": "auditor"})
    assert Membership.objects.get(user=bob).role == "auditor"
    client.post(SETTINGS + f"members/{bob.pk}/role/", {"role": "admin"})
    assert Membership.objects.get(user=bob).role == "admin"
    client.post(SETTINGS + f"members/{bob.pk}/remove/")
    assert not Membership.objects.filter(user=bob).exists()
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "member.added",
        "member.role_changed",
        "member.removed",
    ]


def test_adding_an_unknown_user_names_them(client, project, admin_user):
    client.force_login(admin_user)
    response = client.post(SETTINGS + "members/add/", {"username": "ghost", "role": "admin"})
    assert response.status_code == 422
    assert "No user named &#x27;ghost&#x27;. There is no sign-up page" in response.content.decode()


def test_the_last_admin_cannot_be_removed_or_demoted(client, project, admin_user):
    client.force_login(admin_user)
    client.post(SETTINGS + f"members/{admin_user.pk}/remove/")
    client.post(SETTINGS + f"members/{admin_user.pk}/role/", {"role": "auditor"})
    assert Membership.objects.get(user=admin_user).role == "admin"
    assert not AuditEvent.objects.exists()
