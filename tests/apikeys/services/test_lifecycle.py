"""Services: every write enforces the policy and leaves an audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.conf import key_format
from apikeys.models import APIKey, AuditEvent

ACTOR = services.Actor.cli("test")


def test_created_key_stores_only_a_hash_of_its_secret(project, make_key):
    key, plaintext = make_key(project, [READ_RUNS])
    parsed = key_format().parse(plaintext)
    assert parsed is not None and parsed.key_id == key.key_id
    assert parsed.secret not in key.hashed_secret
    assert key.hashed_secret.startswith("$argon2id$")
    assert services.hasher().verify(key.hashed_secret, parsed.secret)


def test_permissions_are_stored_in_registry_order(project, make_key):
    key, _ = make_key(project, [MANAGE_BUILD_STORAGE, READ_RUNS, READ_RUNS])
    assert key.permissions == [READ_RUNS, MANAGE_BUILD_STORAGE]


@pytest.mark.parametrize("permissions", [[], ["project:everything"], "project:read-runs"])
def test_bad_permissions_are_refused(project, permissions):
    with pytest.raises(services.KeyInputError):
        services.key_create(project=project, name="x", permissions=permissions, actor=ACTOR)
    assert not APIKey.objects.exists()


def test_duplicate_name_in_a_project_is_refused(project, other_project, make_key):
    make_key(project, name="deploy")
    with pytest.raises(services.KeyInputError, match="already exists"):
        make_key(project, name=" deploy ")
    make_key(other_project, name="deploy")  # another project may use the name


def test_policy_requiring_expiry_refuses_a_key_without_one(project):
    project.expiry_required = True
    project.save()
    with pytest.raises(services.PolicyError, match="must have an expiry"):
        services.key_create(project=project, name="x", permissions=[READ_RUNS], actor=ACTOR)


def test_policy_maximum_lifetime_is_enforced_and_named(project):
    project.max_key_lifetime_days = 30
    project.save()
    now = timezone.now()
    with pytest.raises(services.PolicyError, match="at most 30 days"):
        services.key_create(
            project=project,
            name="x",
            permissions=[READ_RUNS],
            actor=ACTOR,
            expires_at=now + timedelta(days=31),
            now=now,
        )
    key, _ = services.key_create(
        project=project,
        name="x",
        permissions=[READ_RUNS],
        actor=ACTOR,
        expires_at=now + timedelta(days=30),
        now=now,
    )
    assert key.expires_at == now + timedelta(days=30)


def test_update_records_what_changed_before_and_after(project, make_key):
    key, _ = make_key(project, [READ_RUNS], name="old")
    services.key_update(key=key, actor=ACTOR, name="new", permissions=[READ_RUNS, OPERATE_RUNS])
    event = AuditEvent.objects.get(action=AuditEvent.Action.KEY_UPDATED)
    assert event.changes == {
        "name": {"before": "old", "after": "new"},
        "permissions": {"before": [READ_RUNS], "after": [READ_RUNS, OPERATE_RUNS]},
    }
    assert event.key_name == "new" and event.key_id == key.key_id


def test_update_without_changes_records_nothing(project, make_key):
    key, _ = make_key(project, [READ_RUNS], name="same")
    services.key_update(key=key, actor=ACTOR, name="same", permissions=[READ_RUNS])
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.KEY_UPDATED).exists()


def test_expired_key_cannot_be_reactivated(project, make_key):
    now = timezone.now()
    key, _ = make_key(project, expires_at=now + timedelta(hours=1), now=now)
    services.key_deactivate(key=key, actor=ACTOR, now=now)
    with pytest.raises(services.PolicyError, match="rotate it instead"):
        services.key_reactivate(key=key, actor=ACTOR, now=now + timedelta(hours=2))


def test_rotation_names_successors_without_stacking_suffixes(project, make_key):
    key, _ = make_key(project, name="deploy")
    first, _ = services.key_rotate(key=key, actor=ACTOR)
    services.key_deactivate(key=first, actor=ACTOR)  # else key may not be rotated again
    second, _ = services.key_rotate(key=key, actor=ACTOR)
    third, _ = services.key_rotate(key=first, actor=ACTOR)
    assert [first.name, second.name, third.name] == [
        "deploy (rotated)",
        "deploy (rotated 2)",
        "deploy (rotated 3)",
    ]


def test_rotation_with_grace_period_ends_the_old_key(project, make_key):
    now = timezone.now()
    key, _ = make_key(project, [READ_RUNS, OPERATE_RUNS], now=now)
    successor, plaintext = services.key_rotate(
        key=key, actor=ACTOR, grace=services.GRACE_PERIODS["24h"], now=now
    )
    key.refresh_from_db()
    assert key.expires_at == now + timedelta(hours=24)
    assert successor.rotated_from_id == key.pk
    assert successor.permissions == key.permissions
    assert key_format().parse(plaintext).key_id == successor.key_id


def test_reactivation_is_refused_when_the_key_breaks_todays_policy(project, make_key):
    key, _ = make_key(project)  # no expiry: allowed when it was made
    services.key_deactivate(key=key, actor=ACTOR)
    project.expiry_required = True
    project.save()
    with pytest.raises(services.PolicyError, match="rotate it instead"):
        services.key_reactivate(key=key, actor=ACTOR)
    key.refresh_from_db()
    assert not key.is_active
    successor, _ = services.key_rotate(key=key, actor=ACTOR)
    assert successor.expires_at is not None and successor.is_active


# --- IP allowlists ----------------------------------------------------------------


def test_a_key_is_created_with_its_normalized_allowlist_and_the_audit_says_so(project, make_key):
    key, _ = make_key(project, [READ_RUNS], allowed_ips=["10.0.0.0/8", "192.0.2.1", "10.0.0.0/8"])
    assert key.allowed_ips == ["10.0.0.0/8", "192.0.2.1/32"]
    event = AuditEvent.objects.get(key_id=key.key_id, action=AuditEvent.Action.KEY_CREATED)
    assert event.changes["allowed_ips"] == ["10.0.0.0/8", "192.0.2.1/32"]


def test_a_bad_allowlist_entry_refuses_the_key_and_quotes_the_entry(project):
    with pytest.raises(services.KeyInputError) as raised:
        services.key_create(
            project=project,
            name="x",
            permissions=[READ_RUNS],
            actor=ACTOR,
            allowed_ips=["10.0.0.0/8", "10.0.0.300"],
        )
    assert str(raised.value) == "'10.0.0.300' is not an IPv4/IPv6 address or CIDR range."
    assert not APIKey.objects.exists()


def test_an_allowlist_change_is_audited_before_and_after(project, make_key):
    key, _ = make_key(project, [READ_RUNS], allowed_ips=["10.0.0.0/8"])
    services.key_update(key=key, actor=ACTOR, allowed_ips=["10.0.0.0/8", "2001:db8::/32"])
    services.key_update(key=key, actor=ACTOR, allowed_ips=["10.0.0.0/8", "2001:db8::/32"])
    services.key_update(key=key, actor=ACTOR, allowed_ips=[])
    events = AuditEvent.objects.filter(
        key_id=key.key_id, action=AuditEvent.Action.KEY_UPDATED
    ).order_by("id")
    assert [e.changes["allowed_ips"] for e in events] == [
        {"before": ["10.0.0.0/8"], "after": ["10.0.0.0/8", "2001:db8::/32"]},
        {"before": ["10.0.0.0/8", "2001:db8::/32"], "after": []},
    ]
    key.refresh_from_db()
    assert key.allowed_ips == []


def test_a_bad_allowlist_update_changes_nothing(project, make_key):
    key, _ = make_key(project, [READ_RUNS], allowed_ips=["10.0.0.0/8"])
    with pytest.raises(services.KeyInputError, match="host bits set"):
        services.key_update(key=key, actor=ACTOR, name="renamed", allowed_ips=["10.0.0.1/8"])
    key.refresh_from_db()
    assert (key.name, key.allowed_ips) == ("key 1", ["10.0.0.0/8"])


def test_rotation_copies_the_allowlist(project, make_key):
    key, _ = make_key(project, [READ_RUNS], allowed_ips=["203.0.113.0/24"])
    successor, _ = services.key_rotate(key=key, actor=ACTOR)
    assert successor.allowed_ips == ["203.0.113.0/24"]
