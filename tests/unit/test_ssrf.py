"""SSRF protection: only public http(s) targets, checked at creation and at connect time, by
Herald's own table of special-purpose ranges (tested from the table itself, and by hand)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from herald.domain import ssrf
from herald.targets import http
from herald.targets.http import run
from tests.conftest import Receiver

REFUSED = [
    "http://127.0.0.1/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://[::1]/hook",
    "http://[fd00:ec2::254]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fe80::1]/hook",
]


@pytest.mark.parametrize(
    "url",
    REFUSED,
    ids=[
        "loopback",
        "10/8",
        "172.16/12",
        "192.168/16",
        "metadata",
        "cgnat",
        "unspecified",
        "multicast",
        "ipv6-loopback",
        "ipv6-ula-metadata",
        "ipv4-mapped-loopback",
        "ipv6-link-local",
    ],
)
def test_non_public_address_is_refused_at_creation(url: str) -> None:
    with pytest.raises(ssrf.UnsafeTargetError, match="non-public address"):
        ssrf.check_url(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "http or https"),
        ("http:///path", "no host"),
        ("https://user:pw@example.com/", "credentials"),
    ],
    ids=["scheme", "no-host", "credentials"],
)
def test_malformed_target_is_refused(url: str, message: str) -> None:
    with pytest.raises(ssrf.UnsafeTargetError, match=message):
        ssrf.check_url(url, allow_private=True)


def test_public_ip_literal_is_accepted() -> None:
    ssrf.check_url("https://93.184.216.34/hook", allow_private=False)


def test_private_targets_are_allowed_when_configured() -> None:
    ssrf.check_url("http://127.0.0.1:9000/hook", allow_private=True)


def test_host_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("10.0.0.7"))
    with pytest.raises(ssrf.UnsafeTargetError, match=r"hooks\.example\.com resolves to 10\.0\.0\.7"):
        ssrf.check_url("https://hooks.example.com/x", allow_private=False)


def test_dns_rebinding_is_caught_at_connect_time(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    # Public when the channel was created, loopback when the delivery connects.
    port = int(receiver.url.split(":")[2].split("/")[0])
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("127.0.0.1"))
    outcome = run(http.post(f"http://rebind.example.com:{port}/hook", b"{}", {}, 2.0, allow_private=False))
    assert not outcome.success and not outcome.retryable
    assert outcome.error.startswith("refused: rebind.example.com resolves to 127.0.0.1")
    assert receiver.requests == []


def test_loopback_delivery_is_refused_unless_allowed(receiver: Receiver) -> None:
    refused = run(http.post(receiver.url, b"{}", {}, 2.0, allow_private=False))
    allowed = run(http.post(receiver.url, b"{}", {}, 2.0, allow_private=True))
    assert (refused.success, allowed.success) == (False, True)
    assert len(receiver.requests) == 1


def _resolver(ip: str):  # type: ignore[no-untyped-def]
    def fake(host: str, port: int | None, *args: object, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port or 80))]

    return fake


# --- the table: every special-purpose block, from the table itself ------------------------------
def _samples(entry: ssrf.SpecialRange) -> list[ssrf.Address]:
    network = entry.network
    middle = network.network_address + (network.num_addresses // 2)
    return [network.network_address, middle, network.broadcast_address]


REFUSING = [r for r in (*ssrf.IPV4_SPECIAL, *ssrf.IPV6_SPECIAL) if r.embeds is None]
EMBEDDING = [r for r in ssrf.IPV6_SPECIAL if r.embeds is not None]


@pytest.mark.parametrize("entry", REFUSING, ids=[str(r.network) for r in REFUSING])
def test_every_address_of_a_special_purpose_block_is_refused(entry: ssrf.SpecialRange) -> None:
    for ip in _samples(entry):
        assert not ssrf.is_public(ip), (ip, entry.name)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        with pytest.raises(ssrf.UnsafeTargetError, match="non-public address"):
            ssrf.check_url(f"http://{host}/hook", allow_private=False)


def _embed(entry: ssrf.SpecialRange, v4: str) -> ssrf.Address:
    """An address of an IPv4-carrying block that carries `v4` (both addresses, for Teredo)."""
    value, base = int(ipaddress.IPv4Address(v4)), int(entry.network.network_address)
    if entry.name == "6to4":
        return ipaddress.IPv6Address(base | value << 80)
    if entry.name == "Teredo":
        return ipaddress.IPv6Address(base | value << 64 | (value ^ 0xFFFFFFFF))
    return ipaddress.IPv6Address(base | value)


NON_PUBLIC_V4 = [str(r.network.network_address + 1) for r in ssrf.IPV4_SPECIAL if r.network.prefixlen < 32]


@pytest.mark.parametrize("entry", EMBEDDING, ids=[str(r.network) for r in EMBEDDING])
def test_an_ipv6_form_carrying_ipv4_is_as_public_as_the_ipv4_it_carries(entry: ssrf.SpecialRange) -> None:
    for v4 in NON_PUBLIC_V4:
        carried = _embed(entry, v4)
        assert not ssrf.is_public(carried), (carried, v4)
    for v4 in ("8.8.8.8", "93.184.216.34"):
        carried = _embed(entry, v4)
        assert ssrf.special_range(carried) is entry
        assert ssrf.is_public(carried)


def test_ipv6_outside_global_unicast_is_refused_even_when_no_block_names_it() -> None:
    for text in ("1::1", "4000::1", "8000::1", "e000::1", "::1:2:3:4:5"):
        assert ssrf.special_range(ipaddress.IPv6Address(text)) is None
        assert not ssrf.is_public(ipaddress.IPv6Address(text))


# --- by hand: the forms a probe tried, and others of each kind ------------------------------------
HAND_WRITTEN_REFUSED = [
    "http://[::7f00:1]/hook",  # IPv4-compatible loopback
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 well-known prefix, loopback
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64, the metadata service
    "http://[64:ff9b:1::808:808]/hook",  # NAT64 local use: refused whatever it carries
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/hook",  # 6to4 of the metadata service
    "http://[2001:0:a9fe:a9fe::5601:5601]/hook",  # Teredo, server 169.254.169.254
    "http://[2001:0:808:808::5601:56fe]/hook",  # Teredo, client 169.254.169.1 (obfuscated)
    "http://[::ffff:0:7f00:1]/hook",  # IPv4-translated loopback
    "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
    "http://[::10.0.0.1]/hook",  # IPv4-compatible private, dotted
    "http://[fec0::1]/hook",  # site-local
    "http://[fc00::1]/hook",  # unique-local
    "http://[fe80::1%25eth0]/hook",  # link-local with a zone
    "http://[100::1]/hook",  # discard-only
    "http://[2001:db8::1]/hook",  # documentation
    "http://[3fff::1]/hook",  # documentation (2024)
    "http://[2001:2::1]/hook",  # benchmarking
    "http://[ff02::1]/hook",  # multicast
    "http://[::]/hook",  # unspecified
    "http://2130706433/hook",  # 127.0.0.1, decimal
    "http://0x7f000001/hook",  # hex
    "http://017700000001/hook",  # octal
    "http://0x7f.1/hook",  # hex, two parts
    "http://0177.0.0.1/hook",  # octal, dotted
    "http://127.1/hook",  # shortened
    "http://169.254.43518/hook",  # 169.254.169.254, last part filling two bytes
    "http://0/hook",  # 0.0.0.0
    "http://127.0.0.1./hook",  # trailing dot
    "http://198.18.0.1/hook",  # benchmarking
    "http://192.0.2.1/hook",  # documentation
    "http://192.0.0.170/hook",  # NAT64 discovery
    "http://240.0.0.1/hook",  # reserved
    "http://255.255.255.255/hook",  # limited broadcast
]


@pytest.mark.parametrize("url", HAND_WRITTEN_REFUSED)
def test_hand_written_non_public_forms_are_refused_at_creation(url: str) -> None:
    with pytest.raises(ssrf.UnsafeTargetError, match="non-public address"):
        ssrf.check_url(url, allow_private=False, resolve=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/hook",
        "https://[64:ff9b::808:808]/hook",  # NAT64 of a public address
        "https://[2002:808:808::1]/hook",  # 6to4 of a public address
        "https://[::ffff:8.8.8.8]/hook",
        "https://134744072/hook",  # 8.8.8.8, decimal
    ],
)
def test_public_addresses_in_any_form_are_accepted(url: str) -> None:
    ssrf.check_url(url, allow_private=False, resolve=False)


@pytest.fixture
def no_ipaddress_classification(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`ipaddress`'s own is_global/is_private/... differ between Python versions: unusable here."""

    def forbidden(self: object) -> bool:
        raise AssertionError("herald.domain.ssrf consulted ipaddress's own classification")

    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        for name in ("is_global", "is_private", "is_loopback", "is_link_local", "is_reserved",
                     "is_multicast", "is_unspecified", "is_site_local", "ipv4_mapped"):  # fmt: skip
            if hasattr(cls, name):
                monkeypatch.setattr(cls, name, property(forbidden))
    yield


