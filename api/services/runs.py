"""Runs: start one, stop many."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from api.models import Build, Run


def run_create(
    *,
    project_id: int,
    name: str,
    key_id: str,
    build: Build | None = None,
    tags: list[str] | None = None,
    now: datetime | None = None,
) -> Run:
    """A QUEUED run started by the API key ``key_id`` (its public id, never the key)."""
    return Run.objects.create(
        project_id=project_id,
        name=name,
        build=build,
        tags=list(tags or []),
        state=Run.State.QUEUED,
        initiator={"type": "api", "value": {"key_id": key_id}},
        initiator_key_id=key_id,
        created_at=now or timezone.now(),
    )


@dataclass(frozen=True)
class StopResult:
    run_id: str
    status: int  # 200 stopped, 404 no such run in the project, 409 already finished
    code: str | None = None
    state: str | None = None

    @property
    def stopped(self) -> bool:
        return self.status == 200


NOT_FOUND = "NOT_FOUND"
RUN_ALREADY_FINISHED = "RUN_ALREADY_FINISHED"


@transaction.atomic
def runs_stop(
    *, project_id: int, run_ids: list[str], now: datetime | None = None
) -> list[StopResult]:
    """Stop every QUEUED or RUNNING run named; one result per distinct id, in order.

    The runs are locked (SELECT ... FOR UPDATE) so a run finishing at the same
    moment is either stopped or reported finished, never both. An id that is
    not a UUID, unknown, or another project's is NOT_FOUND alike.
    """
    now = now or timezone.now()
    wanted: dict[str, uuid.UUID | None] = {}
    for raw in run_ids:
        if raw not in wanted:
            wanted[raw] = _uuid_or_none(raw)
    ids = {value for value in wanted.values() if value is not None}
    runs = {
        run.id: run
        for run in Run.objects.select_for_update()
        .filter(project_id=project_id, id__in=ids)
        .only("id", "state")
    }
    results: list[StopResult] = []
    to_stop: list[uuid.UUID] = []
    for raw, parsed in wanted.items():
        run = runs.get(parsed) if parsed is not None else None
        if run is None:
            results.append(StopResult(raw, 404, NOT_FOUND))
        elif run.state in Run.FINISHED_STATES:
            results.append(StopResult(raw, 409, RUN_ALREADY_FINISHED, run.state))
        else:
            to_stop.append(run.id)
            results.append(StopResult(raw, 200, None, Run.State.STOPPED))
    if to_stop:
        Run.objects.filter(id__in=to_stop).update(state=Run.State.STOPPED, finished_at=now)
    return results


def _uuid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        return None
