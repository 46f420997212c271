"""The API key: its stored hash, permissions, lifecycle, exposure and allowlist."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from apikeys import keys
from apikeys.conf import key_format
from apikeys.models.projects import Project
from apikeys.permissions import registry

# "Expires soon" on the list and in the CLI, "expiring-in-use" in the review: one window.
EXPIRES_SOON_DAYS = 7


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
        # The key list's default order (apikeys.selectors.listing), id breaking ties.
        indexes = [
            models.Index(fields=["project", "-created_at", "-id"], name="apikey_project_newest")
        ]

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

    def is_usable(self, now: datetime | None = None) -> bool:
        """Accepted by the guard right now: active, not expired, not exposed."""
        return self.status(now) == self.Status.ACTIVE

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
