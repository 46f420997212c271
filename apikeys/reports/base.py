"""What a finding is: its severity, its fields, and the review's thresholds."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apikeys.models import APIKey

# Refusals that mean "this key no longer works"; MISSING_PERMISSION is a
# working key asking for too much, which is not an unfinished rotation.
REVOKED_CODES = ("DISABLED_API_KEY", "EXPIRED_API_KEY")
NEVER_USED_GRACE_DAYS = 7
ROTATION_FINISH_DAYS = 7
DELETE_AFTER_DAYS = 30
# A key seen from more addresses than this in ADDRESS_WINDOW_DAYS, with no allowlist.
ADDRESS_LIMIT = 3
ADDRESS_WINDOW_DAYS = 30


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"Unknown severity {value!r}; choose high, medium or low.") from None


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    key_id: str
    key_name: str
    title: str
    recommendation: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.label,
            "code": self.code,
            "key_id": self.key_id,
            "key_name": self.key_name,
            "title": self.title,
            "evidence": self.evidence,
            "recommendation": self.recommendation,
        }


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def stopped_at(key: APIKey, now: datetime) -> datetime | None:
    """When the key stopped working, or None while it works."""
    moments = []
    if not key.is_active and key.deactivated_at is not None:
        moments.append(key.deactivated_at)
    if key.exposed_at is not None:
        moments.append(key.exposed_at)
    if key.expires_at is not None and key.expires_at <= now:
        moments.append(key.expires_at)
    return min(moments) if moments else None
