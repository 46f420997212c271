"""The guard's one decision path: the checks of SPEC §4, in order, and one way to say no.

Every front end (the middleware, ``apikeys.contrib.drf``, ``apikeys.contrib.ninja``)
runs the same three steps and turns a :class:`Refusal` into its answer with
:func:`refuse`, so a key is judged the same wherever it is presented:

    require_https(request)                 # check 1
    key = authenticate_request(request)    # checks 2-6, and 8 on the slow paths
    authorize(key, permission)             # the permission check (7)
    ... the view runs ...
    stamp_expiry(response, key)            # X-Api-Key-Expires
    accept(request, key, permission)       # usage, the log line

A key that passed checks 1-5 is named in every answer's ``X-Api-Key-Expires``
when it has an expiry (as GitHub's ``GitHub-Authentication-Token-Expiration``):
the refusals of checks 6 and 7 carry it in their headers, and a front end
stamps its other answers with :func:`stamp_expiry`.

The rate limit (check 8) counts the refusals of checks 2-5, so it cannot simply
come last: while an IP is over its limit, a request from it that would be
refused as missing or invalid answers 429 instead, and a key is verified there
only if some process verified its secret recently (its keyed digest, in this
process's memo or the shared cache, and a constant-time compare); anything else
is answered 429 before argon2 runs, so a flood of guesses costs no argon2 at all.
A working integration behind the same address (a shared NAT or CI runner) keeps
working. The limit is read from the cache
only on that slow path, never for a recently verified key.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC
from typing import Any
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from apikeys import allowlist, keys, services
from apikeys.conf import apikeys_settings, key_format
from apikeys.exposure.lookup import expose_reported
from apikeys.guard import ratelimit, usage
from apikeys.guard.authentication import authenticate
from apikeys.guard.clientip import client_ip, rate_limit_identity
from apikeys.guard.errors import json_error
from apikeys.models import APIKey

request_log = logging.getLogger("apikeys.requests")


@functools.lru_cache(maxsize=8)
def _header_names(header: str) -> tuple[str, str]:
    """(the request.META name of the key header, the WWW-Authenticate challenge)."""
    return "HTTP_" + header.upper().replace("-", "_"), f'ApiKey header="{header}"'


def www_authenticate() -> str:
    """The challenge every 401 carries: which header the key goes in (APIKEYS_HEADER)."""
    return _header_names(apikeys_settings.HEADER)[1]


EXPIRES_HEADER = "X-Api-Key-Expires"
# Query parameters a client might put a key in by mistake: we never read them, but say so.
_KEY_QUERY_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "x-api-key", "key", "token"})
# A key put in a URL is in every proxy's and server's log on the way: exposed (SPEC §11).
# At most this many key-shaped values of one query string are looked up.
_MAX_URL_KEYS = 3
# Refusals that count towards an IP's limit: the key did not authenticate or cannot be used.
_COUNTED_CODES = frozenset(
    {"MISSING_API_KEY", "INVALID_API_KEY", "EXPIRED_API_KEY", "DISABLED_API_KEY"}
)


class Refusal(Exception):
    """The one way a check says no; :func:`refuse` turns it into the JSON answer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        key: APIKey | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        self.key = key


# --- The checks -------------------------------------------------------------


def require_https(request: HttpRequest) -> None:
    """Check 1: never a redirect, which would make the client send its key again in clear."""
    if apikeys_settings.REQUIRE_HTTPS and not request.is_secure():
        raise Refusal(
            403,
            "HTTPS_REQUIRED",
            "This API is served over HTTPS only; send the request to the https:// URL "
            "and treat the key you sent in clear as exposed.",
        )


def authenticate_request(request: HttpRequest) -> APIKey:
    """Checks 2-6: the key in the header, its secret, its expiry, its status and the
    client's address."""
    limit = _SlowPathLimit(request)
    if expose_keys_in_url(request, may_verify=limit.may_verify):
        # Check 2 reads keys from the header only; one sent in the URL is refused
        # even beside a header, and is now exposed.
        raise missing_key(request, in_url=True)
    raw = key_header(request)
    if not raw:
        limit.refuse_if_over()
        raise missing_key(request)
    key = authenticate(raw, may_verify=limit.may_verify)
    if key is None:
        limit.refuse_if_over()
        raise Refusal(
            401,
            "INVALID_API_KEY",
            "The API key is not valid; check that it was copied whole, or create a new one.",
            headers={"WWW-Authenticate": www_authenticate()},
        )
    check_usable(key)
    check_client_address(request, key)
    return key


