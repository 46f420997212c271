"""Every read the API views make, scoped to one project, with the query count fixed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db import connections
from django.db.models import BooleanField, Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from .models import Bug, Build, Run


def _with_bug_count(runs: QuerySet[Run]) -> QuerySet[Run]:
    # A correlated subquery rather than JOIN + GROUP BY: the page query stays a
    # plain ordered scan of the project's runs, one query however many rows.
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


def runs_list(
    *,
    project_id: int,
    states: Iterable[str] = (),
    tag: str | None = None,
    created_after: datetime | None = None,
) -> QuerySet[Run]:
    runs = Run.objects.filter(project_id=project_id)
    states = list(states)
    if states:
        runs = runs.filter(state__in=states)
    if created_after is not None:
        runs = runs.filter(created_at__gt=created_after)
    if tag is not None:
        runs = _with_tag(runs, tag)
    return _with_bug_count(runs)


def _with_tag(runs: QuerySet[Run], tag: str) -> QuerySet[Run]:
    """Runs whose ``tags`` list holds ``tag`` exactly (not a substring of a tag)."""
    connection = connections[runs.db]
    if connection.features.supports_json_field_contains:
        return runs.filter(tags__contains=[tag])
    # SQLite has no JSON containment lookup; json_each reads the list's elements.
    table = connection.ops.quote_name(Run._meta.db_table)
    # The tag travels as a parameter; only the quoted table name is interpolated.
    has_tag = RawSQL(  # noqa: S611
        f"EXISTS (SELECT 1 FROM json_each({table}.tags) WHERE json_each.value = %s)",  # noqa: S608
        (tag,),
        output_field=BooleanField(),
    )
    return runs.alias(has_tag=has_tag).filter(has_tag=True)


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
