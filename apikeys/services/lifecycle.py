"""A key's life: create, update, deactivate, reactivate, delete.

The plaintext of a new key exists only in the return value of :func:`key_create`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apikeys import keys
from apikeys.conf import apikeys_settings
from apikeys.guard.digests import remember_new_secret
from apikeys.models import APIKey, AuditEvent, Project
from apikeys.permissions import normalize
from apikeys.services.audit import Actor, audit_record
from apikeys.services.policy import (
    KeyInputError,
    PolicyError,
    clean_allowed_ips,
    clean_name,
    validate_expiry,
)

_ID_ATTEMPTS = 5


def hasher() -> keys.KeyHasher:
    return keys.KeyHasher(
        memory_cost=apikeys_settings.ARGON2_MEMORY_KIB,
        time_cost=apikeys_settings.ARGON2_TIME_COST,
        parallelism=apikeys_settings.ARGON2_PARALLELISM,
    )


@transaction.atomic
def key_create(
    *,
    project: Project,
    name: str,
    permissions: list[str] | tuple[str, ...],
    actor: Actor,
    description: str = "",
    expires_at: datetime | None = None,
    allowed_ips: list[str] | tuple[str, ...] | None = None,
    rotated_from: APIKey | None = None,
    now: datetime | None = None,
) -> tuple[APIKey, str]:
    """Create a key; return it with its plaintext, which is never stored anywhere."""
    now = now or timezone.now()
    name = clean_name(project, name)
    try:
        codes = normalize(permissions)
    except ValueError as error:
        raise KeyInputError(str(error)) from None
    ips = clean_allowed_ips(allowed_ips)
    validate_expiry(project, expires_at, now=now)

    for _ in range(_ID_ATTEMPTS):
        generated = keys.generate(prefix=apikeys_settings.KEY_PREFIX)
        try:
            with transaction.atomic():
                key = APIKey.objects.create(
                    project=project,
                    key_id=generated.key_id,
                    hashed_secret=hasher().hash(generated.secret),
                    name=name,
                    description=(description or "").strip(),
                    permissions=codes,
                    created_by=actor.user,
                    created_at=now,
                    expires_at=expires_at,
                    allowed_ips=ips,
                    rotated_from=rotated_from,
                )
            break
        except IntegrityError:
            # Either the name was taken a moment ago, or (once in 62**12) the id.
            if APIKey.objects.filter(project=project, name=name).exists():
                raise KeyInputError(
                    f"A key named {name!r} already exists in this project."
                ) from None
    else:  # pragma: no cover - needs five id collisions in a row
        raise RuntimeError("Could not allocate a unique key id.")
    remember_new_secret(key, generated.secret)

    audit_record(
        project=project,
        action=AuditEvent.Action.KEY_CREATED,
        actor=actor,
        key=key,
        changes={
            "permissions": codes,
            "expires_at": expires_at.isoformat() if expires_at else None,
            **({"allowed_ips": ips} if ips else {}),
            **({"rotated_from": rotated_from.key_id} if rotated_from else {}),
        },
        now=now,
    )
    return key, generated.plaintext


def locked(key: APIKey) -> APIKey:
    return APIKey.objects.select_for_update().select_related("project").get(pk=key.pk)


@transaction.atomic
def key_update(
    *,
    key: APIKey,
    actor: Actor,
    name: str | None = None,
    description: str | None = None,
    permissions: list[str] | tuple[str, ...] | None = None,
    allowed_ips: list[str] | tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> APIKey:
    """Change name, description, permissions or the IP allowlist (``[]`` removes it);
    the audit event says before → after."""
    key = locked(key)
    changes: dict[str, dict[str, Any]] = {}
    if name is not None:
        new_name = clean_name(key.project, name, exclude_pk=key.pk)
        if new_name != key.name:
            changes["name"] = {"before": key.name, "after": new_name}
            key.name = new_name
    if description is not None and description.strip() != key.description:
        changes["description"] = {"before": key.description, "after": description.strip()}
        key.description = description.strip()
    if permissions is not None:
        try:
            codes = normalize(permissions)
        except ValueError as error:
            raise KeyInputError(str(error)) from None
        if codes != key.permissions:
            changes["permissions"] = {"before": key.permissions, "after": codes}
            key.permissions = codes
    if allowed_ips is not None:
        ips = clean_allowed_ips(allowed_ips)
        if ips != list(key.allowed_ips):
            changes["allowed_ips"] = {"before": list(key.allowed_ips), "after": ips}
            key.allowed_ips = ips
    if changes:
        key.save(update_fields=["name", "description", "permissions", "allowed_ips"])
        audit_record(
            project=key.project,
            action=AuditEvent.Action.KEY_UPDATED,
            actor=actor,
            key=key,
            changes=changes,
            now=now,
        )
    return key


@transaction.atomic
def key_deactivate(*, key: APIKey, actor: Actor, now: datetime | None = None) -> APIKey:
    key = locked(key)
    if not key.is_active:
        return key
    now = now or timezone.now()
    key.is_active = False
    key.deactivated_at = now
    key.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        project=key.project,
        action=AuditEvent.Action.KEY_DEACTIVATED,
        actor=actor,
        key=key,
        now=now,
    )
    return key


@transaction.atomic
def key_reactivate(*, key: APIKey, actor: Actor, now: datetime | None = None) -> APIKey:
    key = locked(key)
    now = now or timezone.now()
    if key.is_exposed:
        raise PolicyError(
            "An exposed key cannot be reactivated: its secret is known outside the project. "
            "Rotate it (the successor has the same permissions) or delete it."
        )
    if key.is_expired(now):
        raise PolicyError("An expired key cannot be reactivated; rotate it instead.")
    if key.is_active:
        return key
    # A key made before the policy tightened must not come back around it: the
    # successor that rotation makes gets an expiry within the policy.
    try:
        validate_expiry(key.project, key.expires_at, now=now)
    except PolicyError as error:
        raise PolicyError(f"{error} This key cannot be reactivated; rotate it instead.") from None
    key.is_active = True
    key.deactivated_at = None
    key.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        project=key.project,
        action=AuditEvent.Action.KEY_REACTIVATED,
        actor=actor,
        key=key,
        now=now,
    )
    return key


@transaction.atomic
def key_delete(*, key: APIKey, actor: Actor, now: datetime | None = None) -> None:
    key = locked(key)
    audit_record(
        project=key.project,
        action=AuditEvent.Action.KEY_DELETED,
        actor=actor,
        key=key,
        changes={"permissions": key.permissions},
        now=now,
    )
    key.delete()
