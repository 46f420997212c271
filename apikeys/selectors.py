"""Every read the dashboard's pages need, each with a fixed number of queries.

Status and flag filters are SQL conditions (``Q`` objects on ``expires_at``,
``is_active``, ``last_used_at`` and ``created_at``), never Python loops, so a
project with 10,000 keys still renders a page of 50 with the same handful of
queries. The same rules are the model's ``status()``/``is_stale()``, used to
draw the 50 rows on a page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.module_loading import import_string

from apikeys import flags, keys
from apikeys.conf import apikeys_settings, key_format
from apikeys.flags import KeyFlag
from apikeys.models import (
    APIKey,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
    Project,
)
from apikeys.permissions import Permission, registry

PAGE_SIZE = 50
RECENT_USE_DAYS = 7  # deleting a key used this recently needs its name typed
CHART_DAYS = 30

STATUS_CHOICES = [(str(status), str(status.label)) for status in APIKey.Status]
FLAG_CHOICES = flags.filter_choices()
SORT_FIELDS = {
    "name": "name",
    "created": "created_at",
    "last_used": "last_used_at",
    "expires": "expires_at",
}
DEFAULT_SORT = "-created"


# --- Key list -------------------------------------------------------------


@dataclass(frozen=True)
class KeyListParams:
    """The list's filters, search, sort and page, cleaned from a query string."""

    q: str = ""
    status: str = ""
    permission: str = ""
    flag: str = ""
    sort: str = DEFAULT_SORT
    page: str = "1"

    @classmethod
    def from_query(cls, data: Any) -> KeyListParams:
        def pick(name: str, allowed: set[str], default: str = "") -> str:
            value = (data.get(name) or "").strip()
            return value if value in allowed else default

        sorts = set(SORT_FIELDS) | {f"-{name}" for name in SORT_FIELDS}
        return cls(
            q=(data.get("q") or "").strip()[:100],
            status=pick("status", {code for code, _ in STATUS_CHOICES}),
            permission=pick("permission", set(registry.permissions)),
            flag=flags.parse_filter(data.get("flag") or ""),
            sort=pick("sort", sorts, DEFAULT_SORT),
            page=(data.get("page") or "1").strip()[:10],
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.status or self.permission or self.flag)

    def query(self, **changes: str) -> str:
        """This view's query string with some values changed (empty values dropped)."""
        from urllib.parse import urlencode

        values = {
            "q": self.q,
            "status": self.status,
            "permission": self.permission,
            "flag": self.flag,
            "sort": self.sort if self.sort != DEFAULT_SORT else "",
            "page": self.page if self.page != "1" else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True)
class KeySummary:
    total: int
    active: int
    stale: int
    expiring_soon: int


@dataclass
class KeyRow:
    key: APIKey
    status: str
    flags: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class KeyList:
    page: Page
    rows: list[KeyRow]
    summary: KeySummary
    params: KeyListParams


def _search_q(text: str) -> Q:
    # Accept what people paste: the id, the masked form "nunu_<id>_…", or a full key
    # (only its public id is used; the secret part is never compared or stored).
    candidate = text
    lead = key_format().lead
    if candidate.startswith(lead):
        candidate = candidate[len(lead) :].split("_", 1)[0]
    query = Q(name__icontains=text)
    if keys.is_key_id(candidate):
        query |= Q(key_id=candidate)
    elif candidate and len(candidate) < keys.ID_LENGTH and candidate.isalnum():
        query |= Q(key_id__startswith=candidate)
    return query


def _with_successor(keys_qs: QuerySet[APIKey]) -> QuerySet[APIKey]:
    """Each key's newest successor (id and name), so a row being replaced can say
    "Rotating → <successor>" without a query per row."""
    newest = APIKey.objects.filter(rotated_from=OuterRef("pk")).order_by("-created_at", "-pk")
    return keys_qs.annotate(
        successor_key_id=Subquery(newest.values("key_id")[:1]),
        successor_name=Subquery(newest.values("name")[:1]),
    )


