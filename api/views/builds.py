"""Builds: list the project's builds and delete one whose upload is over.

    GET    /builds              manage-build-storage  ?status=&page=&page_size=&cursor=
    DELETE /builds/{buildId}    manage-build-storage  -> 204

The upload protocol (/builds/upload…) lives in its own module. DELETE refuses
a build whose upload is still in progress with 409 BUILD_UPLOAD_IN_PROGRESS:
cancel the upload with DELETE /api/v1/builds/upload instead, which also
removes its parts.
"""

from __future__ import annotations

from django.http import HttpResponse

from api import selectors, services
from api.models import Build
from api.pagination import PaginationError, paginate, parse_page_request
from api.permissions import MANAGE_BUILD_STORAGE
from api.serializers import build_to_dict
from api.views.base import (
    is_read,
    method_not_allowed,
    not_found,
    ok,
    parse_id,
    project_id_of,
    validation_error,
)
from apikeys.decorators import require_permission
from apikeys.guard.errors import json_error
from apikeys.guard.request import APIRequest

STATUSES = tuple(Build.Status.values)


@require_permission(MANAGE_BUILD_STORAGE)
def builds(request: APIRequest) -> HttpResponse:
    if not is_read(request):
        return method_not_allowed(request, ["GET"])
    errors: dict[str, list[str] | str] = {}
    statuses: list[str] = []
    raw_status = request.GET.get("status")
    if raw_status is not None and raw_status.strip().lower() != "all":
        for part in raw_status.split(","):
            status = part.strip().upper()
            if status not in STATUSES:
                errors["status"] = (
                    f"Unknown status {part.strip()!r}; use one of {', '.join(STATUSES)} or all."
                )
                break
            statuses.append(status)
    try:
        wanted = parse_page_request(request.GET, list_name="builds")
    except PaginationError as bad:
        errors.update(bad.fields)
    if errors:
        return validation_error(request, errors)
    queryset = selectors.builds_list(project_id=project_id_of(request), statuses=statuses)
    page = paginate(queryset, wanted, list_name="builds")
    return ok([build_to_dict(build) for build in page.rows], pagination=page.pagination)


@require_permission(MANAGE_BUILD_STORAGE)
def build_detail(request: APIRequest, build_id: str) -> HttpResponse:
    if request.method != "DELETE":
        return method_not_allowed(request, ["DELETE"])
    parsed = parse_id(build_id)
    if parsed is None:
        return not_found(request, "build")
    try:
        services.build_delete(project_id=project_id_of(request), build_id=parsed)
    except services.BuildNotFound:
        return not_found(request, "build")
    except services.BuildUploadInProgress:
        return json_error(
            request,
            409,
            "BUILD_UPLOAD_IN_PROGRESS",
            "This build is still uploading; cancel the upload with "
            "DELETE /api/v1/builds/upload?build_id=…&object_key=… instead.",
            {"build_id": str(parsed)},
        )
    return HttpResponse(status=204)
