"""Rotation: a successor with the same permissions, and an optional grace for the old key."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apikeys.models import APIKey, AuditEvent
from apikeys.selectors.lineage import live_successor
from apikeys.services.audit import Actor, audit_record
from apikeys.services.lifecycle import key_create, locked
from apikeys.services.policy import MAX_NAME_LENGTH, KeyInputError, default_lifetime

# The grace periods an old key may keep after a rotation (SPEC §7), by the code the
# dashboard's form and the CLI's --grace both take.
GRACE_PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


class AlreadyRotatedError(KeyInputError):
    """The key already has a working successor: a second one would leave two keys for
    the same clients, and the transition could confirm only one of them."""

    def __init__(self, key: APIKey, successor: APIKey) -> None:
        self.key = key
        self.successor = successor
        super().__init__(
            f"Key {key.key_id} ({key.name}) was already rotated to {successor.key_id} "
            f"({successor.name}), which still works: rotate that key instead, or deactivate "
            "it first to rotate this one again."
        )


def grace_label(code: str) -> str:
    """ "1h" → "1 hour", "24h" → "24 hours", "7d" → "7 days"."""
    number, unit = int(code[:-1]), {"h": "hour", "d": "day"}[code[-1]]
    return f"{number} {unit}" + ("" if number == 1 else "s")


@transaction.atomic
def key_rotate(
    *,
    key: APIKey,
    actor: Actor,
    grace: timedelta | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[APIKey, str]:
    """Make a successor with the same permissions and IP allowlist and a fresh expiry;
    link the two.

    The old key stays usable until it is deactivated, or until ``grace`` ends
    (then it answers 403 EXPIRED_API_KEY). A key with a working successor
    (``live_successor``) is refused with AlreadyRotatedError: rotate the successor.
    """
    old = locked(key)  # two rotations of one key wait here; the second sees the first's
    now = now or timezone.now()
    successor = live_successor(old, now=now)
    if successor is not None:
        raise AlreadyRotatedError(old, successor)
    if expires_at is None:
        lifetime = default_lifetime(old.project)
        expires_at = now + lifetime if lifetime else None
    name = _successor_name(old)
    successor, plaintext = key_create(
        project=old.project,
        name=name,
        description=old.description,
        permissions=old.permissions,
        expires_at=expires_at,
        # The successor is used by the same clients, from the same addresses.
        allowed_ips=old.allowed_ips,
        actor=actor,
        rotated_from=old,
        now=now,
    )
    old.rotated_at = now
    update_fields = ["rotated_at"]
    if grace is not None:
        grace_end = now + grace
        if old.expires_at is None or old.expires_at > grace_end:
            old.expires_at = grace_end
            update_fields.append("expires_at")
    old.save(update_fields=update_fields)
    audit_record(
        project=old.project,
        action=AuditEvent.Action.KEY_ROTATED,
        actor=actor,
        key=old,
        changes={
            "successor": successor.key_id,
            "grace_ends_at": old.expires_at.isoformat()
            if grace is not None and old.expires_at is not None
            else None,
        },
        now=now,
    )
    return successor, plaintext


_ROTATED_SUFFIX = re.compile(r" \(rotated(?: \d+)?\)$")


def _successor_name(old: APIKey) -> str:
    """ "deploy" → "deploy (rotated)" → "deploy (rotated 2)": one suffix, never stacked."""
    base = _ROTATED_SUFFIX.sub("", old.name)
    taken = set(
        APIKey.objects.filter(
            project=old.project, name__startswith=base[: MAX_NAME_LENGTH - 20]
        ).values_list("name", flat=True)
    )
    for number in range(1, 10_000):
        suffix = " (rotated)" if number == 1 else f" (rotated {number})"
        candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise KeyInputError("Could not find a free name for the successor key.")
