"""Key usage, counted in memory and written at most once per key per window (SPEC §5).

Writing ``last_used_at`` on every request would turn every API call into a
write and serialise callers of one key on its row. Instead each process keeps
what it saw per key and writes it when ``APIKEYS_USAGE_RESOLUTION`` seconds
have passed since its last write for that key; a key's first request in a
process is written at once, so "never used" turns into "used" immediately.
Every write is a conditional or additive UPDATE (``last_used_at`` only moves
forward, counts are ``F() + n``), so processes never overwrite each other.

Counts a process still holds are written by :func:`flush_all` (gunicorn's
``worker_exit``) and, while traffic flows, by a sweep once per window.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apikeys.conf import apikeys_settings
from apikeys.guard import ratelimit
from apikeys.guard.digests import verified_secrets
from apikeys.models import (
    APIKey,
    APIKeyAddressUsage,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
)

logger = logging.getLogger("apikeys.guard.usage")

# Distinct client addresses one batch counts per key: enough for the review to see
# that a key travels (more than 3 addresses in 30 days) and where from, while a key
# used from a botnet cannot make one flush write thousands of rows.
MAX_ADDRESSES_PER_BATCH = 64


def _now() -> datetime:
    """Injectable clock for tests."""
    return timezone.now()


@dataclass
class _Refused:
    count: int
    first_at: datetime
    last_at: datetime
    last_ip: str | None


@dataclass
class _Batch:
    """What one process saw of one key since its last write."""

    first_used_at: datetime | None = None
    last_used_at: datetime | None = None
    last_ip: str | None = None
    permissions: dict[str, datetime] = field(default_factory=dict)
    requests: Counter[date] = field(default_factory=Counter)
    refused: Counter[date] = field(default_factory=Counter)
    refusals: dict[str, _Refused] = field(default_factory=dict)
    addresses: Counter[tuple[date, str]] = field(default_factory=Counter)

    def is_empty(self) -> bool:
        return not (self.requests or self.refused)


@dataclass
class _KeyState:
    batch: _Batch = field(default_factory=_Batch)
    written_at: datetime | None = None


_lock = threading.Lock()
_states: dict[int, _KeyState] = {}
_next_sweep: datetime | None = None


def _window() -> timedelta:
    return timedelta(seconds=max(0, apikeys_settings.USAGE_RESOLUTION))


def _take_if_due(key_pk: int, state: _KeyState, now: datetime) -> _Batch | None:
    """Hand over the batch when this key's window has passed (caller holds the lock)."""
    if state.batch.is_empty():
        return None
    if state.written_at is not None and now - state.written_at < _window():
        return None
    batch, state.batch, state.written_at = state.batch, _Batch(), now
    return batch


def _sweep(now: datetime) -> list[tuple[int, _Batch]]:
    """Once per window, hand over every key's due batch (caller holds the lock)."""
    global _next_sweep
    if _next_sweep is not None and now < _next_sweep:
        return []
    _next_sweep = now + _window()
    due = []
    for key_pk, state in _states.items():
        batch = _take_if_due(key_pk, state, now)
        if batch is not None:
            due.append((key_pk, batch))
    return due


def _due(key_pk: int, state: _KeyState, now: datetime) -> list[tuple[int, _Batch]]:
    """The batches to write now: every key's once per window (the sweep), and this
    key's own when its window has passed (caller holds the lock)."""
    due = _sweep(now)
    if not any(pk == key_pk for pk, _ in due):
        mine = _take_if_due(key_pk, state, now)
        if mine is not None:
            due.append((key_pk, mine))
    return due


def record_use(key: APIKey, *, permission: str | None, ip: str | None) -> None:
    """An accepted request made with ``key``, exercising ``permission``."""
    now = _now()
    today = now.date()
    key_pk = key.pk
    with _lock:
        state = _states.get(key_pk)
        if state is None:
            state = _states[key_pk] = _KeyState()
        batch = state.batch
        if batch.first_used_at is None:
            batch.first_used_at = now
        batch.last_used_at = now
        batch.last_ip = ip
        batch.requests[today] += 1
        if ip:
            seen = (today, ip)
            if seen in batch.addresses or len(batch.addresses) < MAX_ADDRESSES_PER_BATCH:
                batch.addresses[seen] += 1
        if permission:
            batch.permissions[permission] = now
        due = _due(key_pk, state, now)
    if due:
        _write_all(due)


