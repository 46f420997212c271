"""Projects, members and expiry notices: each write leaves its audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import AuditEvent, ExpiryNotice, Membership, Project

ACTOR = services.Actor.cli("test")


def actions(project: Project) -> list[str]:
    return list(
        AuditEvent.objects.filter(project=project).order_by("id").values_list("action", flat=True)
    )


def test_creating_a_project_is_audited(db):
    project = services.project_create(slug="new", name="New", actor=ACTOR)
    event = AuditEvent.objects.get(project=project)
    assert (event.action, event.actor_username) == ("project.created", "test")
    assert event.changes == {"slug": "new", "name": "New"}


def test_the_last_admin_can_be_neither_removed_nor_demoted(project, make_user):
    alice = make_user("alice", project=project, role="admin")
    with pytest.raises(services.LastAdminError, match="at least one admin"):
        services.member_remove(project=project, user=alice, actor=ACTOR)
    with pytest.raises(services.LastAdminError):
        services.member_set(project=project, user=alice, role="auditor", actor=ACTOR)
    assert Membership.objects.get(user=alice).role == "admin"
    assert actions(project) == []


def test_an_admin_goes_once_another_admin_remains(project, make_user):
    alice = make_user("alice", project=project, role="admin")
    bob = make_user("bob", project=project, role="admin")
    services.member_set(project=project, user=alice, role="auditor", actor=ACTOR)
    with pytest.raises(services.LastAdminError):
        services.member_remove(project=project, user=bob, actor=ACTOR)
    services.member_remove(project=project, user=alice, actor=ACTOR)
    assert actions(project) == ["member.role_changed", "member.removed"]


def test_an_expiry_notice_is_recorded_and_audited_once(project, make_key):
    now = timezone.now()
    key, _ = make_key(project, [READ_RUNS], expires_at=now + timedelta(days=3))
    sent: list[str] = []

    def send() -> bool:
        return services.expiry_notice_send(
            key=key,
            threshold_days=7,
            recipients=["a@example.com", "b@example.com"],
            deliver=lambda: sent.append("mail"),
            actor=ACTOR,
            now=now,
        )

    assert send() is True
    assert send() is False
    assert sent == ["mail"]
    assert ExpiryNotice.objects.filter(key=key).count() == 1
    event = AuditEvent.objects.get(action="key.expiry_notice_sent")
    assert event.key_id == key.key_id
    assert event.changes["recipients"] == 2  # how many, never the addresses
    assert "example.com" not in str(event.changes)


def test_a_refused_mail_records_no_notice_and_no_event(project, make_key):
    now = timezone.now()
    key, _ = make_key(project, [READ_RUNS], expires_at=now + timedelta(days=3))

    def refuse() -> None:
        raise OSError("mail server down")

    with pytest.raises(OSError):
        services.expiry_notice_send(
            key=key, threshold_days=7, recipients=["a@example.com"], deliver=refuse,
            actor=ACTOR, now=now,
        )  # fmt: skip
    assert not ExpiryNotice.objects.exists()
    assert not AuditEvent.objects.filter(action="key.expiry_notice_sent").exists()
