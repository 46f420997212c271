"""The project's key policy as the services enforce it, and the checks on a key's input.

The rules themselves are the Project's (``requires_expiry``, ``latest_expiry``,
``expiry_beyond_policy``); this module turns a breach into a message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apikeys import allowlist
from apikeys.models import APIKey, Project

MAX_NAME_LENGTH = 100


class PolicyError(ValueError):
    """A request the project's key policy does not allow; the message names the policy."""


class KeyInputError(ValueError):
    """Bad input for a key: a duplicate name, an empty name, an unknown permission, an IP
    allowlist entry that is not an address or range."""


def clean_allowed_ips(entries: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """The allowlist to store (apikeys.allowlist), or KeyInputError quoting the bad entry."""
    try:
        return allowlist.normalize(entries)
    except allowlist.AllowlistError as error:
        raise KeyInputError(str(error)) from None


def validate_expiry(project: Project, expires_at: datetime | None, *, now: datetime) -> None:
    """Raise PolicyError when ``expires_at`` breaks the project's key policy."""
    if expires_at is not None and expires_at <= now:
        raise PolicyError("The expiry date must be in the future.")
    if expires_at is None and project.requires_expiry:
        if project.max_key_lifetime_days:
            raise PolicyError(
                f"Project policy: keys must expire within {project.max_key_lifetime_days} days; "
                "choose an expiry."
            )
        raise PolicyError("Project policy: every key must have an expiry date.")
    if project.expiry_beyond_policy(expires_at, now):
        raise PolicyError(
            f"Project policy: keys may live at most {project.max_key_lifetime_days} days "
            f"(until {project.latest_expiry(now):%Y-%m-%d %H:%M} UTC)."
        )


def default_lifetime(project: Project) -> timedelta | None:
    """The expiry a successor gets on rotation: the policy's maximum, else 90 days."""
    if project.max_key_lifetime_days:
        return timedelta(days=project.max_key_lifetime_days)
    return timedelta(days=90)


def clean_name(project: Project, name: str, *, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise KeyInputError("A key needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise KeyInputError(f"A key name has at most {MAX_NAME_LENGTH} characters.")
    clash = APIKey.objects.filter(project=project, name=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise KeyInputError(f"A key named {name!r} already exists in this project.")
    return name
