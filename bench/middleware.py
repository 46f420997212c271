"""Case (b)'s stand-in for the guard: everything the middleware does but the checks.

bench/settings.py swaps this class in for ``apikeys.middleware.APIKeyMiddleware``
when ``BENCH_GUARD_OFF=1``, so the production middleware has no switch that
turns it off. The views get an unsaved key of ``BENCH_PROJECT_ID`` holding every
permission: they run exactly as guarded, but nothing is read or verified, and
the request id, CSRF exemption and JSON errors stay as they are.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apikeys.middleware import APIKeyMiddleware, as_json_error
from apikeys.models import APIKey
from apikeys.permissions import registry


def stand_in_key() -> APIKey:
    return APIKey(
        project_id=int(getattr(settings, "BENCH_PROJECT_ID", 0) or 0),
        key_id="bench0000000",
        permissions=list(registry.codes),
    )


class GuardOffMiddleware(APIKeyMiddleware):
    def _guarded(self, request: HttpRequest) -> HttpResponse:
        request.api_key = stand_in_key()  # type: ignore[attr-defined]
        return as_json_error(request, self.get_response(request))
