"""Failed sign-ins, counted per username and client and per client (SPEC §10).

Guessing passwords at the sign-in page is cheap for an attacker and expensive
for us: every attempt runs the password hasher (argon2), which took the API's
valid-key p50 from 7 ms to 877 ms under four guessing threads. So failures are
counted in the shared cache, per (username, client) and per client, and past
either limit (``APIKEYS_SIGNIN_USER_FAILURES``, ``APIKEYS_SIGNIN_CLIENT_FAILURES``
per ``APIKEYS_SIGNIN_WINDOW``: default 5 and 50 per 15 minutes) :func:`throttled` answers the
sign-in page with 429 and the time to try again *before* the view runs: no
form is validated, no backend is asked, no hasher runs.

* A client is :func:`apikeys.guard.clientip.rate_limit_identity`: the address
  behind ``APIKEYS_TRUSTED_PROXY_COUNT`` proxies, canonical, IPv6 by its /64
  (one host hands itself a fresh address of its /64 per request for free).
* The per-username limit is per client too, so an attacker cannot lock a real
  user out from elsewhere by failing on purpose with their name; the per-client
  limit stops one client trying many usernames.
* A successful sign-in forgets that username's failures from that client only:
  never the client's total (an attacker with one valid account could otherwise
  reset it between guesses) and never another username's.
* Counting is in :data:`apikeys.guard.sharedcache.shared_cache`: with the cache
  down or hung, the counts live in each process's memory (weaker, never
  absent) and sign-in keeps working; one warning a minute says so.
* Usernames are counted by a keyed digest of their case-folded form: one name
  in any case is one name, and the cache holds no usernames.

Why not django-axes (made for this; we looked at 8.x): its one failure limit
(``AXES_FAILURE_LIMIT``) applies to every lockout parameter, so "5 per username
and IP, 50 per IP" cannot be said; and its cache handler lets a cache error
through, so a Redis outage would be a 500 at sign-in, not the degraded counting
above. Its lockout check (a backend, first in ``AUTHENTICATION_BACKENDS``) and
client-IP callable would have done. What remains is this small module.

Counting listens to Django's ``user_login_failed`` and ``user_logged_in``
signals, so every sign-in form that calls ``authenticate(request, ...)`` is
counted (the dashboard's and the Django admin's); the lockout answers wherever
a login view is wrapped in :func:`throttled` (both are, in the site's URLconf).
"""

from __future__ import annotations

import functools
import logging
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.crypto import salted_hmac

from apikeys.conf import apikeys_settings
from apikeys.guard.clientip import rate_limit_identity
from apikeys.guard.sharedcache import shared_cache

logger = logging.getLogger("apikeys.security")

_PREFIX = "apikeys:signin"
TEMPLATE = "apikeys/signin_throttled.html"


def _now() -> float:
    """Injectable clock for tests."""
    return time.time()


@dataclass(frozen=True)
class Lockout:
    until: float  # Unix time the sign-in page opens again

    @property
    def retry_after(self) -> int:
        """Whole seconds from now, at least 1 (the Retry-After header)."""
        return max(1, math.ceil(self.until - _now()))

    @property
    def until_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.until, tz=UTC)


def _username_digest(username: str) -> str:
    folded = unicodedata.normalize("NFKC", username).casefold()
    return salted_hmac(_PREFIX, folded, algorithm="sha256").hexdigest()[:32]


def _counters(request: HttpRequest, username: str | None) -> list[tuple[str, int]]:
    """(cache key, limit) for each count this attempt belongs to; a limit <= 0 is off."""
    client = rate_limit_identity(request)
    counters = [(f"{_PREFIX}:client:{client}", apikeys_settings.SIGNIN_CLIENT_FAILURES)]
    if username:
        counters.append(
            (
                f"{_PREFIX}:user:{_username_digest(username)}:{client}",
                apikeys_settings.SIGNIN_USER_FAILURES,
            )
        )
    return [(key, limit) for key, limit in counters if limit > 0]


def locked_out(request: HttpRequest, username: str | None = None) -> Lockout | None:
    """The lockout this client (and, when given, this username from it) is under, if any."""
    locks = [f"{key}:locked" for key, _ in _counters(request, username)]
    if not locks:
        return None
    until = max((float(value) for value in shared_cache.get_many(locks).values()), default=0.0)
    return Lockout(until) if until > _now() else None


def record_failure(request: HttpRequest, username: str | None) -> None:
    window = max(1, int(apikeys_settings.SIGNIN_WINDOW))
    for key, limit in _counters(request, username):
        failures = shared_cache.incr(key, timeout=window)
        if failures >= limit:
            until = _now() + window
            if shared_cache.add(f"{key}:locked", until, timeout=window):
                shared_cache.delete(key)  # the count starts again once the lockout ends
                logger.warning(
                    "Sign-in locked for %d s after %d failures (%s from %s).",
                    window,
                    failures,
                    "one username" if ":user:" in key else "any username",
                    rate_limit_identity(request),
                )


def record_success(request: HttpRequest, username: str) -> None:
    """Forget this username's failures from this client; nothing else (see above)."""
    for key, _ in _counters(request, username):
        if ":user:" in key:
            shared_cache.delete(key)


@receiver(user_login_failed, dispatch_uid="apikeys.dashboard.throttle.failed")
def _on_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:  # authenticate() called outside a request: nothing to count by
        return
    username = credentials.get("username")
    record_failure(request, username if isinstance(username, str) else None)


@receiver(user_logged_in, dispatch_uid="apikeys.dashboard.throttle.success")
def _on_success(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None:
        record_success(request, user.get_username())


def throttled(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap a login view: a client or username past its limit gets the 429 page instead.

    A GET is refused only for a client locked out whatever the username; a POST also
    for the username it names. The wrapped view never runs then, so neither does the
    password hasher.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        username = request.POST.get("username") if request.method == "POST" else None
        lockout = locked_out(request, username)
        if lockout is None:
            return view(request, *args, **kwargs)
        response = TemplateResponse(
            request,
            TEMPLATE,
            {
                "retry_after": lockout.retry_after,
                "retry_minutes": math.ceil(lockout.retry_after / 60),
                "until": lockout.until_datetime,
                "login_url": request.path,
            },
            status=429,
        )
        response["Retry-After"] = str(lockout.retry_after)
        return response.render()

    return wrapper