def filtered_keys(project: Project, params: KeyListParams, *, now: datetime) -> QuerySet[APIKey]:
    keys_qs = _with_successor(APIKey.objects.filter(project=project))
    if params.q:
        keys_qs = keys_qs.filter(_search_q(params.q))
    if params.status:
        keys_qs = keys_qs.filter(flags.status_q(params.status, now))
    if params.flag:
        keys_qs = keys_qs.filter(flags.flag_q(params.flag, project, now))
    if params.permission:
        # JSON "contains" is not portable (SQLite has none); the codes are quoted
        # in the stored list, so a text match on '"code"' is exact on both backends.
        keys_qs = keys_qs.annotate(permissions_text=Cast("permissions", TextField())).filter(
            permissions_text__contains=f'"{params.permission}"'
        )
    descending = params.sort.startswith("-")
    column = F(SORT_FIELDS[params.sort.lstrip("-")])
    order = column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)
    return keys_qs.order_by(order, "-pk")


def key_summary(project: Project, *, now: datetime) -> KeySummary:
    """Active, stale and soon-expiring counts in one aggregate query."""
    active = flags.status_q(APIKey.Status.ACTIVE, now)
    counts = APIKey.objects.filter(project=project).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=active),
        stale=Count("pk", filter=flags.flag_q(KeyFlag.STALE, project, now)),
        expiring_soon=Count("pk", filter=active & flags.flag_q(KeyFlag.EXPIRES_SOON, project, now)),
    )
    return KeySummary(**counts)


def key_flags(key: APIKey, project: Project, now: datetime) -> list[tuple[str, str]]:
    """(code, label) badges for one row: the key's flags (apikeys.flags)."""
    return flags.labelled(key.flags(now, project))


def key_list(project: Project, params: KeyListParams, *, now: datetime | None = None) -> KeyList:
    """One page of keys with their flags and the project summary: three queries."""
    now = now or timezone.now()
    paginator = Paginator(
        filtered_keys(project, params, now=now).select_related("created_by"), PAGE_SIZE
    )
    page = paginator.get_page(params.page)
    rows = [
        KeyRow(key=key, status=str(key.status(now)), flags=key_flags(key, project, now))
        for key in page.object_list
    ]
    return KeyList(page=page, rows=rows, summary=key_summary(project, now=now), params=params)


def key_row(project: Project, key_id: str, *, now: datetime | None = None) -> KeyRow:
    now = now or timezone.now()
    key = _with_successor(APIKey.objects.select_related("created_by")).get(
        project=project, key_id=key_id
    )
    return KeyRow(key=key, status=str(key.status(now)), flags=key_flags(key, project, now))


# --- Key detail -----------------------------------------------------------


@dataclass(frozen=True)
class PermissionUse:
    permission: Permission
    last_used_at: datetime | None
    candidate_for_removal: bool


@dataclass(frozen=True)
class ChartBar:
    day: date
    requests: int
    refused: int
    x: float
    height: float
    refused_height: float
    y: float  # top of the accepted-requests bar; the refused part sits on it
    refused_y: float


