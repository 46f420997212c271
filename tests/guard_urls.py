"""A URLconf of dummy views for the guard's tests: one per kind of declaration."""

from django.core.exceptions import BadRequest
from django.http import Http404, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys.decorators import (
    authenticated_by,
    public,
    require_permission,
    require_permissions_by_method,
)


def _echo(request, **kwargs):
    key = getattr(request, "api_key", None)
    return JsonResponse(
        {
            "data": {
                "key_id": key.key_id if key else None,
                "project_id": key.project_id if key else None,
                "method": request.method,
            }
        }
    )


@require_permission(READ_RUNS)
@require_GET
def read_runs(request):
    return _echo(request)


@require_permissions_by_method({"GET": READ_RUNS, "POST": OPERATE_RUNS})
def runs(request):
    return _echo(request)


@require_permission(MANAGE_BUILD_STORAGE)
def builds(request):
    return _echo(request)


@require_permission(READ_RUNS)
def raises_404(request):
    raise Http404("no such run")


@require_permission(READ_RUNS)
def raises_400(request):
    raise BadRequest("bad")


@require_permission(READ_RUNS)
def crashes(request):
    raise RuntimeError("boom")


@public
def openapi(request):
    return _echo(request)


@authenticated_by("upload_id")
def upload_part(request):
    return _echo(request)


def undeclared(request):
    return _echo(request)


urlpatterns = [
    path("api/v1/read", read_runs),
    path("api/v1/runs", runs),
    path("api/v1/builds", builds),
    path("api/v1/missing", raises_404),
    path("api/v1/bad", raises_400),
    path("api/v1/crash", crashes),
    path("api/openapi.json", openapi),
    path("api/v1/upload-part", upload_part),
    path("api/v1/undeclared", undeclared),
    path("elsewhere/undeclared", undeclared),
]
