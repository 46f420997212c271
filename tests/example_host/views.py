"""One resource, Acme's reports, guarded three ways (SPEC §12)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods
from ninja import NinjaAPI
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.contrib.drf import APIKeyAuthentication, HasAPIKeyPermission
from apikeys.contrib.ninja import APIKeyAuth, install
from apikeys.decorators import public, require_permissions_by_method
from tests.example_host.permissions import READ_REPORTS, WRITE_REPORTS

REPORTS = [{"id": 1, "title": "Quarterly"}]


def _answer(front_end: str, key, method: str) -> dict:
    return {"data": REPORTS, "front_end": front_end, "key_id": key.key_id, "method": method}


# 1. The middleware and a declaration.
@require_permissions_by_method({"GET": READ_REPORTS, "POST": WRITE_REPORTS})
@require_http_methods(["GET", "POST"])
def reports(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_answer("django", request.api_key, request.method or ""))


# 2. Django REST framework.
class ReportsView(APIView):
    authentication_classes = [APIKeyAuthentication]
    permission_classes = [HasAPIKeyPermission]
    required_permission = {"GET": READ_REPORTS, "POST": WRITE_REPORTS}

    def get(self, request: Request) -> Response:
        return Response(_answer("drf", request.auth, "GET"))

    def post(self, request: Request) -> Response:
        return Response(_answer("drf", request.auth, "POST"), status=201)


# 3. django-ninja; its OpenAPI document and docs are public.
api = install(NinjaAPI(urls_namespace="acme", docs_decorator=public))


@api.get("/reports", auth=APIKeyAuth(permission=READ_REPORTS))
def list_reports(request: HttpRequest) -> dict:
    return _answer("ninja", request.auth, "GET")


@api.post("/reports", auth=APIKeyAuth(permission=WRITE_REPORTS))
def file_report(request: HttpRequest) -> dict:
    return _answer("ninja", request.auth, "POST")
