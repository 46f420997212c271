"""Projects, their key policy (SPEC §7) and their members."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

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
