"""The security review: findings about a project's keys, and the access-review snapshot.

The review page, its exports and ``manage.py audit_keys`` all call
:func:`findings` and :func:`access_review`, so they can never disagree. Both
read with a fixed number of queries whatever the number of keys, and take
``now`` so a test can build every finding from fixed times.

Severities, and why:

high
    ``exposed``: the key was reported leaked (GitHub secret scanning, the
    revocation API, or sent in a URL). It is refused already; what is left is
    to rotate it, move its integrations to the successor, delete it, and find
    out how it leaked. It stays a finding until the key is deleted.
    ``still-tried``: a disabled, expired or rotated-out key is still being
    presented. Some integration was not updated (it is failing now), or the
    key leaked and someone is trying it.
    ``no-expiry``: an active key without an expiry in a project whose policy
    requires one: it outlives every rotation plan.
    ``former-member-key``: an active key created by someone who is no longer a
    member (or whose account is gone or disabled): they may still hold the
    secret.
medium
    ``stale``: active, used once, then unused for the stale threshold (CIS AWS
    1.12's 45 days by default): forgotten credentials are the ones that leak.
    ``never-used``: active and never used for the stale threshold (low while
    younger than that, after a week's grace for deployment).
    ``expiring-in-use``: in use and expiring within 7 days: an outage is coming.
    ``expiry-beyond-policy``: expires later than the policy's maximum lifetime
    allows today (made before the policy was tightened).
    ``rotation-unfinished``: rotated more than 7 days ago and still active.
low
    ``unused-permission``: a key in use holds a permission it has not exercised
    for the stale threshold: least privilege says remove it.
    ``inactive-not-deleted``: disabled or expired for more than 30 days: delete
    it so the list shows what is real (the audit log keeps its history).
    ``no-allowlist``: an active key used from more than 3 client addresses in
    the last 30 days and restricted to none: a key that travels is harder to
    contain once it leaks; the finding suggests the ranges it was really used
    from (the /24 of each IPv4 address, the /64 of each IPv6 one), read from
    the per-address usage the guard records with its batched writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from apikeys.flags import KeyFlag
from apikeys.models import APIKey, APIKeyAddressUsage, AuditEvent, Membership, Project
from apikeys.reports.base import (
    ADDRESS_LIMIT,
    ADDRESS_WINDOW_DAYS,
    DELETE_AFTER_DAYS,
    NEVER_USED_GRACE_DAYS,
    REVOKED_CODES,
    ROTATION_FINISH_DAYS,
    Finding,
    Severity,
    iso,
    stopped_at,
)
from apikeys.reports.findings import KeyContext, key_findings

__all__ = [
    "ACCESS_COLUMNS",
    "ADDRESS_LIMIT",
    "ADDRESS_WINDOW_DAYS",
    "DELETE_AFTER_DAYS",
    "FINDING_COLUMNS",
    "NEVER_USED_GRACE_DAYS",
    "REVOKED_CODES",
    "ROTATION_FINISH_DAYS",
    "Finding",
    "Severity",
    "access_review",
    "access_row",
    "at_or_above",
    "counts",
    "evidence_text",
    "finding_row",
    "findings",
    "iso",
    "stopped_at",
]

FINDING_COLUMNS = (
    "severity",
    "code",
    "key_id",
    "key_name",
    "title",
    "evidence",
    "recommendation",
)
ACCESS_COLUMNS = (
    "key_id",
    "name",
    "status",
    "permissions",
    "created_by",
    "created_at",
    "last_used_at",
    "last_used_ip",
    "rotated_from",
    "last_rotated_at",
    "expires_at",
    "flags",
    "refused_requests",
)


def evidence_text(evidence: dict[str, Any]) -> str:
    """``name=value; …`` for a table cell or a CSV column."""
    return "; ".join(f"{name}={value}" for name, value in evidence.items())


def finding_row(finding: Finding) -> dict[str, Any]:
    """One flat row for CSV and tables: the evidence as one ``name=value`` string."""
    return {**finding.as_dict(), "evidence": evidence_text(finding.evidence)}


# --- Loading --------------------------------------------------------------


@dataclass
class _Loaded:
    keys: list[APIKey]
    member_ids: set[int]
    former_creators: dict[str, str]  # key_id -> username, for keys whose creator is gone
    # key pk -> client addresses seen in the last ADDRESS_WINDOW_DAYS (findings only)
    addresses: dict[int, set[str]] = field(default_factory=dict)


def _load(project: Project, *, addresses_since: datetime | None = None) -> _Loaded:
    """Four queries (keys with creator, permission usage, refusals, members), a fifth
    when some key has no creator (the audit log names who made it), and a sixth with
    ``addresses_since`` when some active key without an allowlist was used since then."""
    keys = list(
        APIKey.objects.filter(project=project)
        .select_related("created_by", "rotated_from")
        .prefetch_related("permission_usage", "refusals")
        .order_by("created_at", "id")
    )
    member_ids = set(Membership.objects.filter(project=project).values_list("user_id", flat=True))
    orphan_ids = [key.key_id for key in keys if key.created_by_id is None]
    former_creators: dict[str, str] = {}
    if orphan_ids:
        # created_by is NULL for keys made on the command line and for keys whose
        # creator's account was deleted; the audit event tells the two apart.
        for key_id, username in AuditEvent.objects.filter(
            project=project,
            action=AuditEvent.Action.KEY_CREATED,
            key_id__in=orphan_ids,
            actor__isnull=False,
        ).values_list("key_id", "actor_username"):
            former_creators[key_id] = username
    loaded = _Loaded(keys=keys, member_ids=member_ids, former_creators=former_creators)
    if addresses_since is not None:
        candidates = [
            key.pk
            for key in keys
            if not key.allowed_ips
            and key.is_active
            and key.last_used_at is not None
            and key.last_used_at >= addresses_since
        ]
        if candidates:
            for key_pk, ip in (
                APIKeyAddressUsage.objects.filter(
                    key_id__in=candidates, date__gte=addresses_since.date()
                )
                .values_list("key_id", "ip")
                .distinct()
            ):
                loaded.addresses.setdefault(key_pk, set()).add(ip)
    return loaded


def _creator_gone(key: APIKey, loaded: _Loaded) -> str | None:
    """The creator's username when they are no longer an active member, else None."""
    creator = key.created_by
    if creator is None:
        return loaded.former_creators.get(key.key_id)
    if creator.is_superuser and creator.is_active:
        return None  # superusers act as admin in every project
    if creator.pk not in loaded.member_ids or not creator.is_active:
        return creator.get_username()
    return None


