"""The project's URLs plus two baseline views for `make bench`, outside /api/.

* ``/bench/drf``: djangorestframework-api-key's ``HasAPIKey`` on a trivial JSON view
  (case e), the usual way to guard a DRF API with keys.
* ``/bench/plain``: a plain Django JSON view without any authentication (case f),
  the ceiling for this machine, this middleware stack and gunicorn.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_api_key.permissions import HasAPIKey

from nunu_admin.urls import urlpatterns as project_urlpatterns


@api_view(["GET"])
@permission_classes([HasAPIKey])
def drf_has_api_key(request: Request) -> Response:
    return Response({"data": {"ok": True}})


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"data": {"ok": True}})


urlpatterns = [
    path("bench/drf", drf_has_api_key),
    path("bench/plain", plain),
    *project_urlpatterns,
]
