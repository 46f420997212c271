"""Every read the API views make, scoped to one project, with the query count fixed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from api import pagination
from api.models import Bug, Build, Run
from api.pagination import Page, PageRequest
from apikeys import rows
from apikeys.models import APIKey
from apikeys.selectors import KeyActivity


def _with_bug_count(runs: QuerySet[Run]) -> QuerySet[Run]:
    # One run (GET /runs/{id}): the same columns as runs_page, through the ORM, which
    # is cheap enough for a single row. A correlated subquery rather than JOIN +
    # GROUP BY, as in runs_page.
    counts = (
        Bug.objects.filter(run=OuterRef("pk"))
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return runs.select_related("build").annotate(
        bug_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0)
    )


class BuildRef(NamedTuple):
    id: uuid.UUID
    name: str


class RunRow(NamedTuple):
    """A run of the list as the page query reads it: exactly what run_to_dict shows."""

    id: uuid.UUID
    name: str
    state: str
    result: str
    tags: list[str]
    initiator: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    build: BuildRef | None
    bug_count: int

    @property
    def pk(self) -> uuid.UUID:  # the cursor names a row by (created_at, pk)
        return self.id


# The Run columns of the page query, in RunRow's order; the build's id and name and
# the bug count follow.
_RUN_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "state",
    "result",
    "tags",
    "initiator",
    "created_at",
    "started_at",
    "finished_at",
    "build_id",
)


def runs_page(
    *,
    project_id: int,
    wanted: PageRequest,
    states: Iterable[str] = (),
    tag: str | None = None,
    created_after: datetime | None = None,
) -> Page:
    """The runs list (GET /runs): the project's runs matching the filters, one page.

    Two queries whatever the page size, written out rather than built with the
    ORM, and rows read as tuples rather than model instances: building and
    compiling the two queries and instantiating the page's runs cost about 1.7 ms
    per request, where running the queries costs 0.1 ms. Every value still goes
    through the model fields' own converters, so it is what the ORM would give.
    """
    connection = connections[router.db_for_read(Run)]
    where, params = _runs_where(connection, project_id, states, tag, created_after)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_table(Run)} r WHERE {where}", params)  # noqa: S608
        (total,) = cursor.fetchone()

        if wanted.after is not None:
            # The rows after the cursor's row in the list's order (api.pagination).
            last_created_at, last_id = wanted.after
            created = connection.ops.adapt_datetimefield_value(last_created_at)
            where += " AND (r.created_at < %s OR (r.created_at = %s AND r.id < %s))"
            params += [created, created, Run._meta.pk.get_db_prep_value(last_id, connection)]  # type: ignore[union-attr]
        offset, limit = pagination.window(wanted)
        converters = rows.converters(connection, Run, _RUN_COLUMNS)
        columns = ", ".join(f"r.{name}" for name in rows.column_names(converters))
        # The bug count as a correlated subquery (an index probe per row of the page).
        cursor.execute(
            f"SELECT {columns}, b.name,"  # noqa: S608
            f" (SELECT COUNT(*) FROM {_table(Bug)} g WHERE g.run_id = r.id)"
            f" FROM {_table(Run)} r LEFT OUTER JOIN {_table(Build)} b ON b.id = r.build_id"
            f" WHERE {where} ORDER BY r.created_at DESC, r.id DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        fetched = cursor.fetchall()

    runs = []
    for row in fetched:
        *values, build_id, build_name, bug_count = rows.convert(row, converters, connection)
        build = BuildRef(build_id, build_name) if build_id is not None else None
        runs.append(RunRow._make([*values, build, bug_count]))
    return pagination.page_of(runs, wanted, total=total, list_name="runs")


def _runs_where(
    connection: BaseDatabaseWrapper,
    project_id: int,
    states: Iterable[str],
    tag: str | None,
    created_after: datetime | None,
) -> tuple[str, list[Any]]:
    """The WHERE clause on ``r`` (the runs table) and its parameters; values are never
    interpolated, only placeholders."""
    clauses = ["r.project_id = %s"]
    params: list[Any] = [project_id]
    states = list(states)
    if states:
        clauses.append(f"r.state IN ({', '.join(['%s'] * len(states))})")
        params += states
    if created_after is not None:
        clauses.append("r.created_at > %s")
        params.append(connection.ops.adapt_datetimefield_value(created_after))
    if tag is not None:
        # Runs whose ``tags`` list holds ``tag`` exactly (not a substring of a tag).
        if connection.vendor == "postgresql":
            clauses.append("r.tags @> %s::jsonb")
            params.append(json.dumps([tag]))
        else:
            # SQLite, the other database this project runs on (.ci/run), has no JSON
            # containment operator; json_each reads the list's elements.
            clauses.append("EXISTS (SELECT 1 FROM json_each(r.tags) WHERE json_each.value = %s)")
            params.append(tag)
    return " AND ".join(clauses), params


def _table(model: type[Model]) -> str:
    return connections[router.db_for_read(model)].ops.quote_name(model._meta.db_table)


def run_get(*, project_id: int, run_id: uuid.UUID) -> Run | None:
    return _with_bug_count(Run.objects.filter(project_id=project_id, id=run_id)).first()


def run_exists(*, project_id: int, run_id: uuid.UUID) -> bool:
    return Run.objects.filter(project_id=project_id, id=run_id).exists()


def bugs_of_run(*, run_id: uuid.UUID) -> list[Bug]:
    return list(Bug.objects.filter(run_id=run_id).order_by("created_at", "id"))


def builds_list(*, project_id: int, statuses: Iterable[str] = ()) -> QuerySet[Build]:
    builds = Build.objects.filter(project_id=project_id)
    statuses = list(statuses)
    if statuses:
        builds = builds.filter(status__in=statuses)
    return builds


def build_get(*, project_id: int, build_id: uuid.UUID) -> Build | None:
    return Build.objects.filter(project_id=project_id, id=build_id).first()


def runs_started_by(key: APIKey, limit: int = 20) -> KeyActivity:
    """The key page's activity panel (APIKEYS_KEY_ACTIVITY): the runs this key started."""
    runs = Run.objects.filter(project_id=key.project_id, initiator_key_id=key.key_id)
    return KeyActivity(
        title="Runs started with this key",
        template="api/key_runs.html",
        items=list(runs.order_by("-created_at")[:limit]),
        empty="This key has not started any run.",
    )
