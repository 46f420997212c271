"""GitHub secret scanning: is a report really from GitHub? (its partner programme)

GitHub signs each report with ECDSA P-256 over SHA-256 of the raw body and
names the key it used: ``Github-Public-Key-Identifier`` and
``Github-Public-Key-Signature`` (base64 of the ASN.1 DER signature). Its public
keys are published at ``GITHUB_META_URL`` as ``{"public_keys":
[{"key_identifier", "key" (PEM), "is_current"}]}``; a deployment keeps a copy in
the file ``APIKEYS_GITHUB_SCANNING_KEYS_FILE`` (``manage.py
refresh_github_scanning_keys`` writes it), so verifying a report needs no
outbound request. Every key in the file is accepted, current or not: GitHub
signs with a retiring key for a while after rotating.

Threat: the endpoint is public and its reports disable keys, so anything that
is not a valid signature by a listed key is one plain "no" — a missing header,
bad base64, a malformed signature, an unknown identifier, a key of another
curve, a file that is missing, unreadable or malformed.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apikeys.conf import apikeys_settings

logger = logging.getLogger("apikeys.security")

GITHUB_META_URL = "https://api.github.com/meta/public_keys/secret_scanning"
IDENTIFIER_HEADER = "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER"
SIGNATURE_HEADER = "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE"
# A DER ECDSA P-256 signature is at most 72 bytes; its base64, at most 96 characters.
_MAX_SIGNATURE_CHARS = 200
_MAX_KEYS_FILE_BYTES = 1024 * 1024


class KeysFileError(ValueError):
    """The keys file is not GitHub's format; the message says what is wrong."""


def parse_public_keys(document: Any) -> dict[str, ec.EllipticCurvePublicKey]:
    """identifier → P-256 public key, from GitHub's JSON document (already decoded).

    Raises KeysFileError for anything else, naming the first problem.
    """
    if not isinstance(document, dict) or not isinstance(document.get("public_keys"), list):
        raise KeysFileError('expected {"public_keys": [...]}')
    found: dict[str, ec.EllipticCurvePublicKey] = {}
    for number, entry in enumerate(document["public_keys"], start=1):
        if not isinstance(entry, dict):
            raise KeysFileError(f"public key {number} is not an object")
        identifier, pem = entry.get("key_identifier"), entry.get("key")
        if not isinstance(identifier, str) or not identifier:
            raise KeysFileError(f"public key {number} has no key_identifier")
        if not isinstance(pem, str):
            raise KeysFileError(f"public key {identifier!r} has no PEM key")
        try:
            key = serialization.load_pem_public_key(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError, TypeError):
            raise KeysFileError(f"public key {identifier!r} is not a PEM public key") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise KeysFileError(f"public key {identifier!r} is not an ECDSA P-256 key")
        found[identifier] = key
    if not found:
        raise KeysFileError("the file lists no public key")
    return found


@dataclass(frozen=True)
class _Loaded:
    path: str
    stamp: tuple[int, int]  # (mtime_ns, size): a refreshed file is read again
    keys: dict[str, ec.EllipticCurvePublicKey]


_loaded: _Loaded | None = None
_lock = threading.Lock()


def public_keys() -> dict[str, ec.EllipticCurvePublicKey]:
    """The keys in APIKEYS_GITHUB_SCANNING_KEYS_FILE, read again when the file changes;
    empty (every report refused, with a log line) when it is unset, missing or broken."""
    global _loaded
    path = apikeys_settings.GITHUB_SCANNING_KEYS_FILE
    if not path:
        logger.warning("A secret scanning report arrived, but no keys file is configured.")
        return {}
    try:
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        loaded = _loaded
        if loaded is not None and loaded.path == path and loaded.stamp == stamp:
            return loaded.keys
        if stat.st_size > _MAX_KEYS_FILE_BYTES:
            raise KeysFileError("the file is larger than 1 MiB")
        with open(path, "rb") as file:
            keys = parse_public_keys(json.loads(file.read()))
    except (OSError, ValueError) as error:  # KeysFileError and JSON errors are ValueErrors
        logger.warning("Cannot use the secret scanning keys file %s: %s", path, error)
        return {}
    with _lock:
        _loaded = _Loaded(path, stamp, keys)
    return keys


def signature_valid(body: bytes, identifier: str | None, signature: str | None) -> bool:
    """Whether ``signature`` is a valid signature of ``body`` by the listed key ``identifier``."""
    if not identifier or not signature or len(signature) > _MAX_SIGNATURE_CHARS:
        return False
    key = public_keys().get(identifier)
    if key is None:
        return False
    try:
        der = base64.b64decode(signature, validate=True)
        key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, InvalidSignature, ValueError):
        return False
    return True
