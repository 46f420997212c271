"""Template tags of the dashboard: relative times with the exact time on hover, the site's name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apikeys.conf import apikeys_settings
from apikeys.humanize import relative

register = template.Library()


@register.simple_tag
def key_variable() -> str:
    """The environment variable the show-once snippets keep the key in (NUNU_API_KEY)."""
    from apikeys.dashboard.showonce import key_variable

    return key_variable()


@register.simple_tag
def site_name() -> str:
    """The host's name for the dashboard (APIKEYS_SITE_NAME), in titles and the header."""
    return apikeys_settings.SITE_NAME


@register.filter
def reltime(value: datetime | None, empty: str = "—") -> SafeString | str:
    """``<time title="2025-01-31 12:00 UTC">3 days ago</time>``; ``empty`` for None."""
    if value is None:
        return empty
    return _time(value, relative(value, timezone.now()))


@register.filter
def expiry(value: datetime | None, empty: str = "Never") -> SafeString | str:
    """An expiry for people: ``in 7 days``, ``Expired 7 days ago``, or ``Never``."""
    if value is None:
        return empty
    now = timezone.now()
    if value <= now:
        return _time(value, f"Expired {relative(value, now)}")
    return _time(value, relative(value, now))


def _time(value: datetime, text: str) -> SafeString:
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), utc(value), text
    )


@register.filter
def timesince_days(value: datetime | None) -> int:
    """Whole days since ``value`` (0 for None), as the Stale flag counts them."""
    if value is None:
        return 0
    return max(int((timezone.now() - value).total_seconds() // 86400), 0)


@register.filter
def thousands(value: Any) -> str:
    """``12345`` → ``12,345``; anything not a number as it is."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def utc(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping|get_item:key``: a dict lookup with a variable key (None when missing)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def evidence(value: Any) -> SafeString | str:
    """A finding's evidence value for people: ISO times as relative times, None as a dash,
    booleans as Yes or No.

    The findings keep ISO strings and booleans so the JSON and CSV exports stay
    exact; the page shows them the way the rest of the dashboard does.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    moment = parse_iso_datetime(value)
    return reltime(moment) if moment is not None else str(value)


@register.filter
def evidence_time(value: Any, empty: str = "—") -> SafeString | str:
    """An ISO time of a report as ``2026-07-04 23:01 UTC`` that never wraps mid-token."""
    moment = parse_iso_datetime(value)
    if moment is None:
        return empty if not value else str(value)
    return format_html(
        '<time class="nowrap" datetime="{}">{}</time>', moment.isoformat(), utc(moment)
    )


def parse_iso_datetime(value: Any) -> datetime | None:
    """The aware datetime an ISO 8601 string names (as stored in JSON fields), else None."""
    if not (isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@register.filter
def label(name: str) -> str:
    """``last_used_at`` → ``last used at`` (the audit log's change names)."""
    return name.replace("_", " ")


# Words of an evidence name that people write in capitals.
_ACRONYMS = {"ip": "IP", "url": "URL", "id": "ID", "api": "API"}


@register.filter
def evidence_label(name: str) -> str:
    """An evidence name as the label before its value: ``last_used_ip`` → ``Last used IP``.

    A time's name loses its ``at``, because :func:`evidence` words the value as
    ``in 5 days`` or ``3 days ago``: ``expires_at`` reads "Expires in 5 days", not
    "Expires at in 5 days". The exports keep the names as they are.
    """
    words = name.split("_")
    if len(words) > 1 and words[-1] == "at":
        words.pop()
    text = " ".join(_ACRONYMS.get(word, word) for word in words)
    return text[:1].upper() + text[1:]