@dataclass(frozen=True)
class UsageChart:
    bars: list[ChartBar]
    total_requests: int
    total_refused: int
    peak: int
    width: int = 600
    height: int = 120
    bar_width: float = 16.0
    top: int = 0  # the y axis's top value (scale_top of the peak)

    @property
    def ticks(self) -> list[int]:
        """The y axis's labels, top first: the top, its half when whole, and 0."""
        if not self.top:
            return []
        if self.top % 2 == 0:
            return [self.top, self.top // 2, 0]
        return [self.top, 0]

    @property
    def gridlines(self) -> list[float]:
        """The y of each tick's line inside the chart (the same order as ``ticks``)."""
        count = len(self.ticks)
        return [round(self.height * i / (count - 1), 1) for i in range(count)] if count else []

    @property
    def total(self) -> int:
        """Every request, accepted or refused (``total_requests`` counts the accepted)."""
        return self.total_requests + self.total_refused


@dataclass
class KeyDetail:
    key: APIKey
    status: str
    flags: list[tuple[str, str]]
    permissions: list[PermissionUse]
    chart: UsageChart
    refusals: list[APIKeyRefusal]
    activity: KeyActivity | None
    successors: list[APIKey]
    used_recently: bool

    @property
    def flag_codes(self) -> list[str]:
        return [str(code) for code, _ in self.flags]


def get_key(project: Project, key_id: str) -> APIKey:
    """The project's key with this id, or APIKey.DoesNotExist (another project's too)."""
    return APIKey.objects.select_related("created_by", "rotated_from").get(
        project=project, key_id=key_id
    )


def used_recently(key: APIKey, now: datetime) -> bool:
    return key.last_used_at is not None and key.last_used_at > now - timedelta(days=RECENT_USE_DAYS)


def usage_chart(key: APIKey, *, today: date) -> UsageChart:
    first = today - timedelta(days=CHART_DAYS - 1)
    counts = {
        row.date: row
        for row in APIKeyDailyUsage.objects.filter(key=key, date__gte=first, date__lte=today)
    }
    chart = UsageChart(bars=[], total_requests=0, total_refused=0, peak=0)
    peak = max((r.request_count + r.refused_count for r in counts.values()), default=0)
    top = scale_top(peak)
    slot = chart.width / CHART_DAYS
    bars = []
    for offset in range(CHART_DAYS):
        day = first + timedelta(days=offset)
        row = counts.get(day)
        requests = row.request_count if row else 0
        refused = row.refused_count if row else 0
        scale = chart.height / top if top else 0
        height = round(requests * scale, 1)
        refused_height = round(refused * scale, 1)
        bars.append(
            ChartBar(
                day=day,
                requests=requests,
                refused=refused,
                x=round(offset * slot + (slot - chart.bar_width) / 2, 1),
                height=height,
                refused_height=refused_height,
                y=round(chart.height - height, 1),
                refused_y=round(chart.height - height - refused_height, 1),
            )
        )
    return UsageChart(
        bars=bars,
        total_requests=sum(b.requests for b in bars),
        total_refused=sum(b.refused for b in bars),
        peak=peak,
        top=top,
    )


def scale_top(peak: int) -> int:
    """The y axis's top: the smallest 1, 2 or 5 × 10ⁿ at or above the busiest day."""
    if peak <= 0:
        return 0
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= peak:
                return step * magnitude
        magnitude *= 10


@dataclass(frozen=True)
class KeyActivity:
    """What the host shows on a key's page about the key's work in the host's own terms
    (nunu: "Runs started with this key"). APIKEYS_KEY_ACTIVITY names a callable
    ``(key) -> KeyActivity | None``; ``template`` renders ``items``."""

    title: str
    template: str
    items: list[Any]
    empty: str = "Nothing yet."


@functools.cache
def _activity_hook(path: str) -> Callable[[APIKey], KeyActivity | None]:
    return import_string(path)


def key_activity(key: APIKey) -> KeyActivity | None:
    path = apikeys_settings.KEY_ACTIVITY
    if not path:
        return None
    hook = _activity_hook(path) if isinstance(path, str) else path
    return hook(key)


def key_detail(project: Project, key_id: str, *, now: datetime | None = None) -> KeyDetail:
    """Everything the key page shows: six queries whatever the key's history."""
    now = now or timezone.now()
    key = get_key(project, key_id)
    used = {u.permission: u.last_used_at for u in APIKeyPermissionUsage.objects.filter(key=key)}
    cutoff = now - timedelta(days=project.stale_threshold_days)
    permissions = []
    for perm in key.permission_objects():
        last = used.get(perm.code)
        unused = last <= cutoff if last is not None else key.created_at <= cutoff
        permissions.append(PermissionUse(perm, last, unused))
    return KeyDetail(
        key=key,
        status=str(key.status(now)),
        flags=key_flags(key, project, now),
        permissions=permissions,
        chart=usage_chart(key, today=now.date()),
        refusals=list(APIKeyRefusal.objects.filter(key=key).order_by("-count", "code")),
        activity=key_activity(key),
        successors=list(key.successors.order_by("created_at")),
        used_recently=used_recently(key, now),
    )
