"""What a framework's front end (apikeys.contrib.drf, apikeys.contrib.ninja) calls: the
decision path's steps, with every way of saying no turned into one exception.

The middleware owns the /api/ envelope and calls :mod:`apikeys.guard.decision`
itself. A front end sits in a framework's authentication hook instead, with only the
request; it calls

    key = authenticate(request)                   # checks 1-6, and 8 on the slow paths
    grant(request, key, permission)               # check 7, then usage and the log line

and lets :class:`Refused` reach its framework, which answers with the refusal's
status, body and headers. A refusal is counted and logged once, here, before it is
raised (the IP's count towards check 8, the key's refusal record), exactly as the
middleware's; a database that cannot be reached is 503 SERVICE_UNAVAILABLE as there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, JsonResponse

from apikeys.guard import decision
from apikeys.guard.errors import (
    DATABASE_ERRORS,
    REQUEST_ID_HEADER,
    UNAVAILABLE_MESSAGE,
    UNAVAILABLE_RETRY_AFTER,
    error_body,
    incoming_request_id,
    log_unavailable,
)
from apikeys.guard.request import api_request
from apikeys.models import APIKey

T = TypeVar("T")


class Refused(Exception):
    """A refusal already counted and logged, with the answer of SPEC §4 to give."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(body["code"])
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def code(self) -> str:
        return str(self.body["code"])

    def response(self) -> JsonResponse:
        """The answer, marked logged: its line was written when it was refused, so
        Django's ``django.request`` adds none (DRF builds its own answers instead)."""
        response = JsonResponse(self.body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log's flag
        return response


def authenticate(request: HttpRequest) -> APIKey:
    """Checks 1-6 (and 8 on the slow paths): the usable key the request presents, also
    set as ``request.api_key`` as the middleware does; or :class:`Refused`."""

    def check() -> APIKey:
        decision.require_https(request)
        key = decision.authenticate_request(request)
        api_request(request).api_key = key
        return key

    return _guarded(request, check)


def grant(
    request: HttpRequest, key: APIKey, permission: str | None, *, declared: bool = True
) -> None:
    """Check 7 for ``permission`` (``declared=False``: the view declares none, deny by
    default), then the key's usage and the log line; or :class:`Refused`."""

    def check() -> None:
        decision.authorize(key, permission, declared=declared)
        decision.accept(request, key, permission, None)

    _guarded(request, check)


def wants_key(request: HttpRequest) -> bool:
    """Whether the request presents a key at all (in the header, or wrongly in the URL),
    for a front end that lets other authentication schemes try when it does not."""
    return bool(decision.key_header(request)) or bool(decision.keys_in_url(request))


def _guarded(request: HttpRequest, check: Callable[[], T]) -> T:
    if not getattr(request, "request_id", ""):
        api_request(request).request_id = incoming_request_id(request)
    try:
        try:
            return check()
        except decision.Refusal as refusal:
            decision.record_refusal(request, refusal)
            raise Refused(
                refusal.status,
                error_body(request, refusal.code, refusal.message, refusal.details),
                {**refusal.headers, REQUEST_ID_HEADER: api_request(request).request_id},
            ) from None
    except DATABASE_ERRORS as error:  # the guard's own queries: 503, never a 500
        log_unavailable(error)
        raise Refused(
            503,
            error_body(
                request,
                "SERVICE_UNAVAILABLE",
                UNAVAILABLE_MESSAGE,
                {"retry_after": UNAVAILABLE_RETRY_AFTER},
            ),
            {
                "Retry-After": str(UNAVAILABLE_RETRY_AFTER),
                REQUEST_ID_HEADER: api_request(request).request_id,
            },
        ) from None
