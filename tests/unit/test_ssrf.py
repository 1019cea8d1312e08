"""SSRF protection: only public http(s) targets, checked at creation and at connect time."""

from __future__ import annotations

import socket

import pytest

from herald import ssrf
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
