"""apikeys.guard.clientip: one client is one identity however its address is spelled."""

from __future__ import annotations

import ipaddress
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apikeys.guard.clientip import (
    canonical_ip,
    client_ip,
    client_network,
    parse_ip,
    rate_limit_identity,
)


def spellings_of_ipv6(address: ipaddress.IPv6Address) -> st.SearchStrategy[str]:
    """Ways one IPv6 address is written: exploded, compressed, upper case, bracketed."""
    forms = [address.exploded, address.compressed, address.exploded.upper()]
    forms.append(":".join(group.lstrip("0") or "0" for group in address.exploded.split(":")))
    return st.sampled_from(forms).flatmap(
        lambda form: st.sampled_from([form, f"[{form}]", f"[{form}]:443", f" {form} "])
    )


ipv4s = st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1))
ipv6s = st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1)).filter(
    lambda a: a.ipv4_mapped is None
)


@given(ipv6s.flatmap(lambda a: st.tuples(st.just(a), spellings_of_ipv6(a))))
def test_every_spelling_of_an_ipv6_address_is_one_canonical_address(case):
    address, spelling = case
    assert str(parse_ip(spelling)) == address.compressed


@given(ipv6s, st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_ipv6_addresses_in_one_slash_64_are_one_client(address, low_a, low_b):
    prefix = int(address) >> 64 << 64
    first = ipaddress.IPv6Address(prefix | low_a)
    second = ipaddress.IPv6Address(prefix | low_b)
    if first.ipv4_mapped or second.ipv4_mapped:
        return
    assert client_network(str(first)) == client_network(first.exploded.upper())
    assert client_network(str(first)) == client_network(str(second))
    assert client_network(str(first)).endswith("/64")


@given(ipv6s, st.integers(0, 2**64 - 1))
def test_ipv6_addresses_in_different_slash_64s_are_different_clients(address, other_prefix):
    other = ipaddress.IPv6Address((other_prefix << 64) | (int(address) & (2**64 - 1)))
    if other_prefix == int(address) >> 64 or other.ipv4_mapped:
        return
    assert client_network(str(address)) != client_network(str(other))


@given(ipv4s)
def test_an_ipv4_mapped_ipv6_address_is_the_ipv4_address(address):
    mapped = f"::ffff:{address}"
    assert client_network(mapped) == str(address)
    assert client_network(f"[{mapped}]:8080") == str(address)
    assert client_network(ipaddress.IPv6Address(mapped).exploded) == str(address)
    assert str(parse_ip(mapped)) == str(address)


@given(ipv4s, st.integers(1, 65535))
def test_an_ipv4_address_is_counted_whole_with_or_without_a_port(address, port):
    assert client_network(str(address)) == str(address)
    assert client_network(f"{address}:{port}") == str(address)


@given(st.text(max_size=60))
def test_any_text_is_an_address_or_unknown_never_an_error(text):
    network = client_network(text)
    assert network == "unknown" or parse_ip(text) is not None


@pytest.mark.parametrize(
    ("spelling", "network"),
    [
        ("2001:DB8:0:0:1::1", "2001:db8::/64"),
        ("2001:db8::1:2:3:4", "2001:db8::/64"),
        ("2001:db8:0:1::1", "2001:db8:0:1::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
        ("[2001:db8::1]:443", "2001:db8::/64"),
        ("", "unknown"),
        ("[2001:db8::1", "unknown"),
        ("192.0.2.1:http", "unknown"),
        (None, "unknown"),
    ],
)
def test_client_networks(spelling, network):
    assert client_network(spelling) == network


def test_the_rate_limit_counts_the_trusted_proxys_client_by_its_network(settings, rf):
    settings.APIKEYS_TRUSTED_PROXY_COUNT = 1
    request = rf.get(
        "/api/v1/read",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 2001:DB8:AB:CD:1:2:3:4",
        REMOTE_ADDR="10.0.0.5",
    )
    assert client_ip(request) == "2001:db8:ab:cd:1:2:3:4"
    assert rate_limit_identity(request) == "2001:db8:ab:cd::/64"
    mapped = rf.get("/api/v1/read", REMOTE_ADDR="::ffff:198.51.100.7")
    settings.APIKEYS_TRUSTED_PROXY_COUNT = 0
    assert client_ip(mapped) == "198.51.100.7"
    assert rate_limit_identity(mapped) == "198.51.100.7"


def test_a_flood_from_one_slash_64_meets_one_limit(settings, db, api):
    settings.ROOT_URLCONF = "tests.guard_urls"
    settings.APIKEYS_RATE_LIMIT_FAILURES = 3
    answers = [
        api().get("/api/v1/read", REMOTE_ADDR=f"2001:db8:7:7::{n:x}").status_code
        for n in range(1, 6)
    ]
    assert answers == [401, 401, 401, 429, 429]
    # Another /64, and the IPv4 client behind a dual-stack socket, are not blocked.
    assert api().get("/api/v1/read", REMOTE_ADDR="2001:db8:7:8::1").status_code == 401
    for _ in range(3):
        api().get("/api/v1/read", REMOTE_ADDR="::ffff:192.0.2.8")
    assert api().get("/api/v1/read", REMOTE_ADDR="192.0.2.8").status_code == 429


@given(st.text(max_size=300))
def test_the_kept_spelling_of_any_text_is_what_parsing_it_gives(text):
    parsed = parse_ip(text)
    assert canonical_ip(text) == (str(parsed) if parsed is not None else None)
    assert canonical_ip(text) == canonical_ip(text)  # asked again: the kept answer


def test_an_address_padded_past_any_spelling_is_still_read(rf):
    padded = " " * 200 + "192.0.2.7" + " " * 200
    assert client_ip(rf.get("/", REMOTE_ADDR=padded)) == "192.0.2.7"
    assert client_network(" " * 200 + "2001:db8:1:2::9") == "2001:db8:1:2::/64"


def test_one_clients_address_is_parsed_once_for_many_requests(rf, monkeypatch):
    from apikeys.guard import clientip

    parsed: list[str] = []
    original = clientip.parse_ip

    def counting(value):
        parsed.append(value)
        return original(value)

    monkeypatch.setattr(clientip, "parse_ip", counting)
    original_plain = clientip._plain_ipv6

    def counting_plain(value):
        parsed.append(value)
        return original_plain(value)

    monkeypatch.setattr(clientip, "_plain_ipv6", counting_plain)
    # Addresses no other test uses, so they are not kept yet: IPv6 is read by the C
    # library's parser, IPv4 by parse_ip (after the C library's says it is no IPv6).
    ipv6 = str(ipaddress.IPv6Address((0x20010DB8 << 96) | secrets.randbits(96)))
    ipv4 = str(ipaddress.IPv4Address((100 << 24) | (64 << 16) | secrets.randbits(22)))
    for _ in range(5):
        assert client_ip(rf.get("/", REMOTE_ADDR=ipv6)) == ipv6
        assert client_ip(rf.get("/", REMOTE_ADDR=ipv4)) == ipv4
    assert parsed.count(ipv6) == 1
    assert parsed.count(ipv4) == 2  # _plain_ipv6 and parse_ip, once each


def _spellings_of_any_ipv6(number: int) -> list[str]:
    address = ipaddress.IPv6Address(number)
    groups = address.exploded.split(":")
    return [
        address.compressed,
        address.exploded,
        address.exploded.upper(),
        ":".join(group.lstrip("0") or "0" for group in groups),
        ":".join(groups[:6]) + ":" + str(ipaddress.IPv4Address(number & 0xFFFFFFFF)),
    ]


@given(
    st.one_of(
        st.integers(0, 2**128 - 1),
        st.integers(0, 2**32 - 1),  # ::a.b.c.d, which the C library prints dotted
        st.integers(0, 2**32 - 1).map(lambda n: (0xFFFF << 32) | n),  # IPv4-mapped
        st.integers(0, 2**64 - 1).map(lambda n: n << 64),  # a /64's own address
        st.lists(st.sampled_from([0, 0, 1, 0xFFFF]), min_size=8, max_size=8).map(
            lambda groups: int("".join(f"{g:04x}" for g in groups), 16)
        ),  # runs of zero groups of every length and place
    )
)
def test_the_fast_ipv6_path_spells_every_address_as_ipaddress_does(number):
    """canonical_ip and client_network read plain IPv6 text with the C library; what
    they answer is what ``ipaddress`` answers, for every spelling of every address."""
    from apikeys.guard import clientip

    for spelling in _spellings_of_any_ipv6(number):
        parsed = parse_ip(spelling)
        assert parsed is not None
        assert clientip._spelling(spelling) == str(parsed)
        expected = (
            str(parsed)
            if parsed.version == 4
            else str(ipaddress.IPv6Network((parsed, 64), strict=False))
        )
        assert clientip._network(spelling) == expected


def test_a_plain_ipv6_address_is_read_without_ipaddress(monkeypatch):
    from apikeys.guard import clientip

    def not_here(value):
        raise AssertionError(f"parse_ip({value!r})")

    monkeypatch.setattr(clientip, "parse_ip", not_here)
    assert clientip._spelling("2001:DB8:0:0:1:0:0:9") == "2001:db8::1:0:0:9"
    assert clientip._network("2001:db8:a:b:c::1") == "2001:db8:a:b::/64"
