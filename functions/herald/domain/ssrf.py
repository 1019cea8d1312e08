"""Server-side request forgery protection for HTTP targets: Herald's own table of what is public.

A webhook URL is user input: without this, a channel could make Herald POST to the instance
metadata service or to services inside the deployment's network. A target must be http(s) and
every address its host resolves to must be public. The check runs when a channel is created and
again on every connection, against the address actually connected to, so a DNS answer that
changes between the two (DNS rebinding) is caught. `HERALD_ALLOW_PRIVATE_TARGETS=1` lifts it
(`herald dev` sets it, since local receivers live on 127.0.0.1).

What is public is decided by the tables below, not by `ipaddress.is_global`/`is_private`, whose
answers differ between Python versions and miss IPv6 forms that reach IPv4 space. They hold every
block of IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates), plus
multicast, the reserved 240.0.0.0/4 and the deprecated site-local fec0::/10. An IPv6 address that
embeds or translates an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64's
well-known prefix, 6to4, Teredo) is as public as the IPv4 address(es) it carries; NAT64's
local-use prefix 64:ff9b:1::/48 is refused outright (where its IPv4 address sits is the local
network's choice, RFC 8215). Any other IPv6 address outside 2000::/3, the only space IANA
allocates as global unicast, is refused.

Host names written as numbers (`2130706433`, `0x7f000001`, `017700000001`, `127.1`) are read as
IPv4 addresses the way URL parsers and `inet_aton` read them, so they are refused when the
channel is saved, not only when the resolver turns them into 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class UnsafeTargetError(ValueError):
    """The target is not a public http(s) address."""


@dataclass(frozen=True)
class SpecialRange:
    """A block that is not public; `embeds` (IPv6 only) gives the IPv4 address(es) an address of
    the block carries, which then decide instead."""

    network: Network
    name: str
    source: str
    embeds: Callable[[int], tuple[int, ...]] | None = None


def _v4(cidr: str, name: str, source: str) -> SpecialRange:
    return SpecialRange(ipaddress.IPv4Network(cidr), name, source)


def _v6(
    cidr: str, name: str, source: str, embeds: Callable[[int], tuple[int, ...]] | None = None
) -> SpecialRange:
    return SpecialRange(ipaddress.IPv6Network(cidr), name, source, embeds)


def _low32(value: int) -> tuple[int, ...]:
    return (value & 0xFFFFFFFF,)


def _sixtofour(value: int) -> tuple[int, ...]:
    return ((value >> 80) & 0xFFFFFFFF,)  # 2002:AABB:CCDD::/48


def _teredo(value: int) -> tuple[int, ...]:
    # 2001:0:<server IPv4>:<flags>:<port ^ 0xffff>:<client IPv4 ^ 0xffffffff>
    return ((value >> 64) & 0xFFFFFFFF, (value & 0xFFFFFFFF) ^ 0xFFFFFFFF)


# IANA IPv4 Special-Purpose Address Registry, every entry (and multicast and reserved space).
IPV4_SPECIAL: tuple[SpecialRange, ...] = (
    _v4("0.0.0.0/8", '"this network"', "RFC 791"),
    _v4("10.0.0.0/8", "private-use", "RFC 1918"),
    _v4("100.64.0.0/10", "shared address space (carrier-grade NAT)", "RFC 6598"),
    _v4("127.0.0.0/8", "loopback", "RFC 1122"),
    _v4("169.254.0.0/16", "link-local (instance metadata)", "RFC 3927"),
    _v4("172.16.0.0/12", "private-use", "RFC 1918"),
    _v4("192.0.0.0/24", "IETF protocol assignments", "RFC 6890"),
    _v4("192.0.0.0/29", "IPv4 service continuity prefix (DS-Lite)", "RFC 7335"),
    _v4("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    _v4("192.0.0.9/32", "port control protocol anycast", "RFC 7723"),
    _v4("192.0.0.10/32", "traversal using relays around NAT anycast", "RFC 8155"),
    _v4("192.0.0.170/31", "NAT64/DNS64 discovery", "RFC 8880"),
    _v4("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
    _v4("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    _v4("192.52.193.0/24", "automatic multicast tunneling", "RFC 7450"),
    _v4("192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526"),
    _v4("192.168.0.0/16", "private-use", "RFC 1918"),
    _v4("192.175.48.0/24", "direct delegation AS112 service", "RFC 7534"),
    _v4("198.18.0.0/15", "benchmarking", "RFC 2544"),
    _v4("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
    _v4("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
    _v4("224.0.0.0/4", "multicast", "RFC 5771"),
    _v4("240.0.0.0/4", "reserved", "RFC 1112"),
    _v4("255.255.255.255/32", "limited broadcast", "RFC 919"),
)

# IANA IPv6 Special-Purpose Address Registry, every entry, with the IPv4-carrying forms.
IPV6_SPECIAL: tuple[SpecialRange, ...] = (
    _v6("::/128", "unspecified", "RFC 4291"),
    _v6("::1/128", "loopback", "RFC 4291"),
    _v6("::/96", "IPv4-compatible (deprecated)", "RFC 4291", _low32),
    _v6("::ffff:0:0/96", "IPv4-mapped", "RFC 4291", _low32),
    _v6("::ffff:0:0:0/96", "IPv4-translated", "RFC 2765", _low32),
    _v6("64:ff9b::/96", "IPv4-IPv6 translation (NAT64 well-known prefix)", "RFC 6052", _low32),
    _v6("64:ff9b:1::/48", "IPv4-IPv6 translation, local use", "RFC 8215"),
    _v6("100::/64", "discard-only", "RFC 6666"),
    _v6("100:0:0:1::/64", "dummy IPv6 prefix", "RFC 9780"),
    _v6("2001::/23", "IETF protocol assignments", "RFC 2928"),
    _v6("2001::/32", "Teredo", "RFC 4380", _teredo),
    _v6("2001:1::1/128", "port control protocol anycast", "RFC 7723"),
    _v6("2001:1::2/128", "traversal using relays around NAT anycast", "RFC 8155"),
    _v6("2001:1::3/128", "DNS-SD service registration protocol anycast", "RFC 9665"),
    _v6("2001:2::/48", "benchmarking", "RFC 5180"),
    _v6("2001:3::/32", "automatic multicast tunneling", "RFC 7450"),
    _v6("2001:4:112::/48", "AS112-v6", "RFC 7535"),
    _v6("2001:10::/28", "deprecated ORCHID", "RFC 4843"),
    _v6("2001:20::/28", "ORCHIDv2", "RFC 7343"),
    _v6("2001:30::/28", "drone remote ID protocol entity tags", "RFC 9374"),
    _v6("2001:db8::/32", "documentation", "RFC 3849"),
    _v6("2002::/16", "6to4", "RFC 3056", _sixtofour),
    _v6("2620:4f:8000::/48", "direct delegation AS112 service", "RFC 7534"),
    _v6("3fff::/20", "documentation", "RFC 9637"),
    _v6("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
    _v6("fc00::/7", "unique-local", "RFC 4193"),
    _v6("fe80::/10", "link-local", "RFC 4291"),
    _v6("fec0::/10", "site-local (deprecated)", "RFC 3879"),
    _v6("ff00::/8", "multicast", "RFC 4291"),
)
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def _index(table: tuple[SpecialRange, ...]) -> list[tuple[int, int, SpecialRange]]:
    """(network, mask, range), the most specific block first: it decides for its addresses."""
    ordered = sorted(table, key=lambda r: r.network.prefixlen, reverse=True)
    return [(int(r.network.network_address), int(r.network.netmask), r) for r in ordered]


_V4_INDEX = _index(IPV4_SPECIAL)
_V6_INDEX = _index(IPV6_SPECIAL)


def special_range(ip: Address) -> SpecialRange | None:
    """The most specific special-purpose block holding `ip`, if any."""
    value = int(ip)
    for network, mask, entry in _V4_INDEX if ip.version == 4 else _V6_INDEX:
        if value & mask == network:
            return entry
    return None


def is_public(ip: Address) -> bool:
    """Whether Herald may connect to `ip`: the same answer on save and on connect, on every
    Python version (nothing here depends on `ipaddress`'s own classification)."""
    entry = special_range(ip)
    if ip.version == 4:
        return entry is None
    if entry is None:
        return ip in IPV6_GLOBAL_UNICAST
    if entry.embeds is None:
        return False
    return all(is_public(ipaddress.IPv4Address(v4)) for v4 in entry.embeds(int(ip)))


def parse_ipv4_number(host: str) -> ipaddress.IPv4Address | None:
    """A host written as an IPv4 number in any form URL parsers and `inet_aton` accept (1 to 4
    parts; each decimal, 0x hex or 0-prefixed octal; the last filling the remaining bytes), or
    None when it is not one."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # a trailing dot: "127.0.0.1."
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        text = part.lower()
        try:
            if text.startswith("0x"):
                number = int(text[2:] or "0", 16)
            elif len(text) > 1 and text.startswith("0"):
                number = int(text[1:], 8)
            else:
                number = int(text, 10) if text.isascii() and text.isdigit() else -1
        except ValueError:
            return None
        if number < 0:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for position, number in enumerate(leading):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def ip_literal(host: str) -> Address | None:
    """The address a URL's host names literally (IPv6, dotted or numeric IPv4), else None."""
    host = host.split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) does not change the address
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return parse_ipv4_number(host)


