"""python manage.py refresh_github_scanning_keys [--url URL] [--output PATH] [--timeout S]

Fetches GitHub's secret scanning public keys (``GET
https://api.github.com/meta/public_keys/secret_scanning``) and writes them to
APIKEYS_GITHUB_SCANNING_KEYS_FILE (or --output), which the scanning endpoint
reads. Run it from cron (daily is plenty: GitHub announces rotations ahead):

    17 3 * * *  cd /srv/app && .venv/bin/python manage.py refresh_github_scanning_keys

The new file replaces the old one only when it is GitHub's format with at least
one ECDSA P-256 key, and atomically (a temporary file renamed over it), so the
endpoint never reads half a file and a failed refresh keeps the keys it had.
Errors are one line on stderr with exit status 2.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from typing import Any

from apikeys.conf import apikeys_settings
from apikeys.exposure.github import GITHUB_META_URL, parse_public_keys
from apikeys.management.base import EXIT_CODES_HELP, BadInput
from apikeys.management.base import Command as CLICommand

MAX_RESPONSE_BYTES = 1024 * 1024


class Command(CLICommand):
    help = (
        "Fetch GitHub's secret scanning public keys and write them to "
        "APIKEYS_GITHUB_SCANNING_KEYS_FILE (or --output), replacing it only with a valid file."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.epilog = EXIT_CODES_HELP
        parser.add_argument("--url", default=GITHUB_META_URL, help="default: GitHub's meta API")
        parser.add_argument(
            "--output", metavar="PATH", help="default: APIKEYS_GITHUB_SCANNING_KEYS_FILE"
        )
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"] or apikeys_settings.GITHUB_SCANNING_KEYS_FILE
        if not output:
            raise BadInput(
                "No output file: set APIKEYS_GITHUB_SCANNING_KEYS_FILE or pass --output PATH."
            )
        url = options["url"]
        if not url.startswith(("https://", "http://")):
            raise BadInput(f"--url must be an http(s) URL, not {url!r}.")
        if options["timeout"] <= 0:
            raise BadInput("--timeout must be a positive number of seconds.")
        raw = _fetch(url, timeout=options["timeout"])
        try:
            document = json.loads(raw)
            found = parse_public_keys(document)
        except (ValueError, UnicodeDecodeError) as error:
            raise BadInput(f"{url} did not answer GitHub's public keys format: {error}.") from None
        _write_atomically(output, raw)
        self.info(
            f"Wrote {len(found)} GitHub secret scanning key{'s' if len(found) != 1 else ''} "
            f"({', '.join(sorted(found))}) to {output}."
        )


def _fetch(url: str, *, timeout: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, headers={"Accept": "application/json", "User-Agent": "apikeys-key-refresh"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise BadInput(f"{url} answered HTTP {error.code}; the keys file is unchanged.") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise BadInput(f"Could not fetch {url}: {reason}; the keys file is unchanged.") from None
    if len(raw) > MAX_RESPONSE_BYTES:
        raise BadInput(f"{url} answered more than 1 MiB; the keys file is unchanged.")
    return raw


def _write_atomically(path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".github-keys-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o644)  # public keys: readable by the app's user
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise BadInput(f"Could not write {path}: {error.strerror or error}.") from None