def record_refusal(key: APIKey, *, code: str, ip: str | None) -> None:
    """A request refused although its key is real: expired, disabled, missing permission."""
    now = _now()
    with _lock:
        state = _states.setdefault(key.pk, _KeyState())
        batch = state.batch
        batch.refused[now.date()] += 1
        refused = batch.refusals.get(code)
        if refused is None:
            batch.refusals[code] = _Refused(count=1, first_at=now, last_at=now, last_ip=ip)
        else:
            refused.count += 1
            refused.last_at = now
            refused.last_ip = ip
        due = _due(key.pk, state, now)
    _write_all(due)


def flush_all() -> None:
    """Write everything this process still holds (worker exit, tests)."""
    with _lock:
        due = []
        for key_pk, state in _states.items():
            if not state.batch.is_empty():
                due.append((key_pk, state.batch))
                state.batch = _Batch()
                state.written_at = _now()
    _write_all(due)


def reset_for_tests() -> None:
    global _next_sweep
    with _lock:
        _states.clear()
        _next_sweep = None
    verified_secrets.clear()
    ratelimit.forget_spent_total()


# --- Writing ----------------------------------------------------------------


def _write_all(due: list[tuple[int, _Batch]]) -> None:
    for key_pk, batch in due:
        try:
            with transaction.atomic():
                _write(key_pk, batch)
        except DatabaseError:
            # Usage is bookkeeping: losing one batch (the key was just deleted, the
            # database blinked) must never fail the request that triggered the write.
            logger.warning("Could not write usage of key pk=%s.", key_pk, exc_info=True)


def _write(key_pk: int, batch: _Batch) -> None:
    # A key deleted since the batch began has nothing left to count against. (A deletion
    # racing with this write makes the deferred foreign key fail the commit instead.)
    if not APIKey.objects.filter(pk=key_pk).exists():
        return
    if batch.last_used_at is not None:
        # first_used_at is empty only while last_used_at is, so one conditional UPDATE
        # sets both on a key's first use and only moves last_used_at forward after.
        APIKey.objects.filter(pk=key_pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=batch.last_used_at)
        ).update(
            first_used_at=Coalesce(F("first_used_at"), Value(batch.first_used_at)),
            last_used_at=batch.last_used_at,
            last_used_ip=batch.last_ip,
        )
    for permission, used_at in batch.permissions.items():
        _upsert(
            APIKeyPermissionUsage,
            lookup={"key_id": key_pk, "permission": permission},
            condition=Q(last_used_at__lt=used_at),
            update={"last_used_at": used_at},
            create={"last_used_at": used_at},
        )
    for day in batch.requests.keys() | batch.refused.keys():
        accepted, refused = batch.requests[day], batch.refused[day]
        _upsert(
            APIKeyDailyUsage,
            lookup={"key_id": key_pk, "date": day},
            update={
                "request_count": F("request_count") + accepted,
                "refused_count": F("refused_count") + refused,
            },
            create={"request_count": accepted, "refused_count": refused},
        )
    for (day, ip), count in batch.addresses.items():
        _upsert(
            APIKeyAddressUsage,
            lookup={"key_id": key_pk, "date": day, "ip": ip},
            update={"request_count": F("request_count") + count},
            create={"request_count": count},
        )
    for code, seen in batch.refusals.items():
        _upsert(
            APIKeyRefusal,
            lookup={"key_id": key_pk, "code": code},
            update={
                "count": F("count") + seen.count,
                "last_at": seen.last_at,
                "last_ip": seen.last_ip,
            },
            create={
                "count": seen.count,
                "first_at": seen.first_at,
                "last_at": seen.last_at,
                "last_ip": seen.last_ip,
            },
        )


def _upsert(
    model: type[models.Model],
    *,
    lookup: dict[str, Any],
    update: dict[str, Any],
    create: dict[str, Any],
    condition: Q | None = None,
) -> None:
    """UPDATE the row if it exists, else INSERT it; a racing INSERT turns into the UPDATE."""
    rows = model._default_manager.filter(**lookup)
    if condition is not None:
        rows = rows.filter(condition)
    if rows.update(**update):
        return
    if condition is not None and model._default_manager.filter(**lookup).exists():
        return  # the row holds a later time already
    try:
        with transaction.atomic():
            model._default_manager.create(**lookup, **create)
    except IntegrityError:
        rows.update(**update)
