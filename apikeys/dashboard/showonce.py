"""What the show-once page suggests trying with a new key: a call that key may make.

The secret is never on a command line there: the snippets read it from a prompt
(``read -rs``, ``gh secret set``) into a variable, and the calls use the variable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import Resolver404, resolve

from apikeys.conf import apikeys_settings
from apikeys.permissions import registry

# Answers for any usable key, whatever its permissions (SPEC §11), once installed.
INTROSPECTION = "/api/v1/key"


@dataclass(frozen=True)
class ExampleCall:
    method: str
    path: str  # under the site's root, e.g. /api/v1/runs
    body: str = ""  # JSON for a POST, else empty

    def curl(self, base_url: str, header: str | None = None, variable: str | None = None) -> str:
        header = header or apikeys_settings.HEADER
        variable = variable or key_variable()
        parts = ["curl", "--fail-with-body"]
        if self.method != "GET":
            parts += ["-X", self.method, "-H", '"Content-Type: application/json"']
            parts += ["-d", f"'{self.body}'"]
        parts += ["-H", f'"{header}: ${variable}"', f"{base_url.rstrip('/')}{self.path}"]
        return " ".join(parts)


def key_variable() -> str:
    """The environment variable the snippets keep the key in: ``nunu`` → ``NUNU_API_KEY``."""
    return f"{apikeys_settings.KEY_PREFIX.upper()}_API_KEY"


def _routed(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def example_call(permission_codes: Iterable[str]) -> ExampleCall:
    """The key's introspection when the site has it; else the first read (a GET with no
    id in it) among the key's endpoints; else its first endpoint with an empty body."""
    if _routed(INTROSPECTION):
        return ExampleCall("GET", INTROSPECTION)
    endpoints = [
        endpoint for code in permission_codes for endpoint in registry.permissions[code].endpoints
    ]
    for endpoint in endpoints:
        method, path = endpoint.split(" ", 1)
        if method == "GET" and "{" not in path:
            return ExampleCall(method, path)
    if not endpoints:  # a host may register permissions without listing endpoints
        return ExampleCall("GET", apikeys_settings.API_PREFIX)
    method, path = endpoints[0].split(" ", 1)
    return ExampleCall(method, path, body="{}")
