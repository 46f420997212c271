"""Projects, their members and their key policy.

A project always keeps one admin: the last one cannot be removed or demoted,
or nobody could manage its keys again without a superuser.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from apikeys.models import APIKey, AuditEvent, ExpiryNotice, Membership, Project
from apikeys.services.audit import Actor, audit_record
from apikeys.services.policy import KeyInputError, PolicyError

LAST_ADMIN = "A project needs at least one admin: make someone else admin first."


class LastAdminError(PolicyError):
    """Removing or demoting this member would leave the project without an admin."""


@transaction.atomic
def project_create(*, slug: str, name: str, actor: Actor) -> Project:
    if Project.objects.filter(slug=slug).exists():
        raise KeyInputError(f"A project with slug {slug!r} already exists.")
    project = Project.objects.create(slug=slug, name=name or slug)
    audit_record(
        project=project,
        action=AuditEvent.Action.PROJECT_CREATED,
        actor=actor,
        changes={"slug": project.slug, "name": project.name},
    )
    return project


def _refuse_losing_the_last_admin(membership: Membership) -> None:
    """Raise LastAdminError when ``membership`` is the project's only admin.

    The project's admin rows are locked first, so two admins demoting each other
    at the same moment cannot both succeed."""
    if membership.role != Membership.Role.ADMIN:
        return
    admins = list(
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Membership.Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise LastAdminError(LAST_ADMIN)


@transaction.atomic
def member_set(*, project: Project, user: User, role: str, actor: Actor) -> Membership:
    """Add a member or change their role, with an audit event either way."""
    if role not in Membership.Role.values:
        raise KeyInputError(f"Unknown role {role!r}; choose admin or auditor.")
    membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
    if membership is None:
        membership = Membership.objects.create(project=project, user=user, role=role)
        audit_record(
            project=project,
            action=AuditEvent.Action.MEMBER_ADDED,
            actor=actor,
            changes={"user": user.get_username(), "role": role},
        )
    elif membership.role != role:
        _refuse_losing_the_last_admin(membership)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            project=project,
            action=AuditEvent.Action.MEMBER_ROLE_CHANGED,
            actor=actor,
            changes={"user": user.get_username(), "role": {"before": before, "after": role}},
        )
    return membership


@transaction.atomic
def member_remove(*, project: Project, user: User, actor: Actor) -> None:
    membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
    if membership is None:
        return
    _refuse_losing_the_last_admin(membership)
    membership.delete()
    audit_record(
        project=project,
        action=AuditEvent.Action.MEMBER_REMOVED,
        actor=actor,
        changes={"user": user.get_username(), "role": membership.role},
    )


@transaction.atomic
def policy_update(
    *,
    project: Project,
    actor: Actor,
    max_key_lifetime_days: int | None,
    expiry_required: bool,
    stale_threshold_days: int,
) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    changes: dict[str, dict[str, Any]] = {}
    for field, value in (
        ("max_key_lifetime_days", max_key_lifetime_days),
        ("expiry_required", expiry_required),
        ("stale_threshold_days", stale_threshold_days),
    ):
        if getattr(project, field) != value:
            changes[field] = {"before": getattr(project, field), "after": value}
            setattr(project, field, value)
    if changes:
        project.save(update_fields=list(changes))
        audit_record(
            project=project, action=AuditEvent.Action.POLICY_CHANGED, actor=actor, changes=changes
        )
    return project


@transaction.atomic
def expiry_notice_send(
    *,
    key: APIKey,
    threshold_days: int,
    recipients: list[str],
    deliver: Callable[[], None],
    actor: Actor,
    now: datetime,
) -> bool:
    """Record that ``key``'s expiry was announced at this threshold, and announce it.

    ``deliver`` sends the e-mail inside the transaction: if the mail server refuses,
    neither the notice nor its audit event is kept, and the next run tries again.
    False when the notice was already sent (a cron that ran twice).
    """
    if key.expires_at is None:
        return False
    _, created = ExpiryNotice.objects.get_or_create(
        key=key, threshold_days=threshold_days, expires_at=key.expires_at, defaults={"sent_at": now}
    )
    if not created:
        return False
    deliver()
    audit_record(
        project=key.project,
        action=AuditEvent.Action.EXPIRY_NOTICE_SENT,
        actor=actor,
        key=key,
        # How many were told, not who: addresses do not belong in a log kept for ever.
        changes={
            "threshold_days": threshold_days,
            "expires_at": key.expires_at.isoformat(),
            "recipients": len(recipients),
        },
        now=now,
    )
    return True
