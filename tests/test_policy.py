"""The key policy: enforced on every path that creates or changes a key (services, CLI,
rotation), changed only through services with an audit event, and its settings page."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys import services
from apikeys.models import APIKey, AuditEvent, Membership
from apikeys.permissions import READ_RUNS

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
        services.key_rotate(key=key, actor=ACTOR, now=T0, expires_at=T0 + timedelta(days=20))


def test_membership_changes_go_through_services_with_audit_events(project, make_user):
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
