"""The headers the guard reads and writes besides X-Request-Id (SPEC §4, §11, §12).

* The key header (``APIKEYS_HEADER``, nunu's ``X-Api-Key``), read from ``request.META``.
* ``WWW-Authenticate: ApiKey header="X-Api-Key"`` on every 401: which header the key
  goes in.
* ``X-Api-Key-Expires: <ISO 8601 UTC>`` on every answer to a request whose key
  passed checks 1-5, when the key has an expiry (as GitHub's
  ``GitHub-Authentication-Token-Expiration``).
"""

from __future__ import annotations

import functools
from datetime import UTC

from django.http import HttpRequest, HttpResponse

from apikeys.conf import apikeys_settings
from apikeys.models import APIKey

EXPIRES_HEADER = "X-Api-Key-Expires"


@functools.lru_cache(maxsize=8)
def _header_names(header: str) -> tuple[str, str]:
    """(the request.META name of the key header, the WWW-Authenticate challenge)."""
    return "HTTP_" + header.upper().replace("-", "_"), f'ApiKey header="{header}"'


def key_header(request: HttpRequest) -> str:
    """The raw value of the key header (APIKEYS_HEADER), or ""."""
    return request.META.get(_header_names(apikeys_settings.HEADER)[0]) or ""


def www_authenticate() -> str:
    """The challenge every 401 carries: which header the key goes in (APIKEYS_HEADER)."""
    return _header_names(apikeys_settings.HEADER)[1]


def expiry_headers(key: APIKey) -> dict[str, str]:
    """``{"X-Api-Key-Expires": "2026-12-31T23:59:59Z"}`` for a key with an expiry, else {}."""
    if key.expires_at is None:
        return {}
    return {EXPIRES_HEADER: key.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def stamp_expiry(response: HttpResponse, key: APIKey) -> None:
    """Name the key's expiry on an answer to a request whose key passed checks 1-5."""
    for name, value in expiry_headers(key).items():
        response[name] = value
