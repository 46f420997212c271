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
working. The limit is read from the cache only on that slow path, never for a
recently verified key.

The steps' parts live beside this module, each with one job: the answers'
words in :mod:`apikeys.guard.refusals`, the headers in :mod:`apikeys.guard.headers`,
keys put in URLs in :mod:`apikeys.guard.urlkeys`, the secret in
:mod:`apikeys.guard.authentication`, the key's row in :mod:`apikeys.guard.lookup`.
Their public names are importable from here too, so a front end needs this
module alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from apikeys import allowlist
from apikeys.conf import apikeys_settings
from apikeys.guard import ratelimit, urlkeys, usage
from apikeys.guard.authentication import authenticate
from apikeys.guard.clientip import client_ip, rate_limit_identity
from apikeys.guard.errors import json_error
from apikeys.guard.headers import (
    EXPIRES_HEADER,
    expiry_headers,
    key_header,
    stamp_expiry,
    www_authenticate,
)
from apikeys.guard.refusals import (
    Refusal,
    disabled,
    expired,
    https_required,
    invalid_key,
    ip_not_allowed,
    missing_key,
    missing_permission,
    rate_limited,
    secret_checks_suspended,
)
from apikeys.guard.urlkeys import keys_in_url
from apikeys.models import APIKey

__all__ = [
    "EXPIRES_HEADER",
    "Refusal",
    "accept",
    "address_of",
    "authenticate_request",
    "authorize",
    "check_client_address",
    "check_usable",
    "expiry_headers",
    "expose_keys_in_url",
    "key_header",
    "keys_in_url",
    "log",
    "missing_key",
    "missing_permission",
    "rate_limited",
    "record_refusal",
    "refuse",
    "require_https",
    "stamp_expiry",
    "www_authenticate",
]

request_log = logging.getLogger("apikeys.requests")

# Refusals that count towards an IP's limit: the key did not authenticate or cannot be used.
_COUNTED_CODES = frozenset(
    {"MISSING_API_KEY", "INVALID_API_KEY", "EXPIRED_API_KEY", "DISABLED_API_KEY"}
)


# --- The checks -------------------------------------------------------------


def require_https(request: HttpRequest) -> None:
    """Check 1: never a redirect, which would make the client send its key again in clear."""
    if apikeys_settings.REQUIRE_HTTPS and not request.is_secure():
        raise https_required()


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
    key = authenticate(raw, may_verify=limit.may_verify, ask_before_lookup=True)
    if key is None:
        limit.refuse_if_over()
        raise invalid_key()
    check_usable(key)
    check_client_address(request, key)
    return key


def check_usable(key: APIKey) -> None:
    """Checks 4 and 5, on a key whose secret was verified."""
    if key.is_expired(timezone.now()):
        raise expired(key)
    if not key.is_active:
        raise disabled(key)


def check_client_address(request: HttpRequest, key: APIKey) -> None:
    """Check 6: a key with an IP allowlist is used only from an address in it. A key
    without one costs a truth test: the client's address is not even parsed."""
    if not key.allowed_ips:
        return
    ip = client_ip(request)
    if not allowlist.allows(key.allowed_ips, ip):
        raise ip_not_allowed(key, ip)


def authorize(key: APIKey, permission: str | None, *, declared: bool = True) -> None:
    """The permission check. ``declared=False`` is a view that declares nothing:
    deny by default, so it is refused to every key (``manage.py check`` names it)."""
    if not declared:
        raise missing_permission(key, required=[])
    if permission is not None and permission not in key.permissions:
        raise missing_permission(key, required=[permission])


def expose_keys_in_url(
    request: HttpRequest, *, may_verify: Callable[[], bool] | None = None
) -> bool:
    """Expose every live key in the request's query string; True when there was one
    (:func:`apikeys.guard.urlkeys.expose_keys_in_url`). argon2 runs only while
    ``may_verify()`` says so: by default, while the client is under its limit."""
    if may_verify is None:
        may_verify = _SlowPathLimit(request).under
    return urlkeys.expose_keys_in_url(request, may_verify=may_verify)


class _SlowPathLimit:
    """Check 8, asked only on the slow paths (no key, an unverified secret): an
    accepted request never parses the client's address for the rate limit.

    Before argon2 runs (``may_verify``) it asks the argon2 budget of all key ids
    together first (:func:`apikeys.guard.ratelimit.total_budget_spent`, which a
    process remembers once spent): past it, the request is answered 429 with the
    time the limit lets it be tried, and neither the client's address nor its limit is looked
    at, so a flood past the total costs no cache read of its own."""

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
        self.total_block = ratelimit.total_budget_spent()
        if self.total_block is not None:
            return False
        return self.under()

    def refuse_if_over(self) -> None:
        if self.total_block is not None:
            raise secret_checks_suspended(self.total_block)
        if not self.under():
            raise rate_limited(self.block)


# --- The answers ------------------------------------------------------------


def refuse(request: HttpRequest, refusal: Refusal) -> JsonResponse:
    """Count the refusal (per IP, and per key when the key is known), log it, answer it.

    Its one log line is ours (:func:`log`: request id, code, key id); the answer is
    marked logged so that Django's ``django.request`` does not add a second line
    for every 4xx, which during a flood of guesses would double the log."""
    record_refusal(request, refusal)
    response = json_error(
        request,
        refusal.status,
        refusal.code,
        refusal.message,
        details=refusal.details,
        headers=refusal.headers,
    )
    response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log's flag
    return response


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
