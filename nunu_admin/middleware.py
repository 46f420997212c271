"""The site's versions of middleware that cost on every /api/ request and do nothing there.

Every API request passes the whole MIDDLEWARE stack after the guard. Some of its
members spend time on an answer they leave unchanged:

* django-csp's middleware builds its policy string (twice: the enforced policy
  and the report-only one) on every response, and only then looks at
  ``EXCLUDE_URL_PREFIXES``, which excludes /api/ (JSON is never rendered as a
  page). :class:`CSPMiddleware` looks at the path first.
* Django's messages middleware builds its storage (a signed-cookie store and a
  session store) on every request. The API never shows a message: messages are
  for the next page a browser renders, and an API client renders none.
  :class:`MessageMiddleware` leaves API requests alone; the dashboard's
  requests are handled exactly as before.
* Django's session and authentication middleware read the session cookie and
  make ``request.user`` lazily on every request. An API request is
  authenticated by its key alone (the guard), so :class:`SessionMiddleware`
  and :class:`AuthenticationMiddleware` leave it without a session: a browser
  signed in to the dashboard that calls /api/ is not a signed-in user there,
  no API view can mistake it for one (``request.user`` is anonymous), and no
  API answer sets or refreshes a session cookie.

All are subclasses of the originals, so Django's checks that look for them
(``admin.E408``-``E410``) still find them.
"""

from __future__ import annotations

from csp import middleware as csp_middleware
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from apikeys.conf import under_api


def _excluded_prefixes(setting: str) -> tuple[str, ...]:
    policy = getattr(settings, setting, None) or {}
    return tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, returning at once on a path both policies exclude."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if _sends_no_policy(request.path_info, response):
            return response
        return super().process_response(request, response)


def _sends_no_policy(path: str, response: HttpResponseBase) -> bool:
    """Whether django-csp would leave ``response`` without either header."""
    if not path.startswith(_excluded_prefixes("CONTENT_SECURITY_POLICY")):
        return False
    # The report-only policy, when there is one, has prefixes of its own; a view's own
    # report-only policy (@csp_update(..., REPORT_ONLY=True)) is still sent.
    if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) is not None and not (
        path.startswith(_excluded_prefixes("CONTENT_SECURITY_POLICY_REPORT_ONLY"))
    ):
        return False
    return all(
        getattr(response, name, None) is None
        for name in ("_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
    )


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's messages middleware for every path but the API's (APIKEYS_API_PREFIX)."""

    # process_response is Django's own: it already passes over a request without storage.
    def process_request(self, request: HttpRequest) -> None:
        if under_api(request.path):
            return
        super().process_request(request)


class SessionMiddleware(sessions_middleware.SessionMiddleware):
    """Django's session middleware for every path but the API's: no session there."""

    def process_request(self, request: HttpRequest) -> None:
        if under_api(request.path):
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not hasattr(request, "session"):
            return response
        return super().process_response(request, response)


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's authentication middleware for every path but the API's, where the
    caller is a key (``request.api_key``) and ``request.user`` is anonymous."""

    def process_request(self, request: HttpRequest) -> None:
        if under_api(request.path):
            request.user = AnonymousUser()
            return
        super().process_request(request)
