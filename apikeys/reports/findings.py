"""One function per security-review finding, each with the rule that raises it.

Each rule takes a :class:`KeyContext` (the key, the project, ``now`` and what
the review loaded about the key) and yields its findings. The review runs
:data:`ALWAYS` for every key, then :data:`WHILE_INACTIVE` or
:data:`WHILE_ACTIVE` by the key's status. The severities and why are in
:mod:`apikeys.reports.review`'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apikeys import allowlist
from apikeys.humanize import relative
from apikeys.models import APIKey, Project
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


@dataclass(frozen=True)
class KeyContext:
    project: Project
    key: APIKey
    now: datetime
    creator_gone: str | None  # the creator's name when they are no longer a member
    addresses: frozenset[str]  # client addresses seen in ADDRESS_WINDOW_DAYS

    @property
    def status(self) -> str:
        return str(self.key.status(self.now))

    @property
    def threshold(self) -> timedelta:
        return timedelta(days=self.project.stale_threshold_days)

    @property
    def in_use(self) -> bool:
        """Used within the stale threshold."""
        used = self.key.last_used_at
        return used is not None and used > self.now - self.threshold

    def finding(
        self, code: str, severity: Severity, title: str, recommendation: str, **evidence: Any
    ) -> Finding:
        key = self.key
        return Finding(code, severity, key.key_id, key.name, title, recommendation, evidence)


Rule = Callable[[KeyContext], Iterator[Finding]]


# --- Every key ---------------------------------------------------------------


def exposed(ctx: KeyContext) -> Iterator[Finding]:
    key = ctx.key
    if key.exposed_at is None:
        return
    source = key.exposure_source
    how = APIKey.ExposureSource(source).label if source else "an unknown source"
    yield ctx.finding(
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


def still_tried(ctx: KeyContext) -> Iterator[Finding]:
    """A key that stopped working but is still presented."""
    key = ctx.key
    stopped = stopped_at(key, ctx.now)
    if stopped is None:
        return
    for refusal in key.refusals.all():
        if refusal.code in REVOKED_CODES and refusal.last_at >= stopped:
            reason = "rotated out" if key.rotated_at else ctx.status
            yield ctx.finding(
                "still-tried",
                Severity.HIGH,
                f"{reason.capitalize()} key still being tried: some integration was not updated",
                "Find the client at the last IP and give it the current key; if nobody "
                "owns that client, treat the key as leaked.",
                status=ctx.status,
                refusal=refusal.code,
                refused_requests=refusal.count,
                last_tried_at=iso(refusal.last_at),
                last_ip=refusal.last_ip,
                stopped_at=iso(stopped),
            )


# --- Keys that no longer work ------------------------------------------------


def inactive_not_deleted(ctx: KeyContext) -> Iterator[Finding]:
    key, status = ctx.key, ctx.status
    if status == APIKey.Status.EXPOSED:
        since = key.exposed_at
    elif status == APIKey.Status.DISABLED:
        since = key.deactivated_at
    else:
        since = key.expires_at
    if since is not None and since <= ctx.now - timedelta(days=DELETE_AFTER_DAYS):
        yield ctx.finding(
            "inactive-not-deleted",
            Severity.LOW,
            f"{status.capitalize()} for more than {DELETE_AFTER_DAYS} days",
            "Delete the key; the audit log keeps its history.",
            status=status,
            since=iso(since),
            days=(ctx.now - since).days,
        )


# --- Working keys ------------------------------------------------------------


def expiry_against_policy(ctx: KeyContext) -> Iterator[Finding]:
    key, project = ctx.key, ctx.project
    if key.expires_at is None and project.requires_expiry:
        yield ctx.finding(
            "no-expiry",
            Severity.HIGH,
            "No expiry, but the project's policy requires one",
            "Rotate the key: the successor gets an expiry within the policy.",
            created_at=iso(key.created_at),
            policy_max_lifetime_days=project.max_key_lifetime_days,
        )
    elif project.expiry_beyond_policy(key.expires_at, ctx.now):
        yield ctx.finding(
            "expiry-beyond-policy",
            Severity.MEDIUM,
            f"Expires later than the policy's {project.max_key_lifetime_days} days allow",
            "Rotate the key before the policy's limit.",
            expires_at=iso(key.expires_at),
            policy_latest=iso(project.latest_expiry(ctx.now)),
        )


def former_member_key(ctx: KeyContext) -> Iterator[Finding]:
    if ctx.creator_gone is None:
        return
    yield ctx.finding(
        "former-member-key",
        Severity.HIGH,
        f"Created by {ctx.creator_gone}, who is no longer a member",
        "Rotate the key and deactivate this one: its creator may still hold the secret.",
        created_by=ctx.creator_gone,
        created_at=iso(ctx.key.created_at),
        last_used_at=iso(ctx.key.last_used_at),
    )


def never_used(ctx: KeyContext) -> Iterator[Finding]:
    key = ctx.key
    age = ctx.now - key.created_at
    if key.last_used_at is not None or age < timedelta(days=NEVER_USED_GRACE_DAYS):
        return
    yield ctx.finding(
        "never-used",
        Severity.MEDIUM if age >= ctx.threshold else Severity.LOW,
        f"Never used in {age.days} days",
        "Deactivate the key if nothing needs it; delete it later.",
        created_at=iso(key.created_at),
        days=age.days,
    )


def stale(ctx: KeyContext) -> Iterator[Finding]:
    used = ctx.key.last_used_at
    if used is None or ctx.in_use:
        return
    yield ctx.finding(
        "stale",
        Severity.MEDIUM,
        f"Not used for {(ctx.now - used).days} days (threshold {ctx.project.stale_threshold_days})",
        "Deactivate the key; reactivate it if someone complains.",
        last_used_at=iso(used),
        last_used_ip=ctx.key.last_used_ip,
        days=(ctx.now - used).days,
    )


def expiring_in_use(ctx: KeyContext) -> Iterator[Finding]:
    key = ctx.key
    # A rotated key expiring is its grace period ending, not an outage coming.
    if not ctx.in_use or key.rotated_at is not None or key.expires_at is None:
        return
    if not key.expires_soon(ctx.now):
        return
    yield ctx.finding(
        "expiring-in-use",
        Severity.MEDIUM,
        # Worded by the one function the page's evidence and the key list use, so the
        # title and the "Expires in 5 days" beside it never count days differently.
        f"In use and expires {relative(key.expires_at, ctx.now)}",
        "Rotate the key now and update its integrations before it expires.",
        expires_at=iso(key.expires_at),
        last_used_at=iso(key.last_used_at),
        last_used_ip=key.last_used_ip,
    )


def unused_permissions(ctx: KeyContext) -> Iterator[Finding]:
    key = ctx.key
    if not ctx.in_use:
        return
    used = {usage.permission: usage.last_used_at for usage in key.permission_usage.all()}
    for code in key.permissions:
        last = used.get(code)
        if (last or key.created_at) <= ctx.now - ctx.threshold:
            yield ctx.finding(
                "unused-permission",
                Severity.LOW,
                f"Permission {code} unused for {ctx.project.stale_threshold_days}+ days",
                f"Remove {code} from the key (least privilege).",
                permission=code,
                permission_last_used_at=iso(last),
                key_last_used_at=iso(key.last_used_at),
            )


def no_allowlist(ctx: KeyContext) -> Iterator[Finding]:
    seen = {str(a) for a in map(allowlist.client_address, ctx.addresses) if a}
    if ctx.key.allowed_ips or len(seen) <= ADDRESS_LIMIT:
        return
    ranges = allowlist.summarize(seen)[: allowlist.MAX_ENTRIES]
    yield ctx.finding(
        "no-allowlist",
        Severity.LOW,
        f"Used from {len(seen)} addresses in {ADDRESS_WINDOW_DAYS} days, with no IP allowlist",
        "Restrict the key to the addresses of its clients (edit the key's IP "
        f"allowlist); it was used from {', '.join(ranges)}.",
        addresses=len(seen),
        suggested_allowlist=" ".join(ranges),
    )


def rotation_unfinished(ctx: KeyContext) -> Iterator[Finding]:
    key = ctx.key
    if key.rotated_at is None or key.rotated_at > ctx.now - timedelta(days=ROTATION_FINISH_DAYS):
        return
    yield ctx.finding(
        "rotation-unfinished",
        Severity.MEDIUM,
        f"Rotated {(ctx.now - key.rotated_at).days} days ago and still active",
        "Check the transition on the key's page, then deactivate the old key.",
        rotated_at=iso(key.rotated_at),
        last_used_at=iso(key.last_used_at),
        last_used_ip=key.last_used_ip,
    )


ALWAYS: tuple[Rule, ...] = (exposed, still_tried)
WHILE_INACTIVE: tuple[Rule, ...] = (inactive_not_deleted,)
WHILE_ACTIVE: tuple[Rule, ...] = (
    expiry_against_policy,
    former_member_key,
    never_used,
    stale,
    expiring_in_use,
    unused_permissions,
    no_allowlist,
    rotation_unfinished,
)


def key_findings(ctx: KeyContext) -> Iterator[Finding]:
    """Every finding about one key."""
    active = ctx.status == APIKey.Status.ACTIVE
    for rule in (*ALWAYS, *(WHILE_ACTIVE if active else WHILE_INACTIVE)):
        yield from rule(ctx)
