"""What the guard records about a key's use (apikeys.guard.usage writes these rows)."""

from __future__ import annotations

from django.db import models

from apikeys.models.api_keys import APIKey


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
