"""The client's IP address, as the rate limit, usage records and audit log see it.

REMOTE_ADDR is the default. Behind N trusted proxies (APIKEYS_TRUSTED_PROXY_COUNT),
the client is the N-th address from the right of X-Forwarded-For: the entries
left of it were written by the client itself and can be anything, so they are
never trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    proxies = getattr(settings, "APIKEYS_TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies and _is_ip(hops[-proxies]):
            return hops[-proxies]
    remote = request.META.get("REMOTE_ADDR", "")
    return remote if _is_ip(remote) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
