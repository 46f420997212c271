"""Times for people, one wording everywhere: "in 7 days", "45 days ago", "just now".

No Django here: the dashboard's filters, the rotation transition's messages and
anything else that words a time call these.
"""

from __future__ import annotations

from datetime import datetime

# Units of a relative time, largest first. Days are spelled out up to 99 so that
# "60 days ago" sits beside "Stale (45 days)" instead of "1 month ago".
_UNITS = (
    ("year", 365 * 86400, 2 * 365 * 86400),
    ("month", 30 * 86400, 100 * 86400),
    ("day", 86400, 2 * 86400),
    ("hour", 3600, 2 * 3600),
    ("minute", 60, 60),
)


def duration(seconds: float, *, past: bool) -> str:
    """``7 days``, ``3 hours``, ``1 minute``: the largest unit that reads true.

    A past time counts whole units (45 days unused is "45 days", from the 45th day
    on, as the Stale flag does); a future time rounds to the nearest unit, so a key
    made to expire in 7 days says "in 7 days", not "in 6 days", a moment later.
    """
    for name, size, from_seconds in _UNITS:
        if seconds >= from_seconds or name == "minute":
            count = int(seconds // size) if past else round(seconds / size)
            count = max(count, 1)
            return f"{count} {name}{'' if count == 1 else 's'}"
    raise AssertionError("unreachable")


def relative(value: datetime, now: datetime) -> str:
    """``just now``, ``3 days ago``, ``in 7 days``."""
    seconds = (value - now).total_seconds()
    if abs(seconds) < 60:
        return "just now"
    if seconds < 0:
        return f"{duration(-seconds, past=True)} ago"
    return f"in {duration(seconds, past=False)}"
