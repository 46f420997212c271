"""The two public endpoints that expose reported keys (SPEC §11).

``POST <api>/v1/secret-scanning/github``
    GitHub's secret scanning partner programme: a signed list of tokens GitHub
    found in public code. Answered with a label per token, as GitHub expects
    (a bare JSON array, not the ``{"data": ...}`` envelope: GitHub reads the array).
``POST <api>/v1/credentials/revoke``
    Anyone who found a key posts it here. Always 202 with the count, whatever
    matched, so it tells nothing about which keys exist.

Both are public (no API key) and CSRF-exempt (no cookie authenticates them).
Reports are named by the SHA-256 of the token in the audit log and the logs;
the token itself is never stored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apikeys import services
from apikeys.conf import apikeys_settings
from apikeys.decorators import public
from apikeys.exposure import github, throttle
from apikeys.exposure.lookup import VerificationBudget, expose_reported
from apikeys.guard.clientip import client_ip, rate_limit_identity
from apikeys.guard.errors import json_error, validation_error
from apikeys.models import APIKey

logger = logging.getLogger("apikeys.security")

MAX_SCANNING_TOKENS = 1000
MAX_REVOKE_CREDENTIALS = 100
# Longer strings are not keys (a key is 56 characters); refusing them bounds the body.
MAX_CREDENTIAL_LENGTH = 1000
MAX_URL_LENGTH = 2000

FieldErrors = dict[str, list[str] | str]


# --- GitHub secret scanning --------------------------------------------------


def _invalid_signature(request: HttpRequest) -> JsonResponse:
    return json_error(
        request,
        401,
        "INVALID_SIGNATURE",
        "The report is not signed by a GitHub secret scanning key this server knows; "
        "nothing was changed.",
    )


def _signed_body(request: HttpRequest) -> bytes | None:
    """The raw body when it is small enough and GitHub signed it; else None."""
    limit = apikeys_settings.GITHUB_SCANNING_MAX_BODY
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if declared > limit:
        return None  # refused unread
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    if len(body) > limit:
        return None
    identifier = request.META.get(github.IDENTIFIER_HEADER)
    signature = request.META.get(github.SIGNATURE_HEADER)
    return body if github.signature_valid(body, identifier, signature) else None


def _scanning_items(body: bytes) -> tuple[list[dict[str, str]] | None, FieldErrors]:
    """The report's tokens, or the field errors of a malformed body."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, {"body": ["The body is not JSON."]}
    if not isinstance(data, list):
        return None, {"body": ["Expected a JSON array of {token, type, url, source} objects."]}
    if len(data) > MAX_SCANNING_TOKENS:
        return None, {"body": [f"At most {MAX_SCANNING_TOKENS} tokens per report."]}
    items: list[dict[str, str]] = []
    errors: FieldErrors = {}
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            errors[f"{index}"] = ["Expected an object."]
            continue
        problems = []
        for field in ("token", "type"):
            if not isinstance(item.get(field), str) or not item[field]:
                problems.append(f"{field} must be a non-empty string.")
        for field in ("url", "source"):
            if field in item and item[field] is not None and not isinstance(item[field], str):
                problems.append(f"{field} must be a string.")
        if problems:
            errors[f"{index}"] = problems
            continue
        items.append(
            {
                "token": item["token"],
                "type": item["type"],
                "url": (item.get("url") or "")[:MAX_URL_LENGTH],
            }
        )
    return (None, errors) if errors else (items, {})


@csrf_exempt
@public
@require_POST
def github_secret_scanning(request: HttpRequest) -> JsonResponse:
    body = _signed_body(request)
    if body is None:
        return _invalid_signature(request)
    items, errors = _scanning_items(body)
    if items is None:
        return validation_error(request, errors)
    reports = expose_reported(
        ((item["token"], item["url"]) for item in items),
        source=APIKey.ExposureSource.GITHUB,
        actor=services.Actor(ip=client_ip(request), label="github-secret-scanning"),
        # A signed report is GitHub's (at most 1,000 tokens); argon2 for a key not
        # verified lately is still bounded per key id by the guard's budget.
        may_verify=VerificationBudget(None),
    )
    logger.info(
        "GitHub secret scanning reported %d tokens: %d keys of ours, %d newly exposed.",
        len(reports),
        sum(1 for r in reports if r.key is not None),
        sum(1 for r in reports if r.newly_exposed),
    )
    answer = [
        {
            "token_hash": report.token_hash,
            "token_type": item["type"],
            "label": "true_positive" if report.key is not None else "false_positive",
        }
        for item, report in zip(items, reports, strict=True)
    ]
    return JsonResponse(answer, safe=False, status=200)


# --- The revocation API ------------------------------------------------------


def _credentials(body: bytes) -> tuple[list[str] | None, FieldErrors]:
    try:
        data: Any = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None, {"body": ["The body is not JSON."]}
    if not isinstance(data, dict) or "credentials" not in data:
        return None, {"credentials": ['Expected {"credentials": ["...", ...]}.']}
    credentials = data["credentials"]
    if not isinstance(credentials, list):
        return None, {"credentials": ["Expected a list of strings."]}
    if not 1 <= len(credentials) <= MAX_REVOKE_CREDENTIALS:
        return None, {
            "credentials": [
                f"Send between 1 and {MAX_REVOKE_CREDENTIALS} credentials, not {len(credentials)}."
            ]
        }
    for index, credential in enumerate(credentials):
        if not isinstance(credential, str) or not credential:
            return None, {f"credentials.{index}": ["Expected a non-empty string."]}
        if len(credential) > MAX_CREDENTIAL_LENGTH:
            return None, {f"credentials.{index}": [f"At most {MAX_CREDENTIAL_LENGTH} characters."]}
    return credentials, {}


@csrf_exempt
@public
@require_POST
def credentials_revoke(request: HttpRequest) -> JsonResponse:
    retry_after = throttle.over_limit(
        "revoke",
        rate_limit_identity(request),
        limit=apikeys_settings.REVOCATION_RATE_LIMIT,
        window=apikeys_settings.REVOCATION_RATE_WINDOW,
    )
    if retry_after is not None:
        return json_error(
            request,
            429,
            "RATE_LIMITED",
            f"Too many revocation requests from this address; try again in {retry_after} seconds.",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
    credentials, errors = _credentials(request.body)
    if credentials is None:
        return validation_error(request, errors)
    expose_reported(
        ((credential, "") for credential in credentials),
        source=APIKey.ExposureSource.REVOCATION_API,
        actor=services.Actor(ip=client_ip(request), label="revocation-api"),
        may_verify=VerificationBudget(
            apikeys_settings.REVOCATION_MAX_VERIFICATIONS, within_total=True
        ),
    )
    return JsonResponse({"data": {"received_count": len(credentials)}}, status=202)
