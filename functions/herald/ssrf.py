"""Server-side request forgery protection for HTTP targets.

A webhook URL is user input: without this, a channel could make Herald POST to the instance
metadata service or to services inside the deployment's network. A target must be http(s) and
every address its host resolves to must be public. The check runs when a channel is created and
again on every connection, against the address actually connected to, so a DNS answer that
changes between the two (DNS rebinding) is caught. `HERALD_ALLOW_PRIVATE_TARGETS=1` lifts it
(`herald dev` sets it, since local receivers live on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTargetError(ValueError):
    """The target is not a public http(s) address."""


def is_public(ip: Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global excludes private, loopback, link-local (incl. 169.254.169.254, the metadata
    # service), shared address space (100.64/10), reserved and unspecified ranges.
    return ip.is_global and not ip.is_multicast


def check_address(host: str, ip_text: str) -> Address:
    ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    if not is_public(ip):
        raise UnsafeTargetError(
            f"{host} resolves to {ip}, a private, loopback, link-local or otherwise non-public address; "
            "Herald only delivers to public addresses (HERALD_ALLOW_PRIVATE_TARGETS=1 lifts this)"
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
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return
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
