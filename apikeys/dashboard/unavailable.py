"""The dashboard's answer while the database is down or hung: a 503 page in its own look.

Two hooks, because Django raises into two places:

* :class:`DatabaseUnavailableMiddleware` (``process_exception``) answers for a
  view or its template (sign-in, every page that reads a key or a member);
* :func:`server_error`, the site's ``handler500``, answers for what fails outside
  a view (a session saved as the response leaves) and hands anything else to
  Django's own 500 page.

The page is rendered without the request: the user, the session and the
messages all live in the database that is down. Under ``/api/`` the guard's
middleware answers first, with JSON (``apikeys.guard.errors.service_unavailable``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

from apikeys.conf import under_api
from apikeys.guard.errors import DATABASE_ERRORS, UNAVAILABLE_RETRY_AFTER, log_unavailable

TEMPLATE = "apikeys/503.html"


def unavailable_page(request: HttpRequest | None = None) -> HttpResponse:
    response = HttpResponse(
        render_to_string(TEMPLATE, {"retry_after": UNAVAILABLE_RETRY_AFTER}), status=503
    )
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if under_api(request.path):
            return None  # the guard's middleware answers JSON there
        if isinstance(exception, DATABASE_ERRORS):
            log_unavailable(exception)
            return unavailable_page(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the 503 page when the error is the database's, Django's 500 otherwise."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        log_unavailable(error)
        return unavailable_page(request)
    return defaults.server_error(request)
