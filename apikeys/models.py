"""Projects, their members, API keys, key usage and the audit log.

Writes go through apikeys.services, reads through apikeys.selectors; the
models hold only fields, constraints and simple derived values.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from apikeys import keys
from apikeys.conf import key_format
from apikeys.permissions import registry

# "Expires soon" on the list and in the CLI, "expiring-in-use" in the review: one window.
EXPIRES_SOON_DAYS = 7
# A minute of slack so "90 days" chosen in the wizard is not refused a second later.
EXPIRY_SLACK = timedelta(minutes=1)


class Project(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # Key policy (SPEC §7). None: keys may live for ever.
    max_key_lifetime_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    expiry_required = models.BooleanField(default=False)
    stale_threshold_days = models.PositiveIntegerField(
        default=45, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def requires_expiry(self) -> bool:
        """Whether the policy refuses a key without an expiry date."""
        return self.expiry_required or bool(self.max_key_lifetime_days)

    def latest_expiry(self, now: datetime) -> datetime | None:
        """The latest expiry the policy allows a key given one at ``now``; None: no limit."""
        if not self.max_key_lifetime_days:
            return None
        return now + timedelta(days=self.max_key_lifetime_days)

    def expiry_beyond_policy(self, expires_at: datetime | None, now: datetime) -> bool:
        latest = self.latest_expiry(now)
        return latest is not None and expires_at is not None and expires_at > latest + EXPIRY_SLACK


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        AUDITOR = "auditor", "Auditor"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


class APIKey(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"
        EXPIRED = "expired", "Expired"
        # Reported leaked (SPEC §11): refused for good, never reactivated; rotate or delete.
        EXPOSED = "exposed", "Exposed"

    class ExposureSource(models.TextChoices):
        GITHUB = "github", "GitHub secret scanning"
        REVOCATION_API = "revocation-api", "the revocation API"
        URL = "url", "a request URL"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    # The public part of the key; unique, so the guard's lookup is one index probe.
    key_id = models.CharField(
        max_length=keys.ID_LENGTH,
        unique=True,
        editable=False,
        validators=[RegexValidator(r"^[0-9A-Za-z]{12}$")],
    )
    # argon2id hash of the secret; it names its own parameters ($argon2id$v=19$m=…).
    hashed_secret = models.CharField(max_length=255, editable=False)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=1000)
    # Codes from apikeys.permissions, read in the same query as the key itself.
    permissions = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_api_keys",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # Written by the guard's usage tracking (apikeys.guard.usage), never by a request directly.
    first_used_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    rotated_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="successors",
    )
    rotated_at = models.DateTimeField(null=True, blank=True)
    # Exposure (apikeys.services.key_expose): when, how and where the key leaked. An
    # exposed key is also inactive, so every check of is_active refuses it; exposed_at
    # is what makes that permanent.
    exposed_at = models.DateTimeField(null=True, blank=True)
    exposure_source = models.CharField(max_length=16, choices=ExposureSource.choices, blank=True)
    # Where it was found: a URL GitHub reported, or the path (never the query) it was sent to.
    exposure_url = models.CharField(max_length=2000, blank=True)
    # Normalized CIDR strings (apikeys.allowlist); empty: any client address may use the key.
    allowed_ips = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_key_name_per_project")
        ]
        indexes = [models.Index(fields=["project", "-created_at"], name="apikey_project_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @property
    def masked(self) -> str:
        return key_format().mask(self.key_id)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_exposed(self) -> bool:
        return self.exposed_at is not None

    @property
    def exposure_href(self) -> str:
        """``exposure_url`` when it is safe to link to (http or https), else ""."""
        parts = urlsplit(self.exposure_url or "")
        return self.exposure_url if parts.scheme in ("http", "https") and parts.netloc else ""

    def status(self, now: datetime | None = None) -> str:
        """One vocabulary for every page, report and command: exposed wins, because
        it is permanent and says the most about what to do."""
        if self.exposed_at is not None:
            return self.Status.EXPOSED
        if self.is_expired(now):
            return self.Status.EXPIRED
        return self.Status.ACTIVE if self.is_active else self.Status.DISABLED

    def is_stale(self, now: datetime | None = None, threshold_days: int | None = None) -> bool:
        """Active and unused for the project's stale threshold (never used: since creation)."""
        now = now or timezone.now()
        if self.status(now) != self.Status.ACTIVE:
            return False
        days = threshold_days if threshold_days is not None else self.project.stale_threshold_days
        return (self.last_used_at or self.created_at) <= now - timedelta(days=days)

    def expires_soon(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.expires_at is not None and now < self.expires_at <= now + timedelta(
            days=EXPIRES_SOON_DAYS
        )

    def flags(self, now: datetime | None = None, project: Project | None = None) -> list:
        """The key's flags (apikeys.flags.KeyFlag), by its project's stale threshold."""
        from apikeys.flags import key_flags

        threshold = (project or self.project).stale_threshold_days
        return key_flags(self, now or timezone.now(), stale_threshold_days=threshold)

    def permission_objects(self) -> list:
        return [
            registry.permissions[code] for code in self.permissions if code in registry.permissions
        ]


class APIKeyPermissionUsage(models.Model):
    """When each permission of a key was last exercised (least-privilege review)."""

    key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="permission_usage")
    permission = models.CharField(max_length=64)
    last_used_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "permission"], name="one_usage_per_permission")
        ]

    def __str__(self) -> str:
        return f"{self.permission} last used {self.last_used_at:%Y-%m-%d %H:%M}"


class APIKeyDailyUsage(models.Model):
    """Requests a key made per day (UTC), accepted and refused."""

    key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="daily_usage")
    date = models.DateField()
    request_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "date"], name="one_usage_per_day")]

    def __str__(self) -> str:
        return f"{self.date}: {self.request_count} requests, {self.refused_count} refused"


class APIKeyAddressUsage(models.Model):
    """Accepted requests a key made per day (UTC) per client address, written with the
    rest of the batched usage (apikeys.guard.usage): the review suggests an allowlist
    from the addresses a key is really used from."""

    key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="address_usage")
    date = models.DateField()
    ip = models.GenericIPAddressField()
    request_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "date", "ip"], name="one_usage_per_day_and_ip")
        ]

    def __str__(self) -> str:
        return f"{self.date} from {self.ip}: {self.request_count} requests"


class APIKeyRefusal(models.Model):
    """Requests refused with a known key, per reason: who still tries a disabled key?"""

    key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="refusals")
    code = models.CharField(max_length=32)  # EXPIRED_API_KEY, DISABLED_API_KEY, MISSING_PERMISSION
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    last_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "code"], name="one_refusal_row_per_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} x{self.count}"


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


class ExpiryNotice(models.Model):
    """An expiry e-mail sent, so a cron that runs twice sends it once."""

    key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="expiry_notices")
    threshold_days = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "threshold_days", "expires_at"], name="one_notice_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.threshold_days}-day notice sent {self.sent_at:%Y-%m-%d}"


class UsedToken(models.Model):
    """A dashboard form's one-time token, once used (the key wizard, rotation).

    A double click, a resubmitted POST or Back + submit presents the same token
    again; the unique digest lets exactly one of them through, across every
    process, with no dependency on the cache (SPEC §10). Only a SHA-256 of
    purpose and token is kept: the token is random and single-use, and this row
    is all that is left of it. Rows older than a day are removed on the next claim.
    """

    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"token used {self.used_at:%Y-%m-%d %H:%M}"
