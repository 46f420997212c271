"""Page and cursor pagination for the API's lists, newest first.

Query parameters (as nunu.ai's API reads them):

    page        0-based page number (nunu counts pages from 0); default 0
    page_size   rows per page, 1 to 100; default 20 (``limit`` is accepted too)
    cursor      the ``next_cursor`` of a previous answer; continues after its
                last row. Send the same filters with it. Not with ``page``.

Every list answer carries

    "pagination": {
        "page": 0,              # null when the request used a cursor
        "page_size": 20,
        "total_count": 501,     # rows matching the filters
        "total_pages": 26,
        "has_more": true,       # rows exist after this page
        "next_cursor": "…"      # null when has_more is false
    }

A cursor names the last row shown, ``(created_at, id)``, so it stays exact
while new rows are inserted at the top (page numbers shift, cursors do not).
It is signed: a cursor the client altered, or one from another list, answers
400 VALIDATION_ERROR naming ``cursor`` instead of showing arbitrary rows.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_datetime

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Separates cursors from any other signed value in the project (and between lists).
_CURSOR_SALT = "api.pagination.cursor"


class PaginationError(ValueError):
    """Bad pagination parameters: ``fields`` maps each parameter to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(next(iter(fields.values())))
        self.fields = fields


@dataclass(frozen=True)
class PageRequest:
    page: int | None
    page_size: int
    after: tuple[datetime, uuid.UUID] | None


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    pagination: dict[str, Any]


def parse_page_request(query: QueryDict, *, list_name: str) -> PageRequest:
    """The page wanted by ``query``, or PaginationError naming every bad parameter."""
    errors: dict[str, str] = {}
    page_size = DEFAULT_PAGE_SIZE
    size_param = "page_size" if "page_size" in query else "limit"
    raw_size = query.get(size_param)
    if raw_size is not None:
        size = _int_or_none(raw_size)
        if size is None or not 1 <= size <= MAX_PAGE_SIZE:
            errors[size_param] = (
                f"Must be a whole number from 1 to {MAX_PAGE_SIZE}; got {raw_size!r}."
            )
        else:
            page_size = size

    raw_page = query.get("page")
    raw_cursor = query.get("cursor")
    page: int | None = 0
    after = None
    if raw_cursor is not None and raw_page is not None:
        errors["cursor"] = "Send either cursor or page, not both."
    elif raw_cursor is not None:
        page = None
        after = _decode_cursor(raw_cursor, list_name)
        if after is None:
            errors["cursor"] = (
                "This cursor is not one this list issued; "
                "start again without it and follow next_cursor."
            )
    elif raw_page is not None:
        number = _int_or_none(raw_page)
        if number is None or number < 0:
            errors["page"] = (
                f"Must be a whole number, 0 or more (pages count from 0); got {raw_page!r}."
            )
        else:
            page = number
    if errors:
        raise PaginationError(errors)
    return PageRequest(page=page, page_size=page_size, after=after)


def paginate(queryset: QuerySet[Any], wanted: PageRequest, *, list_name: str) -> Page:
    """One page of ``queryset`` (a model with ``created_at`` and ``id``), newest first.

    Two queries whatever the page: the count, and the rows (one more than
    asked for, to learn whether more follow).
    """
    total = queryset.count()
    ordered = queryset.order_by("-created_at", "-id")
    if wanted.after is not None:
        created_at, last_id = wanted.after
        ordered = ordered.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=last_id)
        )
    offset, limit = window(wanted)
    return page_of(list(ordered[offset : offset + limit]), wanted, total=total, list_name=list_name)


def window(wanted: PageRequest) -> tuple[int, int]:
    """(offset, limit) of the rows to fetch, newest first: after the cursor's row when
    there is one, else the page's; one row more than the page, to learn whether more follow."""
    offset = 0 if wanted.after is not None else (wanted.page or 0) * wanted.page_size
    return offset, wanted.page_size + 1


def page_of(rows: list[Any], wanted: PageRequest, *, total: int, list_name: str) -> Page:
    """The page answered from ``rows`` fetched through :func:`window` (each row has
    ``created_at`` and ``pk``) and the ``total`` of rows matching the filters."""
    has_more = len(rows) > wanted.page_size
    rows = rows[: wanted.page_size]
    next_cursor = _encode_cursor(rows[-1], list_name) if has_more else None
    return Page(
        rows=rows,
        pagination={
            "page": wanted.page,
            "page_size": wanted.page_size,
            "total_count": total,
            "total_pages": math.ceil(total / wanted.page_size),
            "has_more": has_more,
            "next_cursor": next_cursor,
        },
    )


def single_page(rows: list[Any]) -> dict[str, Any]:
    """The pagination of a list answered whole (a run's bugs, as nunu.ai does)."""
    return {
        "page": 0,
        "page_size": len(rows),
        "total_count": len(rows),
        "total_pages": 1 if rows else 0,
        "has_more": False,
        "next_cursor": None,
    }


def _encode_cursor(row: Any, list_name: str) -> str:
    created_at: datetime = row.created_at  # type: ignore[attr-defined]
    return signing.dumps(
        [created_at.isoformat(), row.pk.hex], salt=f"{_CURSOR_SALT}.{list_name}", compress=True
    )


def _decode_cursor(token: str, list_name: str) -> tuple[datetime, uuid.UUID] | None:
    """The position a cursor names, or None for anything this list did not sign."""
    try:
        created_raw, id_raw = signing.loads(token, salt=f"{_CURSOR_SALT}.{list_name}")
        created_at = parse_datetime(created_raw)
        last_id = uuid.UUID(hex=id_raw)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if created_at is None or created_at.tzinfo is None:
        return None
    return created_at, last_id


def _int_or_none(raw: str) -> int | None:
    raw = raw.strip()
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 9:
        return None
    return int(raw)
