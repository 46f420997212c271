"""The project's URLs plus two baseline views for `make bench`, outside /api/.

* ``/bench/drf``: djangorestframework-api-key's ``HasAPIKey`` on a trivial JSON view
  (case e), the usual way to guard a DRF API with keys.
* ``/bench/plain``: a plain Django JSON view without any authentication (case f),
  the ceiling for this machine, this middleware stack and gunicorn.
* ``/bench/key-read?id=<key id>``: the plain view after reading that key's row the
  way the guard does (``apikeys.guard.lookup.key_by_id``), no authentication (case
  f1), since SPEC §5 reads status, expiry and permissions fresh on every
  request: f1/f is what that read costs, h/f1 the guard beyond it (f1, like f,
  also runs the site's CSP and messages middleware, which /api/ skips).
* ``/api/v1/bench/trivial``: the same trivial view behind our guard (case h), so
  the guard and ``HasAPIKey`` are also compared on identical views: case (a)'s
  view reads a real page of runs, which costs more than either guard.
* ``/bench/drf-adapter``: the same trivial DRF view behind our DRF adapter (case e2,
  SPEC §12: ``apikeys.contrib.drf.APIKeyAuthentication`` + ``HasAPIKeyPermission``
  reading the view's ``required_permission``), outside /api/ so that the middleware
  does not guard it a second time. Absent while the adapter is not there.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.permissions import HasAPIKey

from api.permissions import READ_RUNS
from apikeys.decorators import require_permission
from bench.views import key_read, plain
from nunu_admin.urls import urlpatterns as project_urlpatterns


@api_view(["GET"])
@permission_classes([HasAPIKey])
def drf_has_api_key(request: Request) -> Response:
    return Response({"data": {"ok": True}})


@require_permission(READ_RUNS)
def guarded_trivial(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"data": {"ok": True}})


urlpatterns = [
    path("api/v1/bench/trivial", guarded_trivial),
    path("bench/drf", drf_has_api_key),
    path("bench/plain", plain),
    path("bench/key-read", key_read),
    *project_urlpatterns,
]

try:
    from apikeys.contrib.drf import APIKeyAuthentication, HasAPIKeyPermission
except ImportError:  # bench.run says (e2) is skipped
    pass
else:

    class DRFAdapterTrivial(APIView):
        authentication_classes = [APIKeyAuthentication]
        permission_classes = [HasAPIKeyPermission]
        required_permission = READ_RUNS

        def get(self, request: Request) -> Response:
            return Response({"data": {"ok": True}})

    urlpatterns.insert(0, path("bench/drf-adapter", DRFAdapterTrivial.as_view()))
