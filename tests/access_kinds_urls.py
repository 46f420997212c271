"""URLs for the deny-by-default tests of the access kinds: a ``@key_required`` view, and
one whose declaration was set by hand to a kind the guard does not know."""

from django.http import JsonResponse
from django.urls import path

from apikeys.decorators import ACCESS_ATTRIBUTE, key_required


@key_required
def whoami(request):
    return JsonResponse({"data": {"key_id": request.api_key.key_id}})


def mystery(request):
    return JsonResponse({"data": "reached"})


setattr(mystery, ACCESS_ATTRIBUTE, ("everyone", None))

urlpatterns = [
    path("api/v1/whoami", whoami),
    path("api/v1/mystery", mystery),
]
