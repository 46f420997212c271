"""The public endpoints that expose leaked keys (SPEC §11)."""

from __future__ import annotations

from typing import Any

from api.openapi.components import (
    BAD_INPUT,
    BAD_JSON_BODY,
    envelope,
    error_answer,
    header,
    json_answer,
    operation,
)
from apikeys.exposure.views import (
    MAX_CREDENTIAL_LENGTH,
    MAX_REVOKE_CREDENTIALS,
    MAX_SCANNING_TOKENS,
)


def exposure_paths() -> dict[str, Any]:
    """The public endpoints that expose leaked keys (apikeys.exposure, SPEC §11)."""
    string = {"type": "string"}
    retry = {"Retry-After": header("Seconds to wait.", {"type": "integer"})}
    return {
        "/secret-scanning/github": {
            "post": operation(
                tag="exposure",
                summary="GitHub secret scanning: expose the keys GitHub found in public code",
                permission=None,
                public=True,
                description=(
                    "Authenticated by GitHub's signature: `Github-Public-Key-Signature` (base64 "
                    "ASN.1 DER ECDSA P-256 SHA-256 over the raw body) by the key named in "
                    "`Github-Public-Key-Identifier`, one of GitHub's published keys. Every "
                    "token that is a key of ours (right secret) is exposed: refused from now "
                    "on, for good. The answer labels each token; it is a JSON array, as GitHub "
                    "expects, not the usual envelope. Repeating a report changes nothing."
                ),
                parameters=[
                    {
                        "name": "Github-Public-Key-Identifier",
                        "in": "header",
                        "required": True,
                        "schema": string,
                        "description": "Which of GitHub's public keys signed the body.",
                    },
                    {
                        "name": "Github-Public-Key-Signature",
                        "in": "header",
                        "required": True,
                        "schema": string,
                        "description": "Base64 of the DER ECDSA signature of the raw body.",
                    },
                ],
                body={
                    "type": "array",
                    "maxItems": MAX_SCANNING_TOKENS,
                    "items": {
                        "type": "object",
                        "required": ["token", "type"],
                        "properties": {
                            "token": {"type": "string", "minLength": 1},
                            "type": {"type": "string", "minLength": 1},
                            "url": string,
                            "source": string,
                        },
                    },
                },
                responses={
                    "200": json_answer(
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["token_hash", "token_type", "label"],
                                "properties": {
                                    "token_hash": {
                                        "type": "string",
                                        "pattern": "^[0-9a-f]{64}$",
                                        "description": "SHA-256 (hex) of the token.",
                                    },
                                    "token_type": string,
                                    "label": {
                                        "type": "string",
                                        "enum": ["true_positive", "false_positive"],
                                    },
                                },
                            },
                        },
                        "One label per token, in order.",
                    ),
                    "400": BAD_INPUT,
                    "401": error_answer(
                        "Unsigned, badly signed, an unknown key identifier, or too large a "
                        "body: nothing changed.",
                        ["INVALID_SIGNATURE"],
                    ),
                },
            ),
        },
        "/credentials/revoke": {
            "post": operation(
                tag="exposure",
                summary="Revoke credentials you found: every live key among them is exposed",
                permission=None,
                public=True,
                description=(
                    "Always 202 with the number received, whatever matched, so it tells "
                    "nothing about which keys exist. Rate limited per client IP (IPv6 per /64)."
                ),
                body={
                    "type": "object",
                    "required": ["credentials"],
                    "properties": {
                        "credentials": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_REVOKE_CREDENTIALS,
                            "items": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_CREDENTIAL_LENGTH,
                            },
                        }
                    },
                },
                responses={
                    "202": json_answer(
                        envelope(
                            {
                                "type": "object",
                                "required": ["received_count"],
                                "properties": {"received_count": {"type": "integer"}},
                            }
                        ),
                        "Received.",
                    ),
                    "400": BAD_INPUT,
                    "413": BAD_JSON_BODY,
                    "429": error_answer(
                        "Too many revocation requests from this client IP.",
                        ["RATE_LIMITED"],
                        retry,
                    ),
                },
            ),
        },
    }
