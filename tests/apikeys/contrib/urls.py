"""The same views behind each front end: the middleware (plain Django), DRF and ninja,
each mounted under the API prefix (where the middleware also sees the request) and
outside it (the front end alone)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from ninja import NinjaAPI
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import OPERATE_RUNS, READ_RUNS
from apikeys.contrib.drf import APIKeyAuthentication, HasAPIKeyPermission
from apikeys.contrib.ninja import APIKeyAuth, install
from apikeys.decorators import public, require_permission


def echo(request, auth=None) -> dict:
    key = getattr(request, "api_key", None)
    return {
        "data": {
            "auth": getattr(auth, "key_id", None),
            "api_key": getattr(key, "key_id", None),
            "method": request.method,
        }
    }


@require_permission(READ_RUNS)
def plain_read(request: HttpRequest) -> JsonResponse:
    return JsonResponse(echo(request, request.api_key))


# --- Django REST framework ------------------------------------------------------


class DRFRead(APIView):
    authentication_classes = [APIKeyAuthentication]
    permission_classes = [HasAPIKeyPermission]
    required_permission = READ_RUNS

    def get(self, request):
        return Response(echo(request, request.auth))


class DRFRuns(APIView):
    authentication_classes = [APIKeyAuthentication]
    permission_classes = [HasAPIKeyPermission]
    required_permission = {"GET": READ_RUNS, "POST": OPERATE_RUNS}

    def get(self, request):
        return Response(echo(request, request.auth))

    def post(self, request):
        return Response(echo(request, request.auth), status=201)

    def put(self, request):  # served, but its mapping names no permission for PUT
        return Response(echo(request, request.auth))


class DRFPermissionOnly(APIView):
    """No APIKeyAuthentication: HasAPIKeyPermission authenticates by itself."""

    authentication_classes: list = []
    permission_classes = [HasAPIKeyPermission]
    required_permission = READ_RUNS

    def get(self, request):
        return Response(echo(request, getattr(request._request, "api_key", None)))


class DRFUserOnly(APIView):
    """APIKeyAuthentication with DRF's own IsAuthenticated: a key is not a user."""

    authentication_classes = [APIKeyAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"data": "reached"})


class DRFUnguarded(APIView):
    """A DRF view the guard's front end does not guard: under the prefix, deny by default."""

    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        return Response({"data": "reached"})


# --- django-ninja -----------------------------------------------------------------


def make_ninja(namespace: str) -> NinjaAPI:
    api = install(NinjaAPI(urls_namespace=namespace, docs_decorator=public))

    @api.get("/read", auth=APIKeyAuth(permission=READ_RUNS))
    def read(request):
        return echo(request, request.auth)

    @api.post("/runs", auth=APIKeyAuth(permission=OPERATE_RUNS))
    def start(request):
        return echo(request, request.auth)

    @api.get("/open")
    def unguarded(request):
        return {"data": "reached"}

    return api


ninja_under_prefix = make_ninja("contrib-api")
ninja_alone = make_ninja("contrib-alone")

urlpatterns = [
    path("api/plain/read", plain_read),
    path("api/drf/read", DRFRead.as_view()),
    path("drf/read", DRFRead.as_view()),
    path("api/drf/runs", DRFRuns.as_view()),
    path("drf/runs", DRFRuns.as_view()),
    path("api/drf/permission-only", DRFPermissionOnly.as_view()),
    path("api/drf/unguarded", DRFUnguarded.as_view()),
    path("drf/user-only", DRFUserOnly.as_view()),
    path("api/ninja/", ninja_under_prefix.urls),
    path("ninja/", ninja_alone.urls),
]
