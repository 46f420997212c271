"""The key list: filters, search, sort, one page of rows and the project's summary.

Status and flag filters are SQL conditions (``Q`` objects on ``expires_at``,
``is_active``, ``last_used_at`` and ``created_at``), never Python loops, so a
project with 10,000 keys still renders a page of 50 with the same handful of
queries. The same rules are the model's ``status()``/``is_stale()``, used to
draw the 50 rows on a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OrderBy, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property

from apikeys import flags, keys
from apikeys.conf import key_format
from apikeys.flags import KeyFlag
from apikeys.models import EXPIRES_SOON_DAYS, APIKey, Project
from apikeys.permissions import registry

PAGE_SIZE = 50

STATUS_CHOICES = [(str(status), str(status.label)) for status in APIKey.Status]
FLAG_CHOICES = flags.filter_choices()
SORT_FIELDS = {
    "name": "name",
    "created": "created_at",
    "last_used": "last_used_at",
    "expires": "expires_at",
}
DEFAULT_SORT = "-created"


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
    def from_url(cls, url: str) -> KeyListParams:
        """The filters of a list page's URL (its query string)."""
        return cls.from_query(QueryDict(urlsplit(url).query))

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
    expires_soon_days: int = EXPIRES_SOON_DAYS  # the window expiring_soon counts in


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
    return keys_qs.order_by(*_order(params.sort))


def _order(sort: str) -> tuple[OrderBy, OrderBy]:
    """The list's order: never-used and never-expiring keys last either way, and the
    newest first among equals. ``NULLS LAST`` only on a column that can be null: on
    ``created_at`` it would keep PostgreSQL from reading page 1 off the
    (project, -created_at, -id) index (it sorted all 10,000 keys of a project)."""
    name = SORT_FIELDS[sort.lstrip("-")]
    nulls_last = True if APIKey._meta.get_field(name).null else None
    column = F(name)
    order = (
        column.desc(nulls_last=nulls_last)
        if sort.startswith("-")
        else column.asc(nulls_last=nulls_last)
    )
    return order, F("pk").desc()


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
    """One page of keys with their flags and the project summary: two queries, and a
    count of the matching keys when a filter or a search leaves out some (unfiltered,
    that count is the summary's total, and each is a pass over every key)."""
    now = now or timezone.now()
    summary = key_summary(project, now=now)
    paginator = _Paginator(
        filtered_keys(project, params, now=now).select_related("created_by"),
        PAGE_SIZE,
        count=None if params.is_filtered else summary.total,
    )
    page = paginator.get_page(params.page)
    rows = [
        KeyRow(key=key, status=str(key.status(now)), flags=key_flags(key, project, now))
        for key in page.object_list
    ]
    return KeyList(page=page, rows=rows, summary=summary, params=params)


class _Paginator(Paginator):
    """A Paginator told its count when the caller already knows it."""

    def __init__(self, object_list: QuerySet[APIKey], per_page: int, *, count: int | None):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        if self._known_count is not None:
            return self._known_count
        return super().count


def key_row(project: Project, key_id: str, *, now: datetime | None = None) -> KeyRow:
    now = now or timezone.now()
    key = _with_successor(APIKey.objects.select_related("created_by")).get(
        project=project, key_id=key_id
    )
    return KeyRow(key=key, status=str(key.status(now)), flags=key_flags(key, project, now))
