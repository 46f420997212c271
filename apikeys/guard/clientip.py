"""The client's IP address, as the rate limit, usage records and audit log see it.

REMOTE_ADDR is the default. Behind N trusted proxies (APIKEYS_TRUSTED_PROXY_COUNT),
the client is the N-th address from the right of X-Forwarded-For: the entries
left of it were written by the client itself and can be anything, so they are
never trusted.

Addresses are answered in one canonical spelling (SPEC §10), so one client is
one client however its address was written: ``2001:DB8:0:0::1`` is
``2001:db8::1``, and an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a
dual-stack socket reports for an IPv4 client) is the IPv4 address itself.

Limits count :func:`client_network`, not the address: an IPv4 address whole,
an IPv6 address by its /64. One IPv6 subscriber or host is routinely handed a
whole /64 (2^64 addresses), so counting single IPv6 addresses would let one
client take a fresh identity for every request.
"""

from __future__ import annotations

import functools
import ipaddress
import socket

from django.http import HttpRequest

from apikeys.conf import apikeys_settings

# The prefix an IPv6 client is counted by (RFC 6177: a /64 is the smallest
# block handed to a subscriber's link).
IPV6_PREFIX = 64
UNKNOWN = "unknown"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(request: HttpRequest) -> str | None:
    """The client's address in canonical form, or None if there is no valid one."""
    proxies = apikeys_settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            forwarded = canonical_ip(hops[-proxies])
            if forwarded is not None:
                return forwarded
    return canonical_ip(request.META.get("REMOTE_ADDR", ""))


def canonical_ip(value: str) -> str | None:
    """:func:`parse_ip` as text: the one spelling of the address ``value`` names, or None.

    Every accepted request asks this of the same few addresses (a client, its
    proxy), and parsing one with ``ipaddress`` costs more than the rest of the
    client-address work together, so answers are kept in a bounded LRU. A value
    longer than any spelling of an address is parsed each time, never kept.
    """
    if len(value) > _MAX_ADDRESS_SPELLING:
        return _spelling(value)
    return _cached_spelling(value)


def client_network(ip: str | None) -> str:
    """What limits count for ``ip``: an IPv4 address whole, an IPv6 address by its
    /64 (``2001:db8:1:2::/64``); ``"unknown"`` when there is no valid address."""
    if ip and len(ip) > _MAX_ADDRESS_SPELLING:
        return _network(ip)
    return _cached_network(ip)


# "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%<zone>]:65535" with room for the zone.
_MAX_ADDRESS_SPELLING = 96
# Distinct spellings kept: the clients of one worker in a busy minute, with room.
_CACHED_ADDRESSES = 4096


def _spelling(value: str) -> str | None:
    packed = _plain_ipv6(value)
    if packed is not None:
        spelling = _printed(packed)
        if spelling is not None:
            return spelling
    address = parse_ip(value)
    return str(address) if address is not None else None


def _network(ip: str | None) -> str:
    packed = _plain_ipv6(ip) if ip else None
    if packed is not None:
        network = _printed(packed[: IPV6_PREFIX // 8] + bytes(16 - IPV6_PREFIX // 8))
        if network is not None:
            return f"{network}/{IPV6_PREFIX}"
    address = parse_ip(ip) if ip else None
    if address is None:
        return UNKNOWN
    if address.version == 4:
        return str(address)
    return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))


# A flood from fresh addresses (a new one from its /64 each request) misses the LRU
# every time, and ``ipaddress`` spends about 15 us on each IPv6 address. The C
# library's parser and printer take about 1 us and print the same RFC 5952 form
# (lower case, no leading zeros, the first longest run of two or more zero groups
# as "::"), so a plain IPv6 address goes through them. Anything else (brackets, a
# port, a zone, spaces, IPv4) and the addresses the C library prints with a dotted
# quad (IPv4-mapped, which is IPv4 here, and IPv4-compatible) go through parse_ip.
_IPV4_MAPPED = bytes(10) + b"\xff\xff"


def _plain_ipv6(value: str) -> bytes | None:
    """The 16 bytes of ``value`` if it is an IPv6 address written plainly, not mapped."""
    try:
        packed = socket.inet_pton(socket.AF_INET6, value)
    except (OSError, ValueError):  # not an IPv6 address, or not as text inet_pton reads
        return None
    return None if packed.startswith(_IPV4_MAPPED) else packed


def _printed(packed: bytes) -> str | None:
    spelling = socket.inet_ntop(socket.AF_INET6, packed)
    return None if "." in spelling else spelling


_cached_spelling = functools.lru_cache(maxsize=_CACHED_ADDRESSES)(_spelling)
_cached_network = functools.lru_cache(maxsize=_CACHED_ADDRESSES)(_network)


def rate_limit_identity(request: HttpRequest) -> str:
    """The client a request counts against: :func:`client_network` of :func:`client_ip`."""
    return client_network(client_ip(request))


def parse_ip(value: str) -> IPAddress | None:
    """An address from one spelling of it, canonical (IPv4-mapped IPv6 is IPv4); None if
    ``value`` is not an address. Tolerates what proxies add: ``[v6]``, ``[v6]:port``,
    ``v4:port`` and an IPv6 zone (``fe80::1%eth0``, dropped: it names our interface)."""
    text = value.strip()
    if text.startswith("["):
        end = text.find("]")
        if end == -1 or (end + 1 < len(text) and not _is_port(text[end + 1 :])):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # an IPv4 address with a port (IPv6 has at least two)
        host, _, port = text.partition(":")
        if not port.isdigit():
            return None
        text = host
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_port(suffix: str) -> bool:
    return suffix.startswith(":") and suffix[1:].isdigit()