# --- Findings -------------------------------------------------------------


def findings(project: Project, *, now: datetime | None = None) -> list[Finding]:
    """Every finding about the project's keys, most severe first."""
    now = now or timezone.now()
    loaded = _load(project, addresses_since=now - timedelta(days=ADDRESS_WINDOW_DAYS))
    found: list[Finding] = []
    for key in loaded.keys:
        context = KeyContext(
            project=project,
            key=key,
            now=now,
            creator_gone=_creator_gone(key, loaded),
            addresses=frozenset(loaded.addresses.get(key.pk, ())),
        )
        found.extend(key_findings(context))
    found.sort(key=lambda f: (-f.severity, f.code, f.key_name, f.key_id))
    return found


def at_or_above(found: Iterable[Finding], severity: Severity) -> list[Finding]:
    return [f for f in found if f.severity >= severity]


def counts(found: Iterable[Finding]) -> dict[str, int]:
    tally = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for f in found:
        tally[f.severity.label] += 1
    return tally


# --- Access review --------------------------------------------------------


def access_review(project: Project, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every key with who made it, what it may do, when it was used: evidence to file."""
    now = now or timezone.now()
    loaded = _load(project)
    rows = []
    for key in loaded.keys:
        rows.append(
            {
                "key_id": key.key_id,
                "name": key.name,
                "status": key.status(now),
                "permissions": list(key.permissions),
                "created_by": key.created_by.get_username()
                if key.created_by
                else loaded.former_creators.get(key.key_id, ""),
                "created_at": iso(key.created_at),
                "last_used_at": iso(key.last_used_at),
                "last_used_ip": key.last_used_ip,
                "rotated_from": key.rotated_from.key_id if key.rotated_from else None,
                "last_rotated_at": iso(key.rotated_at),
                "expires_at": iso(key.expires_at),
                "flags": _flags(project, key, loaded, now),
                "refused_requests": sum(r.count for r in key.refusals.all()),
            }
        )
    return rows


def _flags(project: Project, key: APIKey, loaded: _Loaded, now: datetime) -> list[str]:
    flags = key.flags(now, project)
    if key.rotated_at is not None:
        flags.append(KeyFlag.ROTATED)
    if _creator_gone(key, loaded) is not None:
        flags.append(KeyFlag.CREATOR_NOT_MEMBER)
    return [str(flag) for flag in flags]


def access_row(row: dict[str, Any]) -> dict[str, Any]:
    """One flat CSV row: lists joined with spaces."""
    return {
        **row,
        "permissions": " ".join(row["permissions"]),
        "flags": " ".join(row["flags"]),
    }
