"""The append-only audit log (SPEC §7)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apikeys import keys
from apikeys.models.projects import Project


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only; they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only; they cannot be deleted.")


class AuditEvent(models.Model):
    """One change, as it was. Append-only: the application never updates or deletes one."""

    class Action(models.TextChoices):
        KEY_CREATED = "key.created", "Key created"
        KEY_UPDATED = "key.updated", "Key updated"
        KEY_ROTATED = "key.rotated", "Key rotated"
        KEY_DEACTIVATED = "key.deactivated", "Key deactivated"
        KEY_REACTIVATED = "key.reactivated", "Key reactivated"
        KEY_DELETED = "key.deleted", "Key deleted"
        KEY_EXPOSED = "key.exposed", "Key exposed"
        POLICY_CHANGED = "policy.changed", "Policy changed"
        MEMBER_ADDED = "member.added", "Member added"
        MEMBER_REMOVED = "member.removed", "Member removed"
        MEMBER_ROLE_CHANGED = "member.role_changed", "Member role changed"
        PROJECT_CREATED = "project.created", "Project created"
        EXPIRY_NOTICE_SENT = "key.expiry_notice_sent", "Expiry notice sent"

    # DO_NOTHING: the log outlives what it describes; a project is never deleted by the app.
    project = models.ForeignKey(
        Project, on_delete=models.DO_NOTHING, db_constraint=False, related_name="audit_events"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # As it was at the time: users are renamed and deleted, the log is not.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    key_id = models.CharField(max_length=keys.ID_LENGTH, blank=True, db_index=True)
    key_name = models.CharField(max_length=100, blank=True)
    # {"field": {"before": ..., "after": ...}} for updates; free details otherwise.
    changes = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="audit_project_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.key_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Audit events are append-only; they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only; they cannot be deleted.")
