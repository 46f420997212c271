"""A key's IP allowlist: what may be entered, how it is stored, and whether an address is in it.

Stored on the key (``APIKey.allowed_ips``) as a JSON list of normalized CIDR
strings, at most :data:`MAX_ENTRIES`; an empty list means any address. Every
place that takes an allowlist (the wizard, the edit page, ``createapikey
--allow-ip``, the services) calls :func:`normalize`, so they accept and refuse
exactly the same input with the same message:

- a single address becomes its one-address network (``203.0.113.7`` →
  ``203.0.113.7/32``, ``2001:db8::1`` → ``2001:db8::1/128``);
- IPv6 is written in its compressed form, and an IPv4-mapped range
  (``::ffff:10.0.0.0/104``) becomes the IPv4 range it names (``10.0.0.0/8``);
- a range with host bits set (``10.0.0.1/24``) is **refused**, not masked: the
  writer meant either the one address or the whole /24, and silently picking
  one would open (or close) the key to addresses nobody chose;
- exact duplicates are collapsed (first one kept, order kept); overlapping
  ranges are kept as entered, so the list reads back as it was written.

The guard's check 6 calls :func:`allows` with the key row's list: the parsed
networks are cached per distinct list, so a request parses nothing twice, and
a key without an allowlist costs one truth test.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable

MAX_ENTRIES = 50
# What separates entries typed into one text field: commas, spaces, new lines.
_SEPARATORS = re.compile(r"[\s,;]+")
# An address or range can never be longer than this (a full IPv6 /128 is 43 characters);
# longer input is quoted shortened in the error message.
_QUOTE_LIMIT = 60
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AllowlistError(ValueError):
    """An allowlist that cannot be stored; the message quotes the entry at fault."""


def split(text: str) -> list[str]:
    """The entries of one text field ("10.0.0.0/8, 2001:db8::/32" or one per line)."""
    return [part for part in _SEPARATORS.split(text or "") if part]


def _quoted(entry: str) -> str:
    shown = entry if len(entry) <= _QUOTE_LIMIT else entry[:_QUOTE_LIMIT] + "…"
    return repr(shown)


def parse_entry(entry: str) -> Network:
    """One entry as a network, or AllowlistError quoting it."""
    if not isinstance(entry, str):
        raise AllowlistError(f"{entry!r} is not an IPv4/IPv6 address or CIDR range.")
    text = entry.strip()
    # Zone ids (fe80::1%eth0) name an interface of the machine that wrote them, which
    # means nothing to this server; ipaddress would accept them.
    if not text or "%" in text:
        raise AllowlistError(f"{_quoted(entry)} is not an IPv4/IPv6 address or CIDR range.")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        if "host bits set" in str(error):
            loose = ipaddress.ip_network(text, strict=False)
            address = text.split("/", 1)[0]
            raise AllowlistError(
                f"{_quoted(entry)} has host bits set: write {loose} for the whole range, "
                f"or {address} for the one address."
            ) from None
        raise AllowlistError(
            f"{_quoted(entry)} is not an IPv4/IPv6 address or CIDR range."
        ) from None
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        # ::ffff:a.b.c.d is how a dual-stack socket shows an IPv4 client: store the
        # IPv4 range, which is what the guard compares IPv4 clients with.
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


_REPORTED = 5  # bad entries quoted in one error; the rest are counted


def normalize(entries: Iterable[str] | str | None) -> list[str]:
    """The allowlist to store: normalized CIDR strings, duplicates collapsed, at most
    :data:`MAX_ENTRIES`; AllowlistError naming every bad entry (the first
    :data:`_REPORTED`), so a list is mended in one go."""
    if entries is None:
        return []
    if isinstance(entries, str):
        entries = split(entries)
    if not hasattr(entries, "__iter__"):
        raise AllowlistError("An IP allowlist is a list of addresses and CIDR ranges.")
    found: dict[str, None] = {}
    problems: list[str] = []
    for entry in entries:
        try:
            found.setdefault(str(parse_entry(entry)), None)
        except AllowlistError as error:
            problems.append(str(error))
    if problems:
        more = len(problems) - _REPORTED
        raise AllowlistError(
            " ".join(problems[:_REPORTED])
            + (
                f" ({more} more {'entry is' if more == 1 else 'entries are'} wrong too.)"
                if more > 0
                else ""
            )
        )
    if len(found) > MAX_ENTRIES:
        raise AllowlistError(
            f"An IP allowlist holds at most {MAX_ENTRIES} addresses or ranges "
            f"({len(found)} given); use wider CIDR ranges."
        )
    return list(found)


@functools.lru_cache(maxsize=4096)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Parsed once per distinct stored list. Entries that no longer parse (a row
    written around the services) match nothing, so a bad row fails closed."""
    parsed = []
    for entry in entries:
        try:
            parsed.append(parse_entry(entry))
        except AllowlistError:
            continue
    return tuple(parsed)


def client_address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's address in canonical form: ``::ffff:a.b.c.d`` is ``a.b.c.d``."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def allows(entries: list[str] | tuple[str, ...] | None, ip: str | None) -> bool:
    """May a client at ``ip`` use a key with this allowlist? An empty list allows all;
    an unknown address is allowed by none."""
    if not entries:
        return True
    address = client_address(ip)
    if address is None:
        return False
    return any(address in network for network in _networks(tuple(entries)))


def summarize(addresses: Iterable[str]) -> list[str]:
    """The ranges a set of client addresses came from, for a suggested allowlist: the
    /24 of each IPv4 address and the /64 of each IPv6 address (the unit a site is
    usually given), collapsed, IPv4 first."""
    networks: set[Network] = set()
    for ip in addresses:
        address = client_address(ip)
        if address is None:
            continue
        prefix = 24 if address.version == 4 else 64
        networks.add(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    v4 = ipaddress.collapse_addresses(n for n in networks if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in networks if n.version == 6)
    return [str(n) for n in v4] + [str(n) for n in v6]