def key_header(request: HttpRequest) -> str:
    """The raw value of the key header (APIKEYS_HEADER), or ""."""
    return request.META.get(_header_names(apikeys_settings.HEADER)[0]) or ""


def check_usable(key: APIKey) -> None:
    """Checks 4 and 5, on a key whose secret was verified."""
    if key.is_expired(timezone.now()):
        details: dict[str, Any] = {"key_id": key.key_id}
        if key.expires_at is not None:
            details["expired_at"] = key.expires_at.isoformat()
        raise Refusal(
            403,
            "EXPIRED_API_KEY",
            "This API key has expired; rotate it in the dashboard and use its successor.",
            details=details,
            key=key,
        )
    if not key.is_active:
        # exposed_at is read only here, on a refusal: the accepted path reads one row
        # of the guard's columns and nothing more.
        if key.exposed_at is not None:
            raise Refusal(
                403,
                "DISABLED_API_KEY",
                "This API key was reported as exposed and is disabled for good; ask a "
                "project admin for its rotated successor, and remove it from wherever it leaked.",
                details={"key_id": key.key_id, "reason": "exposed"},
                key=key,
            )
        raise Refusal(
            403,
            "DISABLED_API_KEY",
            "This API key has been deactivated; ask a project admin to reactivate it "
            "or to give you another key.",
            details={"key_id": key.key_id, "reason": "deactivated"},
            key=key,
        )


def check_client_address(request: HttpRequest, key: APIKey) -> None:
    """Check 6: a key with an IP allowlist is used only from an address in it. A key
    without one costs a truth test: the client's address is not even parsed."""
    if not key.allowed_ips:
        return
    ip = client_ip(request)
    if allowlist.allows(key.allowed_ips, ip):
        return
    shown = ip or "unknown"
    raise Refusal(
        403,
        "IP_NOT_ALLOWED",
        f"This API key may be used only from the addresses in its IP allowlist, and "
        f"{shown} is not one of them; ask a project admin to add it, or call from an "
        "allowed address.",
        details={"key_id": key.key_id, "client_ip": ip},
        headers=expiry_headers(key),
        key=key,
    )


def authorize(key: APIKey, permission: str | None, *, declared: bool = True) -> None:
    """The permission check. ``declared=False`` is a view that declares nothing:
    deny by default, so it is refused to every key (``manage.py check`` names it)."""
    if not declared:
        raise missing_permission(key, required=[])
    if permission is not None and permission not in key.permissions:
        raise missing_permission(key, required=[permission])


def missing_key(request: HttpRequest, *, in_url: bool = False) -> Refusal:
    hint = ""
    if in_url or _KEY_QUERY_PARAMETERS & {name.lower() for name in request.GET}:
        # The same words whether or not the key was live, so the answer tells nothing.
        hint = (
            " Keys in the URL are never read: URLs end up in logs and browser history, "
            "so a live key sent in one is disabled as exposed."
        )
    return Refusal(
        401,
        "MISSING_API_KEY",
        f"This endpoint needs an API key; send it in the {apikeys_settings.HEADER} header." + hint,
        headers={"WWW-Authenticate": www_authenticate()},
    )


def missing_permission(key: APIKey, *, required: list[str]) -> Refusal:
    if required:
        message = f"This API key lacks the permission this endpoint needs: {', '.join(required)}."
    else:
        message = "This endpoint declares no permission, so no API key may call it."
    return Refusal(
        403,
        "MISSING_PERMISSION",
        message,
        details={"key_id": key.key_id, "required_permissions": required},
        headers={"X-Accepted-Permissions": ", ".join(required), **expiry_headers(key)},
        key=key,
    )


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


def expose_keys_in_url(
    request: HttpRequest, *, may_verify: Callable[[], bool] | None = None
) -> bool:
    """Expose every live key in the request's query string (source ``url``, the path
    kept without the query); True when there was one.

    Format and checksum decide first, so junk costs nothing. A wrong secret for a
    real id exposes nothing and counts as a failed attempt of the client, so a
    client cannot make the server run argon2 for free by adding key-shaped values
    to requests that otherwise succeed: argon2 runs only while the client is under
    its limit (``may_verify``, the slow-path rate limit by default).
    """
    candidates = keys_in_url(request)
    if not candidates:
        return False
    if may_verify is None:
        may_verify = _SlowPathLimit(request).under
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