def test_the_decision_does_not_depend_on_pythons_own_classification(
    no_ipaddress_classification: None,
) -> None:
    for url in HAND_WRITTEN_REFUSED:
        with pytest.raises(ssrf.UnsafeTargetError):
            ssrf.check_url(url, allow_private=False, resolve=False)
    ssrf.check_url("https://[2606:4700:4700::1111]/hook", allow_private=False, resolve=False)


def test_messages_name_ipv4_mapped_addresses_the_same_on_every_python() -> None:
    with pytest.raises(ssrf.UnsafeTargetError, match=r"resolves to ::ffff:a9fe:a9fe, a private"):
        ssrf.check_url("http://[::ffff:169.254.169.254]/", allow_private=False, resolve=False)


@pytest.mark.parametrize("address", ["::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "fec0::1"])
def test_the_same_table_refuses_at_connect_time(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, address: str
) -> None:
    """A name that resolves (DNS rebinding) to an IPv6 form of non-public space, at connect."""

    def fake(host: str, port: int | None, *args: object, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 80, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    outcome = run(http.post("http://rebind.example.com/hook", b"{}", {}, 2.0, allow_private=False))
    assert not outcome.success and not outcome.retryable
    assert outcome.error.startswith(f"refused: rebind.example.com resolves to {address}")
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url", ["http://[::7f00:1]:9/hook", "http://2130706433:9/hook", "http://0x7f.1:9/hook"]
)
def test_literal_forms_are_refused_at_connect_time_without_a_connection(url: str) -> None:
    outcome = run(http.post(url, b"{}", {}, 2.0, allow_private=False))
    assert not outcome.success and not outcome.retryable
    assert "non-public address" in (outcome.error or "")
