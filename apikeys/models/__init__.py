"""Projects, their members, API keys, key usage and the audit log.

Writes go through apikeys.services, reads through apikeys.selectors; the
models hold only fields, constraints and simple derived values. One module per
subject; every model is importable from here, as Django expects:

    projects.py   Project (and its key policy), Membership
    api_keys.py   APIKey
    usage.py      APIKeyPermissionUsage, APIKeyDailyUsage, APIKeyAddressUsage, APIKeyRefusal
    audit.py      AuditEvent (append-only)
    records.py    ExpiryNotice, UsedToken: what makes a repeated action happen once
"""

from apikeys.models.api_keys import EXPIRES_SOON_DAYS, APIKey
from apikeys.models.audit import AppendOnlyError, AuditEvent, AuditEventQuerySet
from apikeys.models.projects import EXPIRY_SLACK, Membership, Project
from apikeys.models.records import ExpiryNotice, UsedToken
from apikeys.models.usage import (
    APIKeyAddressUsage,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
)

__all__ = [
    "EXPIRES_SOON_DAYS",
    "EXPIRY_SLACK",
    "APIKey",
    "APIKeyAddressUsage",
    "APIKeyDailyUsage",
    "APIKeyPermissionUsage",
    "APIKeyRefusal",
    "AppendOnlyError",
    "AuditEvent",
    "AuditEventQuerySet",
    "ExpiryNotice",
    "Membership",
    "Project",
    "UsedToken",
]
