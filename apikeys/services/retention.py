"""How long what the guard records about a key's use is kept.

Per-address usage (APIKeyAddressUsage: which client IPs used a key, per day)
gains a row for every new address every day, and an IP address is personal data
in many jurisdictions; the security review reads only its last
ADDRESS_WINDOW_DAYS. Rows older than APIKEYS_ADDRESS_USAGE_DAYS are deleted
here, by ``manage.py prune_usage`` from cron, as ``cleanup_uploads`` removes
unfinished uploads. The other usage tables hold one row per key and permission,
refusal code or day, and go with their key.

Not an audited change: the audit log records what people do to keys and
policies; this is housekeeping, like the one-time tokens' expiry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from apikeys.conf import apikeys_settings
from apikeys.models import APIKeyAddressUsage
from apikeys.reports.base import ADDRESS_WINDOW_DAYS


def address_usage_prune(
    *, now: datetime | None = None, days: int | None = None, dry_run: bool = False
) -> int:
    """Delete per-address usage older than ``days`` (APIKEYS_ADDRESS_USAGE_DAYS) whole UTC
    days before ``now``'s; the rows of the last ``days`` days stay. How many went (or,
    with ``dry_run``, would go)."""
    days = apikeys_settings.ADDRESS_USAGE_DAYS if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or days < ADDRESS_WINDOW_DAYS:
        raise ValueError(
            f"APIKEYS_ADDRESS_USAGE_DAYS must be a whole number, at least the "
            f"{ADDRESS_WINDOW_DAYS} days the security review reads, not {days!r}."
        )
    today = (now or timezone.now()).date()  # the guard's dates are UTC, as timezone.now()
    old = APIKeyAddressUsage.objects.filter(date__lt=today - timedelta(days=days))
    if dry_run:
        return old.count()
    # No signals and nothing refers to these rows: Django deletes them in one statement.
    deleted, _ = old.delete()
    return deleted
