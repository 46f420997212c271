"""Keys put in a URL: found in the query string and exposed (SPEC §11).

A key in a URL is in every proxy's and server's log on the way, so a live one
is exposed (source ``url``) and the request refused as if it carried no key
(check 2 reads keys from the header only). Format and checksum decide first,
so junk costs nothing, and most requests have no query string at all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from django.http import HttpRequest

from apikeys import keys, services
from apikeys.conf import key_format
from apikeys.exposure.lookup import expose_reported
from apikeys.guard import ratelimit
from apikeys.guard.clientip import client_ip, rate_limit_identity
from apikeys.models import APIKey

# At most this many key-shaped values of one query string are looked up.
_MAX_URL_KEYS = 3


def keys_in_url(request: HttpRequest) -> list[str]:
    """Key-shaped strings anywhere in the query string (names or values, decoded),
    with a right checksum; most requests have no query string and cost one lookup."""
    query = request.META.get("QUERY_STRING", "")
    if not query:
        return []
    if "%" in query or "+" in query:
        query = unquote_plus(query, errors="replace")
    shape = key_format()
    if shape.lead not in query:
        return []
    found = []
    for match in _key_pattern(shape.lead).finditer(query):
        if shape.parse(match.group()) is not None and match.group() not in found:
            found.append(match.group())
            if len(found) >= _MAX_URL_KEYS:
                break
    return found


def expose_keys_in_url(request: HttpRequest, *, may_verify: Callable[[], bool]) -> bool:
    """Expose every live key in the request's query string (source ``url``, the path
    kept without the query); True when there was one.

    A wrong secret for a real id exposes nothing and counts as a failed attempt of
    the client, so a client cannot make the server run argon2 for free by adding
    key-shaped values to requests that otherwise succeed: argon2 runs only while
    ``may_verify()`` says so (the client is under its limit).
    """
    candidates = keys_in_url(request)
    if not candidates:
        return False
    reports = expose_reported(
        ((token, request.path) for token in candidates),
        source=APIKey.ExposureSource.URL,
        actor=services.Actor(ip=client_ip(request), label="api-request"),
        may_verify=may_verify,
    )
    for report in reports:
        if report.key is None:
            ratelimit.record_failure(rate_limit_identity(request))
    return any(report.key is not None for report in reports)


@functools.cache
def _key_pattern(prefix: str) -> re.Pattern[str]:
    tail = keys.SECRET_LENGTH + keys.CHECKSUM_LENGTH
    return re.compile(rf"{re.escape(prefix)}[0-9A-Za-z]{{{keys.ID_LENGTH}}}_[0-9A-Za-z]{{{tail}}}")
