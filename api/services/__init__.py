"""Every write the API views make: runs, builds and their uploads.

Keyword-only, scoped to one project; the views only parse the request, call
these, and render the answer.

    runs.py     start a run, stop runs
    builds.py   delete a build and its file
    uploads.py  initiate, receive a part, complete, cancel an upload
"""

from api.services.builds import BuildNotFound, BuildUploadInProgress, build_delete
from api.services.runs import NOT_FOUND, RUN_ALREADY_FINISHED, StopResult, run_create, runs_stop
from api.services.uploads import (
    UploadRequest,
    check_in_progress,
    upload_cancel,
    upload_complete,
    upload_initiate,
    upload_receive_part,
)

__all__ = [
    "NOT_FOUND",
    "RUN_ALREADY_FINISHED",
    "BuildNotFound",
    "BuildUploadInProgress",
    "StopResult",
    "UploadRequest",
    "build_delete",
    "check_in_progress",
    "run_create",
    "runs_stop",
    "upload_cancel",
    "upload_complete",
    "upload_initiate",
    "upload_receive_part",
]
