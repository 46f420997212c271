"""URLs of the guarded API (SPEC §4), no trailing slashes, as nunu.ai's.

Every view here declares who may call it (apikeys.decorators). Ids are taken
as plain path segments and parsed by the view, so a malformed id answers the
same 404 NOT_FOUND as an unknown one, after the same permission check.
Fixed paths (``runs/stop``, ``builds/upload…``) come before the id routes.
"""

from django.urls import path

from .views import builds, runs

app_name = "api"

urlpatterns = [
    # Runs
    path("v1/runs", runs.runs, name="runs"),
    path("v1/runs/stop", runs.runs_stop, name="runs-stop"),
    path("v1/runs/<str:run_id>", runs.run_detail, name="run-detail"),
    path("v1/runs/<str:run_id>/bugs", runs.run_bugs, name="run-bugs"),
    # Builds (the upload endpoints go above the id route)
    path("v1/builds", builds.builds, name="builds"),
    path("v1/builds/<str:build_id>", builds.build_detail, name="build-detail"),
]
