"""The request a view under the API prefix receives, typed: what the guard sets on it.

Views guarded by apikeys take an :class:`APIRequest` instead of an
``HttpRequest``, so ``request.api_key`` and ``request.request_id`` are known
to the type checker rather than silenced with ``type: ignore``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from apikeys.models import APIKey


class APIRequest(HttpRequest):
    """Never instantiated: Django builds the request; this class names its attributes."""

    # The authenticated key; None only on public and self-authenticated views.
    api_key: APIKey | None
    # The X-Request-Id echoed on the answer and in every error's details.
    request_id: str
    # Set by the guard: a key is not a cookie, so CSRF has nothing to protect.
    _dont_enforce_csrf_checks: bool


def api_request(request: HttpRequest) -> APIRequest:
    """The same request object, seen as the guard's APIRequest."""
    return cast(APIRequest, request)
