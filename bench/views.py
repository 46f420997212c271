"""The baseline views of bench.urls that need neither DRF nor the guard (cases f and f1)."""

from django.http import Http404, HttpRequest, JsonResponse

from apikeys.guard.lookup import key_by_id


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"data": {"ok": True}})


def key_read(request: HttpRequest) -> JsonResponse:
    """(f) after the guard's one query for the key ``?id=`` names; 404 when there is none."""
    if key_by_id(request.GET.get("id", "")) is None:
        raise Http404("no such key")
    return JsonResponse({"data": {"ok": True}})
