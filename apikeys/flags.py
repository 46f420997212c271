"""The flags a key carries: one vocabulary, and each rule written for one key and for SQL.

The key list, its filter, the security review's access report, the CLI's
``apikey list`` and the exports all name flags with :class:`KeyFlag` and read
them from :func:`key_flags` (``APIKey.flags()``). :func:`flag_q` is the same
rule as a ``Q`` condition, so a list of 10,000 keys is filtered in SQL; a test
holds the two to the same answer for every flag.

Statuses (active, disabled, expired, exposed) are :meth:`APIKey.status`; the
list's flag filter also offers "expired" and "disabled", which are those
statuses.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q

from apikeys.models import EXPIRES_SOON_DAYS, APIKey, Project

Status = APIKey.Status


class KeyFlag(enum.StrEnum):
    """Spelled the same in URLs (``?flag=never-used``), the CLI, the review and CSV."""

    STALE = "stale"
    EXPIRES_SOON = "expires-soon"
    NO_EXPIRY = "no-expiry"
    NEVER_USED = "never-used"
    # Only the access review knows these two (they need the rotation and the members).
    ROTATED = "rotated"
    CREATOR_NOT_MEMBER = "creator-not-member"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ").capitalize()

    @classmethod
    def parse(cls, value: str) -> KeyFlag | None:
        """The flag a query string names; ``never_used`` (links made before) too."""
        try:
            return cls(value.strip().replace("_", "-"))
        except ValueError:
            return None


# The flags a key's own state decides, in the order every listing shows them.
KEY_STATE_FLAGS = (KeyFlag.STALE, KeyFlag.EXPIRES_SOON, KeyFlag.NO_EXPIRY, KeyFlag.NEVER_USED)


# The list's flag filter: the key-state flags, then the two statuses people look for.
# (Exposed has the status filter; the flag filter keeps the two statuses it always had.)
_FILTER_STATUSES = (Status.EXPIRED, Status.DISABLED)
FILTER_FLAGS: tuple[str, ...] = (*map(str, KEY_STATE_FLAGS), *map(str, _FILTER_STATUSES))


def filter_choices() -> list[tuple[str, str]]:
    labels = {str(flag): flag.label for flag in KEY_STATE_FLAGS}
    labels.update({str(status): str(status.label) for status in _FILTER_STATUSES})
    return [(code, labels[code]) for code in FILTER_FLAGS]


def parse_filter(value: str) -> str:
    """The list filter a query string names, or "" for none or an unknown one."""
    value = (value or "").strip()
    if value in _FILTER_STATUSES:
        return value
    flag = KeyFlag.parse(value)
    return str(flag) if flag in KEY_STATE_FLAGS else ""


# --- One key --------------------------------------------------------------


def key_flags(key: APIKey, now: datetime, *, stale_threshold_days: int) -> list[KeyFlag]:
    """The key-state flags of one key, in :data:`KEY_STATE_FLAGS` order."""
    found = []
    if key.is_stale(now, threshold_days=stale_threshold_days):
        found.append(KeyFlag.STALE)
    if key.expires_soon(now):
        found.append(KeyFlag.EXPIRES_SOON)
    if key.expires_at is None:
        found.append(KeyFlag.NO_EXPIRY)
    if key.last_used_at is None:
        found.append(KeyFlag.NEVER_USED)
    return found


def labelled(flags: Iterable[KeyFlag]) -> list[tuple[str, str]]:
    """(code, label) pairs for a template's badges."""
    return [(str(flag), flag.label) for flag in flags]


# --- The same rules in SQL ------------------------------------------------


def _not_expired(now: datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def status_q(status: str, now: datetime) -> Q:
    """:meth:`APIKey.status` in SQL: exposed first, then expired, then the switch."""
    if status == Status.EXPOSED:
        return Q(exposed_at__isnull=False)
    not_exposed = Q(exposed_at__isnull=True)
    if status == Status.EXPIRED:
        return not_exposed & Q(expires_at__isnull=False, expires_at__lte=now)
    if status == Status.DISABLED:
        return not_exposed & Q(is_active=False) & _not_expired(now)
    return not_exposed & Q(is_active=True) & _not_expired(now)


def flag_q(flag: str, project: Project, now: datetime) -> Q:
    """The SQL condition of a list filter (:data:`FILTER_FLAGS`)."""
    if flag in _FILTER_STATUSES:
        return status_q(flag, now)
    if flag == KeyFlag.STALE:
        cutoff = now - timedelta(days=project.stale_threshold_days)
        unused = Q(last_used_at__lte=cutoff) | Q(last_used_at__isnull=True, created_at__lte=cutoff)
        return status_q(Status.ACTIVE, now) & unused
    if flag == KeyFlag.EXPIRES_SOON:
        return Q(expires_at__gt=now, expires_at__lte=now + timedelta(days=EXPIRES_SOON_DAYS))
    if flag == KeyFlag.NO_EXPIRY:
        return Q(expires_at__isnull=True)
    if flag == KeyFlag.NEVER_USED:
        return Q(last_used_at__isnull=True)
    raise ValueError(f"Unknown flag {flag!r}; choose one of {', '.join(FILTER_FLAGS)}.")
