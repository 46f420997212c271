"""The audit log, filtered, and streamed out as CSV or JSON in constant memory.

An export of 100,000 events must not build 100,000 objects, nor one string
holding them all: rows are read with ``.iterator(chunk_size=...)`` (a
server-side cursor on PostgreSQL, ``fetchmany`` batches on SQLite) and each is
encoded and sent as it is read, through a ``StreamingHttpResponse``.

CSV cells are defused against formula injection (a key named ``=HYPERLINK(…)``
must not run in the reviewer's spreadsheet), as OWASP recommends.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from apikeys.models import AuditEvent, Project

CHUNK_SIZE = 2000
FIELDS = (
    "created_at",
    "action",
    "actor_username",
    "actor_ip",
    "user_agent",
    "key_id",
    "key_name",
    "changes",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def audit_events(
    project: Project,
    *,
    action: str = "",
    actor: str = "",
    key: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The project's events, newest first, narrowed by the log page's filters.

    ``key`` matches the key id exactly or the name as it was, in part;
    ``until`` includes the whole day.
    """
    events = AuditEvent.objects.filter(project=project)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_username__iexact=actor.strip())
    if key:
        key = key.strip()
        events = events.filter(Q(key_id=key) | Q(key_name__icontains=key))
    if since:
        events = events.filter(created_at__gte=_day_start(since))
    if until:
        events = events.filter(created_at__lt=_day_start(until) + timedelta(days=1))
    return events.order_by("-created_at", "-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def event_record(values: dict[str, Any]) -> dict[str, Any]:
    """One event as plain JSON-able values, in the order of :data:`FIELDS`."""
    created = values["created_at"]
    return {
        "created_at": created.isoformat() if created else None,
        "action": values["action"],
        "actor": values["actor_username"],
        "actor_ip": values["actor_ip"],
        "user_agent": values["user_agent"],
        "key_id": values["key_id"],
        "key_name": values["key_name"],
        "changes": values["changes"],
    }


def _rows(events: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    for values in events.values(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
        yield event_record(values)


def defuse(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([defuse(cell) for cell in row])


def json_array(items: Iterable[Any]) -> Iterator[str]:
    """``[item, item, …]`` one item at a time."""
    yield "["
    first = True
    for item in items:
        yield ("" if first else ",\n") + json.dumps(item, default=str)
        first = False
    yield "]\n"


def streamed(chunks: Iterator[str], *, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Exports are evidence about credentials: not for shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def export_csv(events: QuerySet[AuditEvent], *, filename: str) -> StreamingHttpResponse:
    header = ("created_at", "action", "actor", "actor_ip", "user_agent", "key_id", "key_name")
    rows = (
        [*(record[name] for name in header), json.dumps(record["changes"], sort_keys=True)]
        for record in _rows(events)
    )
    return streamed(
        csv_lines([*header, "changes"], rows),
        content_type="text/csv; charset=utf-8",
        filename=filename,
    )


def export_json(events: QuerySet[AuditEvent], *, filename: str) -> StreamingHttpResponse:
    return streamed(json_array(_rows(events)), content_type="application/json", filename=filename)
