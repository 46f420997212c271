"""URLs of the guarded API (SPEC §4), no trailing slashes, as nunu.ai's.

Every view here declares who may call it (apikeys.decorators). Ids are taken
as plain path segments and parsed by the view, so a malformed id answers the
same 404 NOT_FOUND as an unknown one, after the same permission check.
Fixed paths (``runs/stop``, ``builds/upload…``) come before the id routes.
"""

from django.urls import path

from api.views import builds, openapi, runs, uploads
from apikeys.exposure.urls import urlpatterns as exposure_urls
from apikeys.introspection import key_introspection

app_name = "api"

urlpatterns = [
    # The OpenAPI document of everything below (public).
    path("openapi.json", openapi.openapi_json, name="openapi"),
    # The presented key itself (any usable key, no permission)
    path("v1/key", key_introspection, name="key"),
    # Runs
    path("v1/runs", runs.runs, name="runs"),
    path("v1/runs/stop", runs.runs_stop, name="runs-stop"),
    path("v1/runs/<str:run_id>", runs.run_detail, name="run-detail"),
    path("v1/runs/<str:run_id>/bugs", runs.run_bugs, name="run-bugs"),
    # Builds (the upload endpoints go above the id route)
    path("v1/builds", builds.builds, name="builds"),
    path("v1/builds/upload", uploads.upload, name="build-upload"),
    path("v1/builds/upload/parts", uploads.upload_parts, name="build-upload-parts"),
    path("v1/builds/upload/complete", uploads.upload_complete, name="build-upload-complete"),
    path(
        "v1/builds/upload/<str:build_id>/<int:part_number>",
        uploads.upload_part,
        name="build-upload-part",
    ),
    path("v1/builds/<str:build_id>", builds.build_detail, name="build-detail"),
    # Leaked keys (apikeys.exposure, public): GitHub secret scanning and the revocation API.
    *exposure_urls,
]