def expiry_headers(key: APIKey) -> dict[str, str]:
    """``{"X-Api-Key-Expires": "2026-12-31T23:59:59Z"}`` for a key with an expiry, else {}."""
    if key.expires_at is None:
        return {}
    return {EXPIRES_HEADER: key.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def stamp_expiry(response: HttpResponse, key: APIKey) -> None:
    """Name the key's expiry on an answer to a request whose key passed checks 1-5."""
    for name, value in expiry_headers(key).items():
        response[name] = value


class _SlowPathLimit:
    """Check 8, asked only on the slow paths (no key, an unverified secret): an
    accepted request never parses the client's address for the rate limit.

    Before argon2 runs (``may_verify``) it also asks the argon2 budget of all key ids
    together (:func:`apikeys.guard.ratelimit.total_budget_spent`): past it, the
    request is answered 429 as well, with the time the window ends."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.block: ratelimit.Block | None = None
        self.asked = False
        self.total_block: ratelimit.Block | None = None

    def under(self) -> bool:
        if not self.asked:
            self.asked = True
            self.block = ratelimit.blocked(rate_limit_identity(self.request))
        return self.block is None

    def may_verify(self) -> bool:
        if not self.under():
            return False
        self.total_block = ratelimit.total_budget_spent()
        return self.total_block is None

    def refuse_if_over(self) -> None:
        if not self.under():
            raise rate_limited(self.block)
        if self.total_block is not None:
            raise secret_checks_suspended(self.total_block)


def rate_limited(block: ratelimit.Block | None) -> Refusal:
    retry_after = block.retry_after if block is not None else 1
    return Refusal(
        429,
        "RATE_LIMITED",
        f"Too many failed attempts from this address; try again in {retry_after} seconds.",
        details={"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def secret_checks_suspended(block: ratelimit.Block) -> Refusal:
    """429 for a secret the guard will not ask argon2 about until the window ends."""
    return Refusal(
        429,
        "RATE_LIMITED",
        "Too many wrong API keys were sent to this service lately, so a key not used "
        f"recently cannot be checked for now; try again in {block.retry_after} seconds.",
        details={"retry_after": block.retry_after},
        headers={"Retry-After": str(block.retry_after)},
    )


# --- The answers ------------------------------------------------------------


def refuse(request: HttpRequest, refusal: Refusal) -> JsonResponse:
    """Count the refusal (per IP, and per key when the key is known), log it, answer it."""
    record_refusal(request, refusal)
    return json_error(
        request,
        refusal.status,
        refusal.code,
        refusal.message,
        details=refusal.details,
        headers=refusal.headers,
    )


def record_refusal(request: HttpRequest, refusal: Refusal) -> None:
    """What every refusal leaves behind, whichever front end answers it: the IP's count
    towards check 8, the key's refusal record, the log line."""
    if refusal.code in _COUNTED_CODES:
        ratelimit.record_failure(rate_limit_identity(request))
    if refusal.key is not None:
        usage.record_refusal(refusal.key, code=refusal.code, ip=client_ip(request))
    log(request, refusal.status, refusal.key.key_id if refusal.key else "", refusal.code)


def accept(request: HttpRequest, key: APIKey, permission: str | None, status: int | None) -> None:
    """The key's usage (in memory, written now and then) and the log line. The
    middleware calls it after the view answered; a front end whose framework renders
    the answer calls it when it grants access, with ``status`` None (the log says so)."""
    usage.record_use(key, permission=permission, ip=client_ip(request))
    log(request, status, key.key_id)


def address_of(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def log(request: HttpRequest, status: int | None, key_id: str, code: str = "") -> None:
    """One line per request: the request id, the key's public id, never the key itself."""
    level = logging.WARNING if code else logging.INFO
    if not request_log.isEnabledFor(level):
        return
    request_log.log(
        level,
        json.dumps(
            {
                "request_id": getattr(request, "request_id", ""),
                "method": request.method,
                "path": request.path,  # without the query string, where a key may have been put
                "status": status,
                "code": code,
                "key_id": key_id,
                "ip": address_of(request),
            }
        ),
    )
