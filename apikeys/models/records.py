"""Bookkeeping that makes a repeated action happen once: expiry e-mails, one-time tokens."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apikeys.models.api_keys import APIKey


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
