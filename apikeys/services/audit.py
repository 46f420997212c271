"""Who made a change, and the audit event each service writes for it.

An :class:`Actor` is built by the caller (the dashboard's views from the request,
the CLI with :meth:`Actor.cli`); the services never see a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from apikeys.models import APIKey, AuditEvent, Project


@dataclass(frozen=True)
class Actor:
    """Who made a change, for the audit log. ``user`` is None for the CLI."""

    user: User | None = None
    ip: str | None = None
    user_agent: str = ""
    label: str = ""

    @classmethod
    def cli(cls, label: str = "cli") -> Actor:
        return cls(user=None, label=label)

    @property
    def username(self) -> str:
        if self.user is not None and not isinstance(self.user, AnonymousUser):
            return self.user.get_username()
        return self.label or "system"


def audit_record(
    *,
    project: Project,
    action: str,
    actor: Actor,
    key: APIKey | None = None,
    key_id: str = "",
    key_name: str = "",
    changes: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        project=project,
        action=action,
        actor=actor.user,
        actor_username=actor.username,
        actor_ip=actor.ip,
        user_agent=actor.user_agent,
        key_id=key.key_id if key is not None else key_id,
        key_name=key.name if key is not None else key_name,
        changes=changes or {},
        created_at=now or timezone.now(),
    )
