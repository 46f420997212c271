"""IP allowlists (apikeys.allowlist): what is accepted, how it is stored, who it lets in."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apikeys import allowlist
from apikeys.allowlist import MAX_ENTRIES, AllowlistError


@pytest.mark.parametrize(
    ("entry", "stored"),
    [
        ("203.0.113.7", "203.0.113.7/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        (" 192.168.1.0/24 ", "192.168.1.0/24"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("2001:0DB8:0000::/32", "2001:db8::/32"),
        ("::ffff:10.1.2.3", "10.1.2.3/32"),  # IPv4-mapped: the IPv4 address it names
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("0.0.0.0/0", "0.0.0.0/0"),
    ],
)
def test_entries_are_stored_as_normalized_cidr(entry, stored):
    assert allowlist.normalize([entry]) == [stored]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("10.0.0.300", "'10.0.0.300' is not an IPv4/IPv6 address or CIDR range."),
        ("example.com", "'example.com' is not an IPv4/IPv6 address or CIDR range."),
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IPv4/IPv6 address or CIDR range."),
        ("fe80::1%eth0", "'fe80::1%eth0' is not an IPv4/IPv6 address or CIDR range."),
        ("", "'' is not an IPv4/IPv6 address or CIDR range."),
        (
            "10.0.0.1/24",
            "'10.0.0.1/24' has host bits set: write 10.0.0.0/24 for the whole range, "
            "or 10.0.0.1 for the one address.",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_a_message_quoting_it(entry, message):
    with pytest.raises(AllowlistError) as raised:
        allowlist.normalize([entry])
    assert str(raised.value) == message


def test_every_bad_entry_is_named_at_once():
    with pytest.raises(AllowlistError) as raised:
        allowlist.normalize(["999.1.1.1", "10.0.0.1", "foo", "10.0.0.0/33"])
    assert str(raised.value) == (
        "'999.1.1.1' is not an IPv4/IPv6 address or CIDR range. "
        "'foo' is not an IPv4/IPv6 address or CIDR range. "
        "'10.0.0.0/33' is not an IPv4/IPv6 address or CIDR range."
    )


def test_past_five_bad_entries_the_rest_are_counted():
    with pytest.raises(AllowlistError) as raised:
        allowlist.normalize([f"bad{n}" for n in range(8)])
    assert str(raised.value).count("is not an IPv4/IPv6") == 5
    assert str(raised.value).endswith("(3 more entries are wrong too.)")


def test_a_long_bad_entry_is_quoted_shortened():
    with pytest.raises(AllowlistError) as raised:
        allowlist.normalize(["x" * 500])
    assert len(str(raised.value)) < 120


def test_duplicates_collapse_and_the_order_is_kept():
    assert allowlist.normalize(["10.0.0.1", "2001:db8::/32", "10.0.0.1/32", "::ffff:10.0.0.1"]) == [
        "10.0.0.1/32",
        "2001:db8::/32",
    ]


def test_at_most_fifty_entries_after_collapsing_duplicates():
    fifty = [f"10.0.{n}.0/24" for n in range(MAX_ENTRIES)]
    assert len(allowlist.normalize(fifty + fifty)) == MAX_ENTRIES
    with pytest.raises(AllowlistError, match="at most 50"):
        allowlist.normalize([*fifty, "192.0.2.1"])


def test_text_fields_split_on_commas_spaces_and_lines():
    assert allowlist.normalize("10.0.0.0/8, 192.0.2.1\n2001:db8::/32;") == [
        "10.0.0.0/8",
        "192.0.2.1/32",
        "2001:db8::/32",
    ]
    assert allowlist.normalize("  ") == []
    assert allowlist.normalize(None) == []


def test_an_empty_allowlist_allows_every_address_and_an_unknown_one():
    assert allowlist.allows([], "198.51.100.1")
    assert allowlist.allows([], None)


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("10.1.2.3", True),
        ("::ffff:10.1.2.3", True),  # a dual-stack socket's view of an IPv4 client
        ("11.0.0.1", False),
        ("2001:db8:1::5", True),
        ("2001:db9::1", False),
        ("::ffff:11.0.0.1", False),
        (None, False),
        ("not an ip", False),
    ],
)
def test_a_client_is_allowed_only_from_inside_the_list(ip, allowed):
    assert allowlist.allows(["10.0.0.0/8", "2001:db8::/32"], ip) is allowed


def test_a_stored_entry_that_no_longer_parses_matches_nothing():
    assert not allowlist.allows(["garbage"], "10.0.0.1")
    assert allowlist.allows(["garbage", "10.0.0.0/8"], "10.0.0.1")


def test_the_parsed_networks_are_cached_per_distinct_list():
    allowlist._networks.cache_clear()
    for _ in range(3):
        allowlist.allows(["10.0.0.0/8"], "10.0.0.1")
        allowlist.allows(["10.0.0.0/8"], "192.0.2.1")
    info = allowlist._networks.cache_info()
    assert (info.misses, info.hits) == (1, 5)


def test_summarize_suggests_the_24s_and_64s_used_from():
    assert allowlist.summarize(
        ["203.0.113.7", "203.0.113.99", "::ffff:198.51.100.1", "2001:db8:0:1::5", "bad"]
    ) == ["198.51.100.0/24", "203.0.113.0/24", "2001:db8:0:1::/64"]


# --- Properties -----------------------------------------------------------------

networks = st.one_of(
    st.builds(
        lambda a, p: ipaddress.IPv4Network((a, p), strict=False),
        st.integers(0, 2**32 - 1),
        st.integers(0, 32),
    ),
    st.builds(
        lambda a, p: ipaddress.IPv6Network((a, p), strict=False),
        st.integers(0, 2**128 - 1),
        st.integers(0, 128),
    ),
)


def _mapped(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.version == 6 and address.ipv4_mapped is not None  # type: ignore[union-attr]


@given(st.lists(networks, max_size=MAX_ENTRIES))
def test_normalizing_is_idempotent_and_keeps_what_each_entry_covers(entries):
    stored = allowlist.normalize([str(n) for n in entries])
    assert allowlist.normalize(stored) == stored
    assert len(stored) == len(set(stored)) <= len(entries)
    for network in entries:
        # Every address an entry named is still allowed (an IPv4-mapped one is an IPv4
        # client, judged by the IPv4 entries: the tests below).
        for address in (network.network_address, network.broadcast_address):
            if not _mapped(address):
                assert allowlist.allows(stored, str(address))


@given(networks, st.integers(0, 2**128 - 1))
def test_allows_agrees_with_ipaddress_membership(network, offset):
    """Except for IPv4-mapped addresses, which are IPv4 clients (the next tests)."""
    inside = network.network_address + (offset % network.num_addresses)
    if not _mapped(inside):
        assert allowlist.allows([str(network)], str(inside))
    top = 2**32 if network.version == 4 else 2**128
    if int(network.broadcast_address) + 1 < top:
        outside = type(network.network_address)(int(network.broadcast_address) + 1)
        if not _mapped(outside):
            assert not allowlist.allows([str(network)], str(outside))


@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_an_ipv4_mapped_client_matches_the_ipv4_range_and_not_the_mapped_ipv6_one(value, prefix):
    client = ipaddress.IPv4Address(value)
    network = ipaddress.IPv4Network((value, prefix), strict=False)
    assert allowlist.allows([str(network)], f"::ffff:{client}")
    # Entered in its mapped form, the range is stored as IPv4 and matches the same clients.
    mapped = ipaddress.IPv6Network((int(network.network_address) | 0xFFFF << 32, 96 + prefix))
    assert allowlist.normalize([str(mapped)]) == [str(network)]


@given(st.text(max_size=60))
def test_any_text_is_either_an_allowlist_or_one_clear_error(text):
    try:
        stored = allowlist.normalize(allowlist.split(text))
    except AllowlistError as error:
        assert "'" in str(error) or "at most" in str(error)
    else:
        assert all(ipaddress.ip_network(entry) for entry in stored)
