"""A URLconf whose view declares a permission code nobody registered (a typo)."""

from django.http import JsonResponse
from django.urls import path

from apikeys.decorators import require_permission, require_permissions_by_method


@require_permission("project:read-rnus")
def typo(request):
    return JsonResponse({})


@require_permissions_by_method({"GET": "project:read-runs", "POST": "project:launch"})
def by_method(request):
    return JsonResponse({})


urlpatterns = [path("api/v1/typo", typo), path("api/v1/by-method", by_method)]
