"""Every way the guard says no: :class:`Refusal`, and one constructor per answer of SPEC §4.

A check raises the Refusal its constructor makes; a front end turns it into its
answer (``apikeys.guard.decision.refuse`` for the middleware). Each message is
one sentence a person can act on, and none tells more than the caller may
know: a missing key gets the same hint about URLs whether or not a key in its
URL was live, and every kind of invalid key gets the same answer.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apikeys.conf import apikeys_settings
from apikeys.guard import ratelimit
from apikeys.guard.headers import expiry_headers, www_authenticate
from apikeys.models import APIKey

# Query parameters a client might put a key in by mistake: we never read them, but say so.
_KEY_QUERY_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "x-api-key", "key", "token"})


class Refusal(Exception):
    """The one way a check says no; :func:`apikeys.guard.decision.refuse` answers it."""

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


def https_required() -> Refusal:
    return Refusal(
        403,
        "HTTPS_REQUIRED",
        "This API is served over HTTPS only; send the request to the https:// URL "
        "and treat the key you sent in clear as exposed.",
    )


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


def invalid_key() -> Refusal:
    return Refusal(
        401,
        "INVALID_API_KEY",
        "The API key is not valid; check that it was copied whole, or create a new one.",
        headers={"WWW-Authenticate": www_authenticate()},
    )


def expired(key: APIKey) -> Refusal:
    details: dict[str, Any] = {"key_id": key.key_id}
    if key.expires_at is not None:
        details["expired_at"] = key.expires_at.isoformat()
    return Refusal(
        403,
        "EXPIRED_API_KEY",
        "This API key has expired; rotate it in the dashboard and use its successor.",
        details=details,
        key=key,
    )


def disabled(key: APIKey) -> Refusal:
    # exposed_at is read only here, on a refusal: the accepted path reads one row
    # of the guard's columns and nothing more.
    if key.exposed_at is not None:
        return Refusal(
            403,
            "DISABLED_API_KEY",
            "This API key was reported as exposed and is disabled for good; ask a "
            "project admin for a new key (its rotated successor, if it has one), and "
            "remove it from wherever it leaked.",
            details={"key_id": key.key_id, "reason": "exposed"},
            key=key,
        )
    return Refusal(
        403,
        "DISABLED_API_KEY",
        "This API key has been deactivated; ask a project admin to reactivate it "
        "or to give you another key.",
        details={"key_id": key.key_id, "reason": "deactivated"},
        key=key,
    )


def ip_not_allowed(key: APIKey, ip: str | None) -> Refusal:
    shown = ip or "unknown"
    return Refusal(
        403,
        "IP_NOT_ALLOWED",
        f"This API key may be used only from the addresses in its IP allowlist, and "
        f"{shown} is not one of them; ask a project admin to add it, or call from an "
        "allowed address.",
        details={"key_id": key.key_id, "client_ip": ip},
        headers=expiry_headers(key),
        key=key,
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
    """429 for a secret the guard will not ask argon2 about until the total lets it."""
    return Refusal(
        429,
        "RATE_LIMITED",
        "Too many wrong API keys were sent to this service lately, so a key not used "
        f"recently cannot be checked for now; try again in {block.retry_after} seconds.",
        details={"retry_after": block.retry_after},
        headers={"Retry-After": str(block.retry_after)},
    )
