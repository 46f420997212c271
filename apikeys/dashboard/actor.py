"""Who acts, as the audit log records it, from a dashboard request."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.http import HttpRequest

from apikeys.guard.clientip import client_ip
from apikeys.services import Actor

USER_AGENT_MAX_LENGTH = 500  # AuditEvent.user_agent


def actor_of(request: HttpRequest) -> Actor:
    """The signed-in user, their address (behind the trusted proxies) and browser."""
    user = cast(User, request.user) if request.user.is_authenticated else None
    return Actor(
        user=user,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
    )
