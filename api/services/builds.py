"""Deleting a build whose upload is over, and its stored file."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from api.models import Build
from api.storage import remove_build_files

logger = logging.getLogger("api.services")


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
