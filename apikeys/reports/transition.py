"""Is a rotation finished? The answer comes from usage, not from anyone's word.

After a rotation the old key keeps working until it is deactivated or its
grace period ends. The transition is *confirmed* when the newer key has been
used and the old key has not been used since, with at least one
``APIKEYS_USAGE_RESOLUTION`` window of quiet: usage is written at most once
per window per process, so a shorter silence proves nothing.

"Since" is measured against the newer key's first use (``first_used_at``,
written by the guard on a key's first request): an old key used after that
moment is still in use somewhere. An integration that
runs less often than the quiet observed is invisible to any usage-based check;
the page therefore shows the dates and IPs it relied on.

The newer side is every key descended from the old one, so a rotation of the
successor (a chain A → B → C) still confirms A's transition. Deactivating the
old key is only ever advised while one of those keys works (active, unexpired,
not exposed) and has been used: otherwise it would leave no working key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from apikeys.conf import apikeys_settings
from apikeys.humanize import relative
from apikeys.models import APIKey, APIKeyDailyUsage, APIKeyRefusal
from apikeys.reports.review import REVOKED_CODES, stopped_at
from apikeys.selectors.chart import CHART_DAYS
from apikeys.selectors.lineage import (
    ChainStep,
    descendant_ids,
    lineage,
    newest_usable,
    rotation_chain,
)

WAITING = "waiting"  # the newer key has not been used yet
IN_USE = "in_use"  # the old key was used after the newer one started
SETTLING = "settling"  # quiet, but for less than one usage window
CONFIRMED = "confirmed"
CLOSED = "closed"  # the old key no longer works
NO_WORKING_SUCCESSOR = "no_working_successor"  # every newer key is disabled, expired or exposed

CONFIRMED_MESSAGE = "Transition confirmed: safe to deactivate"


@dataclass(frozen=True)
class DayUsage:
    date: date
    old_requests: int
    old_refused: int
    new_requests: int


@dataclass
class Transition:
    old: APIKey
    successor: APIKey  # the direct successor on the chain (towards the working key)
    live_successor: APIKey | None  # the newest newer key that works: rotate that one
    descendants: list[APIKey]
    lineage: list[APIKey]  # the whole family, oldest first
    chain: list[ChainStep]  # the one line of rotations through the old key
    state: str
    message: str
    successor_first_used_at: datetime | None
    successor_last_used_at: datetime | None
    old_last_used_at: datetime | None
    old_last_used_ip: str | None
    quiet_for: timedelta | None
    days: list[DayUsage] = field(default_factory=list)
    refusals_after_stop: list[APIKeyRefusal] = field(default_factory=list)

    @property
    def safe_to_deactivate(self) -> bool:
        return self.state == CONFIRMED

    @property
    def still_in_use(self) -> bool:
        return self.state == IN_USE

    @property
    def tone(self) -> str:
        """The verdict's message level (success, info, warning, error): only a finished
        step is a success; waiting for usage is neutral information."""
        if self.state == CONFIRMED:
            return "success"
        if self.state in (IN_USE, NO_WORKING_SUCCESSOR):
            return "warning"
        if self.state == CLOSED:
            if self.refusals_after_stop or self.live_successor is None:
                return "error"
            return "success" if _used(self.live_successor) else "info"
        return "info"


def resolution() -> timedelta:
    return timedelta(seconds=max(0, apikeys_settings.USAGE_RESOLUTION))


def transition(key: APIKey, *, now: datetime | None = None) -> Transition | None:
    """The state of the rotation away from ``key``; None when it was never rotated.

    A fixed number of queries: the family (2), daily usage (1), refusals (1).
    """
    now = now or timezone.now()
    family = lineage(key)
    links = {k.pk: k.rotated_from_id for k in family}
    newer_ids = descendant_ids(key.pk, links)
    if not newer_ids:
        return None
    by_pk = {k.pk: k for k in family}
    old = by_pk[key.pk]
    descendants = [by_pk[pk] for pk in sorted(newer_ids, key=lambda p: by_pk[p].created_at)]
    chain = rotation_chain(old, family, now=now)
    successor = chain[[step.key.pk for step in chain].index(old.pk) + 1].key
    live = newest_usable(descendants, now)

    rows = APIKeyDailyUsage.objects.filter(key_id__in=[old.pk, *newer_ids]).order_by("date")
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    chart_from = (now - timedelta(days=CHART_DAYS - 1)).date()
    for row in rows:
        if row.key_id == old.pk:
            per_day[row.date][0] += row.request_count
            per_day[row.date][1] += row.refused_count
        else:
            per_day[row.date][2] += row.request_count
    days = [
        DayUsage(day, *per_day[day])
        for day in (chart_from + timedelta(days=n) for n in range(CHART_DAYS))
        if day <= now.date()
    ]

    new_last_used = max((k.last_used_at for k in descendants if k.last_used_at), default=None)
    # Keys used before first_used_at existed fall back to their last use: later, so
    # an old key used in between is reported as still in use, never wrongly confirmed.
    new_first_used = min(
        (k.first_used_at or k.last_used_at for k in descendants if k.last_used_at),
        default=None,
    )
    stopped = stopped_at(old, now)
    refusals = []
    if stopped is not None:
        refusals = [
            r
            for r in APIKeyRefusal.objects.filter(key=old, code__in=REVOKED_CODES)
            if r.last_at >= stopped
        ]
    quiet_for = now - old.last_used_at if old.last_used_at else None

    state, message = _verdict(
        old, now, stopped, refusals, chain[-1].key, live, new_first_used, quiet_for
    )
    return Transition(
        old=old,
        successor=successor,
        live_successor=live,
        descendants=descendants,
        lineage=family,
        chain=chain,
        state=state,
        message=message,
        successor_first_used_at=new_first_used,
        successor_last_used_at=new_last_used,
        old_last_used_at=old.last_used_at,
        old_last_used_ip=old.last_used_ip,
        quiet_for=quiet_for,
        days=days,
        refusals_after_stop=refusals,
    )


def old_key_until(old: APIKey, now: datetime) -> str:
    """What happens to a rotated key, with the time left: its grace period (or its own
    expiry) ends it, or nothing does until someone deactivates it."""
    if old.expires_at is not None and old.expires_at > now:
        return (
            f"The old key stops working {old.expires_at:%Y-%m-%d %H:%M} UTC "
            f"({relative(old.expires_at, now)}), or earlier if you deactivate it."
        )
    return "The old key keeps working until you deactivate it."


def _verdict(
    old: APIKey,
    now: datetime,
    stopped: datetime | None,
    refusals: list[APIKeyRefusal],
    newest: APIKey,
    live: APIKey | None,
    new_first_used: datetime | None,
    quiet_for: timedelta | None,
) -> tuple[str, str]:
    # The rotation is only done once a newer key works and has been used; the newer
    # side's first use may be a key that has stopped working since.
    live_used = live is not None and _used(live)
    if stopped is not None:
        status = old.status(now)
        if refusals:
            last = max(refusals, key=lambda r: r.last_at)
            return CLOSED, (
                f"The old key is {status}, but it is still being tried: last at "
                f"{last.last_at:%Y-%m-%d %H:%M} UTC from {last.last_ip or 'an unknown IP'}. "
                "Some integration was not updated."
            )
        if live is None:
            return CLOSED, (
                f"The old key is {status} and the new key {newest.name} is "
                f"{_stopped_word(newest, now)}: no key of this rotation works. "
                f"{_remedy(newest, now)}"
            )
        if not live_used:
            return CLOSED, f"The old key is {status}; the new key has not been used yet."
        return CLOSED, f"The old key is {status}; the rotation is complete."
    if live is None:
        return NO_WORKING_SUCCESSOR, (
            f"The new key {newest.name} is {_stopped_word(newest, now)}: deactivating this "
            f"key would leave no working key. {_remedy(newest, now)}"
        )
    if new_first_used is None or not live_used:
        return WAITING, (
            "Waiting for the new key's first use: update your integrations with it. "
            f"{old_key_until(old, now)}"
        )
    last_old = old.last_used_at
    if last_old is not None:
        if last_old > new_first_used:
            return IN_USE, (
                f"The old key is still in use: last used {last_old:%Y-%m-%d %H:%M} UTC from "
                f"{old.last_used_ip or 'an unknown IP'}, after the new key was first used."
            )
        if quiet_for is not None and quiet_for < resolution():
            return SETTLING, (
                "The new key is in use and the old key has gone quiet; usage is recorded "
                f"once every {int(resolution().total_seconds())} seconds, so wait that long "
                "to be sure."
            )
    return CONFIRMED, CONFIRMED_MESSAGE


def _used(key: APIKey) -> bool:
    # The rule of apikeys.flags' NEVER_USED (first_used_at is empty only while this is).
    return key.last_used_at is not None


def _remedy(newest: APIKey, now: datetime) -> str:
    if newest.status(now) == APIKey.Status.DISABLED:
        return "Reactivate the new key, or rotate this key again."
    return "Rotate this key again."


def _stopped_word(key: APIKey, now: datetime) -> str:
    """ "deactivated", "expired" or "exposed": why a key no longer works."""
    status = key.status(now)
    return "deactivated" if status == APIKey.Status.DISABLED else str(status)
