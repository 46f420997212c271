"""A key's rotation family, read in two queries whatever its length: who it was rotated
from, what it was rotated to, and which of those keys still works.

A family is a tree, not a line: a key whose successor was deactivated may be rotated
again, so one key can have several successors. :func:`rotation_chain` picks the one
line through it that matters (towards the newest key that still works), and keeps the
other successors beside the step they branch from, so a page never numbers siblings
as if each had replaced the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from apikeys.models import APIKey


@dataclass(frozen=True)
class ChainStep:
    key: APIKey
    # Successors of this key that are not the next step: rotations abandoned since.
    also_rotated_to: list[APIKey] = field(default_factory=list)


def lineage(key: APIKey) -> list[APIKey]:
    """Every key of the rotation family, oldest first (two queries whatever its length)."""
    links = dict(
        APIKey.objects.filter(project_id=key.project_id).values_list("pk", "rotated_from_id")
    )
    root = key.pk
    seen = {root}
    while links.get(root) is not None and links[root] not in seen:
        root = links[root]  # type: ignore[assignment]
        seen.add(root)
    family = descendant_ids(root, links) | {root}
    return list(
        APIKey.objects.filter(pk__in=family)
        .select_related("created_by")
        .order_by("created_at", "pk")
    )


def descendant_ids(pk: int, links: Mapping[int, int | None]) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in links.items():
        if parent is not None:
            children[parent].append(child)
    found: set[int] = set()
    todo = [pk]
    while todo:
        for child in children[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def newest_usable(keys: Iterable[APIKey], now: datetime) -> APIKey | None:
    """The newest key that the guard accepts now, or None when none of them works."""
    return max(
        (k for k in keys if k.is_usable(now)), key=lambda k: (k.created_at, k.pk), default=None
    )


def live_successor(key: APIKey, *, now: datetime | None = None) -> APIKey | None:
    """The newest working key descended from ``key``: while there is one, rotating
    ``key`` again would make a second working successor, so rotate that one instead."""
    now = now or timezone.now()
    family = lineage(key)
    newer = descendant_ids(key.pk, {k.pk: k.rotated_from_id for k in family})
    return newest_usable((k for k in family if k.pk in newer), now)


def rotation_chain(key: APIKey, family: list[APIKey], *, now: datetime) -> list[ChainStep]:
    """The line of rotations through ``key``, oldest first: its ancestors, the key, then
    its successors towards the newest working descendant (else the newest descendant)."""
    by_pk = {k.pk: k for k in family}
    children: dict[int, list[APIKey]] = defaultdict(list)
    for member in family:  # oldest first, so each key's successors are too
        if member.rotated_from_id in by_pk:
            children[member.rotated_from_id].append(member)

    line = [key]
    while line[0].rotated_from_id in by_pk and by_pk[line[0].rotated_from_id] not in line:
        line.insert(0, by_pk[line[0].rotated_from_id])  # type: ignore[index]
    newer = [by_pk[pk] for pk in descendant_ids(key.pk, {k.pk: k.rotated_from_id for k in family})]
    target = newest_usable(newer, now) or max(
        newer, key=lambda k: (k.created_at, k.pk), default=None
    )
    forward: list[APIKey] = []
    while target is not None and target.pk != key.pk:
        forward.insert(0, target)
        target = by_pk.get(target.rotated_from_id)  # type: ignore[arg-type]
    line += forward

    steps = []
    for index, member in enumerate(line):
        following = line[index + 1] if index + 1 < len(line) else None
        others = [k for k in children[member.pk] if k is not following]
        steps.append(ChainStep(member, others))
    return steps
