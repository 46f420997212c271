"""Every write to projects, keys and the audit log. Views and commands call these.

Each function is keyword-only, runs in one transaction, enforces the project's
key policy, and records an audit event. The plaintext of a new key exists only
in the return value of :func:`key_create` and :func:`key_rotate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.utils import timezone

from apikeys import keys
from apikeys.conf import apikeys_settings
from apikeys.guard.clientip import client_ip
from apikeys.models import APIKey, AuditEvent, Membership, Project
from apikeys.permissions import normalize

_ID_ATTEMPTS = 5
MAX_NAME_LENGTH = 100


class PolicyError(ValueError):
    """A request the project's key policy does not allow; the message names the policy."""


class KeyInputError(ValueError):
    """Bad input for a key: a duplicate name, an empty name, an unknown permission."""


@dataclass(frozen=True)
class Actor:
    """Who made a change, for the audit log. ``user`` is None for the CLI."""

    user: User | None = None
    ip: str | None = None
    user_agent: str = ""
    label: str = ""

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        )

    @classmethod
    def cli(cls, label: str = "cli") -> Actor:
        return cls(user=None, label=label)

    @property
    def username(self) -> str:
        if self.user is not None and not isinstance(self.user, AnonymousUser):
            return self.user.get_username()
        return self.label or "system"


def hasher() -> keys.KeyHasher:
    return keys.KeyHasher(
        memory_cost=apikeys_settings.ARGON2_MEMORY_KIB,
        time_cost=apikeys_settings.ARGON2_TIME_COST,
        parallelism=apikeys_settings.ARGON2_PARALLELISM,
    )


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


# --- Policy ---------------------------------------------------------------


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


# --- Keys -----------------------------------------------------------------


@transaction.atomic
def key_create(
    *,
    project: Project,
    name: str,
    permissions: list[str] | tuple[str, ...],
    actor: Actor,
    description: str = "",
    expires_at: datetime | None = None,
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
    validate_expiry(project, expires_at, now=now)

    for _ in range(_ID_ATTEMPTS):
        generated = keys.generate()
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

    audit_record(
        project=project,
        action=AuditEvent.Action.KEY_CREATED,
        actor=actor,
        key=key,
        changes={
            "permissions": codes,
            "expires_at": expires_at.isoformat() if expires_at else None,
            **({"rotated_from": rotated_from.key_id} if rotated_from else {}),
        },
        now=now,
    )
    return key, generated.plaintext


def _locked(key: APIKey) -> APIKey:
    return APIKey.objects.select_for_update().select_related("project").get(pk=key.pk)


@transaction.atomic
def key_update(
    *,
    key: APIKey,
    actor: Actor,
    name: str | None = None,
    description: str | None = None,
    permissions: list[str] | tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> APIKey:
    """Change name, description or permissions; the audit event says before → after."""
    key = _locked(key)
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
    if changes:
        key.save(update_fields=["name", "description", "permissions"])
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
    key = _locked(key)
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
    key = _locked(key)
    now = now or timezone.now()
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
    key = _locked(key)
    audit_record(
        project=key.project,
        action=AuditEvent.Action.KEY_DELETED,
        actor=actor,
        key=key,
        changes={"permissions": key.permissions},
        now=now,
    )
    key.delete()


# The grace periods an old key may keep after a rotation (SPEC §7), by the code the
# dashboard's form and the CLI's --grace both take.
GRACE_PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


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
    """Make a successor with the same permissions and a fresh expiry; link the two.

    The old key stays usable until it is deactivated, or until ``grace`` ends
    (then it answers 403 EXPIRED_API_KEY).
    """
    old = _locked(key)
    now = now or timezone.now()
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


# --- Projects and members -------------------------------------------------


@transaction.atomic
def project_create(*, slug: str, name: str, actor: Actor) -> Project:
    if Project.objects.filter(slug=slug).exists():
        raise KeyInputError(f"A project with slug {slug!r} already exists.")
    return Project.objects.create(slug=slug, name=name or slug)


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
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        return
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
