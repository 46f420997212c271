"""Every write the API views make: start runs, stop them, delete builds.

Keyword-only, one transaction each, scoped to one project; the views only
parse the request, call these, and render the answer.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from api.models import Build, Run
from api.storage import remove_build_files

logger = logging.getLogger("api.services")


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


class BuildNotFound(LookupError):
    pass


class BuildUploadInProgress(Exception):
    pass


@transaction.atomic
def build_delete(*, project_id: int, build_id: uuid.UUID) -> None:
    """Delete a build whose upload is over, and its stored file once the delete commits.

    A build still UPLOADING is refused: its parts belong to the upload, which
    DELETE /builds/upload cancels. READY, CANCELED and EXPIRED builds go.
    """
    build = Build.objects.select_for_update().filter(project_id=project_id, id=build_id).first()
    if build is None:
        raise BuildNotFound(build_id)
    if build.status == Build.Status.UPLOADING:
        raise BuildUploadInProgress(build_id)
    build.delete()
    # After the commit: a rolled-back delete must not lose the file. The build's
    # own storage backend removes it (the local folder, or the S3 bucket).
    transaction.on_commit(lambda: _delete_stored_files(build))


def _delete_stored_files(build: Build) -> None:
    try:
        remove_build_files(build)
    except Exception:
        # The row is gone either way; a leftover file is logged for the operator.
        logger.exception("Could not delete the stored files of deleted build %s.", build.id)


def _uuid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        return None
