"""What the show-once page suggests trying with a new key: a call that key may make.

The secret is never on a command line there: the snippets read it from a prompt
(``read -rs``, ``gh secret set``) into a variable, and the calls use the variable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import Resolver404, resolve

from apikeys.permissions import PERMISSIONS

# Answers for any usable key, whatever its permissions (SPEC §11), once installed.
INTROSPECTION = "/api/v1/key"


@dataclass(frozen=True)
class ExampleCall:
    method: str
    path: str  # under the site's root, e.g. /api/v1/runs
    body: str = ""  # JSON for a POST, else empty

    def curl(self, base_url: str, header: str = "X-Api-Key", variable: str = "NUNU_API_KEY") -> str:
        parts = ["curl", "--fail-with-body"]
        if self.method != "GET":
            parts += ["-X", self.method, "-H", '"Content-Type: application/json"']
            parts += ["-d", f"'{self.body}'"]
        parts += ["-H", f'"{header}: ${variable}"', f"{base_url.rstrip('/')}{self.path}"]
        return " ".join(parts)


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
    endpoints = [endpoint for code in permission_codes for endpoint in PERMISSIONS[code].endpoints]
    for endpoint in endpoints:
        method, path = endpoint.split(" ", 1)
        if method == "GET" and "{" not in path:
            return ExampleCall(method, path)
    method, path = endpoints[0].split(" ", 1)
    return ExampleCall(method, path, body="{}")
