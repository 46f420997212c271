"""api.selectors: the hand-written runs page returns exactly what the ORM returns.

``runs_page`` writes its two queries out (it pays in ``make bench``); these tests
hold it to an equivalent ORM query (``pagination.paginate`` over ``Run.objects``),
field by field, for every filter, page and cursor, on whichever database the
suite runs on (SQLite by default, PostgreSQL with DATABASE_URL).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import Count, Q
from django.http import QueryDict

from api import pagination, selectors
from api.models import Bug, Build, Run
from api.pagination import PageRequest

_BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_STATES = [Run.State.QUEUED, Run.State.RUNNING, Run.State.COMPLETED, Run.State.FAILED]
_TAGS: list[list[str]] = [[], ["smoke"], ["smoke", "nightly"], ["nightly"], ["smok"], ["é ✓"]]


@pytest.fixture
def runs(project, other_project) -> list[Run]:
    """Runs of every shape: with and without a build, tags and bugs, timestamps set or
    not, two runs created at the same instant (the id breaks the tie), and one run of
    another project that must never show."""
    builds = [
        Build.objects.create(
            project=project,
            name=f"build {n}",
            file_name="app.apk",
            file_size=10,
            platform="android",
        )
        for n in range(2)
    ]
    made = []
    for n in range(13):
        created = _BASE + timedelta(minutes=n // 2 * 7)  # pairs share a created_at
        started = created + timedelta(seconds=5) if n % 3 else None
        run = Run.objects.create(
            project=project,
            name=f"run {n}",
            state=_STATES[n % len(_STATES)],
            result=Run.Result.PASSED if n % 4 == 2 else "",
            build=builds[n % 3] if n % 3 < 2 else None,
            tags=_TAGS[n % len(_TAGS)],
            initiator={"type": "api", "value": {"key_id": f"k{n:011d}"}} if n % 2 else {},
            created_at=created,
            started_at=started,
            finished_at=started + timedelta(milliseconds=1500 + n) if started and n % 2 else None,
        )
        for b in range(n % 4):
            Bug.objects.create(run=run, title=f"bug {b}", severity=Bug.Severity.LOW)
        made.append(run)
    Run.objects.create(project=other_project, name="elsewhere", tags=["smoke"], created_at=_BASE)
    return made


def _orm_page(
    project_id: int,
    wanted: PageRequest,
    states: list[str] = (),  # type: ignore[assignment]
    tag: str | None = None,
    created_after: datetime | None = None,
) -> pagination.Page:
    """The same page through the ORM: model instances, the bug count by annotation."""
    queryset = Run.objects.filter(project_id=project_id).select_related("build")
    if states:
        queryset = queryset.filter(state__in=states)
    if created_after is not None:
        queryset = queryset.filter(created_at__gt=created_after)
    if tag is not None:
        # SQLite has no JSON containment lookup: the matching ids, chosen in Python.
        ids = [pk for pk, tags in queryset.values_list("pk", "tags") if tag in (tags or [])]
        queryset = queryset.filter(Q(pk__in=ids))
    queryset = queryset.annotate(bug_count=Count("bugs"))
    return pagination.paginate(queryset, wanted, list_name="runs")


def _fields(run: Any) -> dict[str, Any]:
    build = run.build
    return {
        "id": run.id,
        "name": run.name,
        "state": run.state,
        "result": run.result,
        "tags": run.tags,
        "initiator": run.initiator,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "build": (build.id, build.name) if build is not None else None,
        "bug_count": run.bug_count,
    }


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """The pagination with its cursor read back to the row it names: the signature
    carries the second it was made, so two equal cursors differ when a second ticks
    between them (that made this test fail in CI)."""
    cursor = answer["next_cursor"]
    if cursor is None:
        return answer
    query = QueryDict(mutable=True)
    query["cursor"] = cursor
    position = pagination.parse_page_request(query, list_name="runs").after
    assert position is not None
    return answer | {"next_cursor": position}


def _assert_same(wanted: PageRequest, **filters: Any) -> pagination.Page:
    project_id = filters.pop("project_id")
    hand = selectors.runs_page(project_id=project_id, wanted=wanted, **filters)
    orm = _orm_page(project_id, wanted, **filters)
    assert [_fields(row) for row in hand.rows] == [_fields(run) for run in orm.rows]
    assert _comparable(hand.pagination) == _comparable(orm.pagination)
    for row in hand.rows:  # the types too, not only equal values
        assert isinstance(row.id, uuid.UUID)
        assert row.created_at.tzinfo is not None
        assert isinstance(row.tags, list) and isinstance(row.initiator, dict)
    return hand


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [1, 3, 5, 20])
def test_every_page_equals_the_orm(project, runs, page_size):
    seen = []
    for page in range(0, 13 // page_size + 2):
        wanted = PageRequest(page=page, page_size=page_size, after=None)
        seen += [row.id for row in _assert_same(wanted, project_id=project.id).rows]
    assert sorted(seen) == sorted(run.id for run in runs)  # every run once, none of elsewhere


@pytest.mark.django_db
def test_following_cursors_equals_the_orm(project, runs):
    wanted = PageRequest(page=0, page_size=2, after=None)
    seen = []
    while True:
        page = _assert_same(wanted, project_id=project.id)
        seen += [row.id for row in page.rows]
        if not page.pagination["has_more"]:
            break
        last = page.rows[-1]
        wanted = PageRequest(page=None, page_size=2, after=(last.created_at, last.id))
    assert len(seen) == len(set(seen)) == len(runs)  # the tied pairs split across pages too


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [
        {"states": [Run.State.QUEUED]},
        {"states": [Run.State.RUNNING, Run.State.FAILED]},
        {"states": [Run.State.STOPPED]},  # matches nothing
        {"tag": "smoke"},  # not "smok", a prefix of it
        {"tag": "smok"},
        {"tag": "é ✓"},
        {"tag": "missing"},
        {"created_after": _BASE + timedelta(minutes=14)},
        {"states": [Run.State.COMPLETED, Run.State.QUEUED], "tag": "nightly"},
        {"created_after": _BASE, "tag": "smoke", "states": [Run.State.RUNNING]},
    ],
)
def test_filters_equal_the_orm(project, runs, filters):
    for page_size in (2, 20):
        page = _assert_same(
            PageRequest(page=0, page_size=page_size, after=None), project_id=project.id, **filters
        )
        if "tag" in filters:
            assert all(filters["tag"] in row.tags for row in page.rows)


@pytest.mark.django_db
def test_a_page_past_the_end_and_an_empty_project_equal_the_orm(project, other_project, runs):
    _assert_same(PageRequest(page=9, page_size=5, after=None), project_id=project.id)
    Run.objects.filter(project=other_project).delete()
    empty = _assert_same(PageRequest(page=0, page_size=5, after=None), project_id=other_project.id)
    assert empty.rows == [] and empty.pagination["total_count"] == 0
