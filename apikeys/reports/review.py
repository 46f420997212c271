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

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from apikeys import allowlist
from apikeys.flags import KeyFlag
from apikeys.models import APIKey, APIKeyAddressUsage, AuditEvent, Membership, Project

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


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
        found.extend(_key_findings(project, key, loaded, now))
    found.sort(key=lambda f: (-f.severity, f.code, f.key_name, f.key_id))
    return found


def _key_findings(
    project: Project, key: APIKey, loaded: _Loaded, now: datetime
) -> Iterator[Finding]:
    threshold = timedelta(days=project.stale_threshold_days)
    status = key.status(now)
    active = status == APIKey.Status.ACTIVE

    def finding(
        code: str, severity: Severity, title: str, recommendation: str, **evidence: Any
    ) -> Finding:
        return Finding(code, severity, key.key_id, key.name, title, recommendation, evidence)

    if key.exposed_at is not None:
        source = key.exposure_source
        how = APIKey.ExposureSource(source).label if source else "an unknown source"
        yield finding(
            "exposed",
            Severity.HIGH,
            f"Exposed through {how}: its secret is known outside the project",
            "Rotate the key, give its integrations the successor, then delete it; find where "
            "it leaked and remove it there.",
            exposed_at=iso(key.exposed_at),
            source=source,
            url=key.exposure_url or None,
            rotated=key.rotated_at is not None,
        )

    # A key that stopped working but is still presented.
    stopped = stopped_at(key, now)
    if stopped is not None:
        for refusal in key.refusals.all():
            if refusal.code in REVOKED_CODES and refusal.last_at >= stopped:
                reason = "rotated out" if key.rotated_at else status
                yield finding(
                    "still-tried",
                    Severity.HIGH,
                    f"{reason.capitalize()} key still being tried: some integration was not "
                    "updated",
                    "Find the client at the last IP and give it the current key; if nobody "
                    "owns that client, treat the key as leaked.",
                    status=status,
                    refusal=refusal.code,
                    refused_requests=refusal.count,
                    last_tried_at=iso(refusal.last_at),
                    last_ip=refusal.last_ip,
                    stopped_at=iso(stopped),
                )

    if not active:
        if status == APIKey.Status.EXPOSED:
            inactive_since = key.exposed_at
        elif status == APIKey.Status.DISABLED:
            inactive_since = key.deactivated_at
        else:
            inactive_since = key.expires_at
        if inactive_since is not None and inactive_since <= now - timedelta(days=DELETE_AFTER_DAYS):
            yield finding(
                "inactive-not-deleted",
                Severity.LOW,
                f"{status.capitalize()} for more than {DELETE_AFTER_DAYS} days",
                "Delete the key; the audit log keeps its history.",
                status=status,
                since=iso(inactive_since),
                days=(now - inactive_since).days,
            )
        return

    if key.expires_at is None and project.requires_expiry:
        yield finding(
            "no-expiry",
            Severity.HIGH,
            "No expiry, but the project's policy requires one",
            "Rotate the key: the successor gets an expiry within the policy.",
            created_at=iso(key.created_at),
            policy_max_lifetime_days=project.max_key_lifetime_days,
        )
    elif project.expiry_beyond_policy(key.expires_at, now):
        yield finding(
            "expiry-beyond-policy",
            Severity.MEDIUM,
            f"Expires later than the policy's {project.max_key_lifetime_days} days allow",
            "Rotate the key before the policy's limit.",
            expires_at=iso(key.expires_at),
            policy_latest=iso(project.latest_expiry(now)),
        )

    gone = _creator_gone(key, loaded)
    if gone is not None:
        yield finding(
            "former-member-key",
            Severity.HIGH,
            f"Created by {gone}, who is no longer a member",
            "Rotate the key and deactivate this one: its creator may still hold the secret.",
            created_by=gone,
            created_at=iso(key.created_at),
            last_used_at=iso(key.last_used_at),
        )

    if key.last_used_at is None:
        age = now - key.created_at
        if age >= timedelta(days=NEVER_USED_GRACE_DAYS):
            yield finding(
                "never-used",
                Severity.MEDIUM if age >= threshold else Severity.LOW,
                f"Never used in {age.days} days",
                "Deactivate the key if nothing needs it; delete it later.",
                created_at=iso(key.created_at),
                days=age.days,
            )
    elif key.last_used_at <= now - threshold:
        yield finding(
            "stale",
            Severity.MEDIUM,
            f"Not used for {(now - key.last_used_at).days} days "
            f"(threshold {project.stale_threshold_days})",
            "Deactivate the key; reactivate it if someone complains.",
            last_used_at=iso(key.last_used_at),
            last_used_ip=key.last_used_ip,
            days=(now - key.last_used_at).days,
        )
    else:
        yield from _in_use_findings(project, key, now, finding)

    seen = {str(a) for a in map(allowlist.client_address, loaded.addresses.get(key.pk, ())) if a}
    if not key.allowed_ips and len(seen) > ADDRESS_LIMIT:
        ranges = allowlist.summarize(seen)[: allowlist.MAX_ENTRIES]
        yield finding(
            "no-allowlist",
            Severity.LOW,
            f"Used from {len(seen)} addresses in {ADDRESS_WINDOW_DAYS} days, with no IP allowlist",
            "Restrict the key to the addresses of its clients (edit the key's IP "
            f"allowlist); it was used from {', '.join(ranges)}.",
            addresses=len(seen),
            suggested_allowlist=" ".join(ranges),
        )

    if key.rotated_at is not None and key.rotated_at <= now - timedelta(days=ROTATION_FINISH_DAYS):
        yield finding(
            "rotation-unfinished",
            Severity.MEDIUM,
            f"Rotated {(now - key.rotated_at).days} days ago and still active",
            "Check the transition on the key's page, then deactivate the old key.",
            rotated_at=iso(key.rotated_at),
            last_used_at=iso(key.last_used_at),
            last_used_ip=key.last_used_ip,
        )


def _in_use_findings(
    project: Project, key: APIKey, now: datetime, finding: Callable[..., Finding]
) -> Iterator[Finding]:
    threshold = timedelta(days=project.stale_threshold_days)
    # A rotated key expiring is its grace period ending, not an outage coming.
    if key.rotated_at is None and key.expires_soon(now) and key.expires_at is not None:
        yield finding(
            "expiring-in-use",
            Severity.MEDIUM,
            f"In use and expires in {max(0, (key.expires_at - now).days)} days",
            "Rotate the key now and update its integrations before it expires.",
            expires_at=iso(key.expires_at),
            last_used_at=iso(key.last_used_at),
            last_used_ip=key.last_used_ip,
        )
    used = {usage.permission: usage.last_used_at for usage in key.permission_usage.all()}
    for code in key.permissions:
        last = used.get(code)
        if (last or key.created_at) <= now - threshold:
            yield finding(
                "unused-permission",
                Severity.LOW,
                f"Permission {code} unused for {project.stale_threshold_days}+ days",
                f"Remove {code} from the key (least privilege).",
                permission=code,
                permission_last_used_at=iso(last),
                key_last_used_at=iso(key.last_used_at),
            )


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