def text(ip: Address) -> str:
    """The address as Herald names it: compressed hex for every IPv6 address (Python 3.13 shows
    IPv4-mapped ones in dotted form; messages stay the same on every version)."""
    if ip.version == 6 and int(ip) >> 32 == 0xFFFF:
        value = int(ip)
        return f"::ffff:{(value >> 16) & 0xFFFF:x}:{value & 0xFFFF:x}"
    return str(ip)


def check_address(host: str, ip_text: str) -> Address:
    ip = ip_literal(ip_text)
    if ip is None:
        raise UnsafeTargetError(f"{host} resolves to {ip_text!r}, which is not an IP address")
    if not is_public(ip):
        raise UnsafeTargetError(
            f"{host} resolves to {text(ip)}, a private, loopback, link-local or otherwise non-public "
            "address; Herald only delivers to public addresses (HERALD_ALLOW_PRIVATE_TARGETS=1 lifts this)"
        )
    return ip


def resolve_public(host: str, port: int) -> list[str]:
    """Every address of `host`, all checked; raises UnsafeTargetError if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"host name {host!r} could not be resolved") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        check_address(host, address)
    return addresses


def check_literal(url: str) -> None:
    """Refuse a URL whose host is a non-public IP literal (names are checked when resolved)."""
    host = urlsplit(url).hostname or ""
    if ip_literal(host) is not None:
        check_address(host, host)


def check_url(url: str, allow_private: bool, resolve: bool = True) -> None:
    """Validate a target URL when a channel is created or changed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTargetError(f"address must be an http or https URL, got scheme {parts.scheme!r}")
    if not parts.hostname:
        raise UnsafeTargetError("address has no host name")
    if parts.username or parts.password:
        raise UnsafeTargetError("address must not carry credentials (user:password@)")
    if allow_private:
        return
    check_literal(url)
    if resolve:
        # Not resolvable yet is not unsafe: the delivery will say so, and retry.
        with contextlib.suppress(OSError):
            resolve_public(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
