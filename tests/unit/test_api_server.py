"""`herald dev`'s HTTP server takes a burst, and bounds every body before reading it.

The real API handler behind the real server on a free loopback port; the requests are raw sockets,
so what the server does with a connection (accept, answer, reset) is what the test sees.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from herald.dev.local import api_server
from herald.dev.local.api_server import ApiServer
from herald.domain import limits
from herald.handlers import api

BURST = 400


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def server(calls: list[str]) -> Iterator[ApiServer]:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(f"{event['httpMethod']} {event['path']}")
        return api.handler(event, context)

    srv = ApiServer(handler, "127.0.0.1", 0)
    srv.start()
    yield srv
    srv.stop()


def _port(server: ApiServer) -> int:
    return int(server.httpd.server_address[1])


async def _burst(port: int, n: int) -> list[bytes]:
    """Open n connections at once, and only then send a request on each and read the answers."""
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(n)))
    for _, writer in connections:
        writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        data = await asyncio.wait_for(reader.read(), timeout=120)
        writer.close()
        return data

    return await asyncio.gather(*(answer(r, w) for r, w in connections))


def test_several_hundred_simultaneous_connections_are_all_answered_none_reset(server: ApiServer) -> None:
    answers = asyncio.run(_burst(_port(server), BURST))  # a reset would raise ConnectionResetError

    assert len(answers) == BURST
    assert all(a.startswith(b"HTTP/1.1 200 ") and a.endswith(b'{"status":"ok"}') for a in answers)


def test_the_listen_backlog_and_the_connection_limit_take_a_burst(server: ApiServer) -> None:
    assert server.httpd.request_queue_size == api_server.LISTEN_BACKLOG >= BURST
    assert api_server.MAX_CONNECTIONS >= BURST


def _send(
    port: int, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


NINE_AND_A_HALF_MB = b"[" + b"1," * (9_500_000 // 2) + b"1]"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/health"), ("GET", "/openapi.json"), ("POST", "/openapi.json"), ("POST", "/webhooks/onecodex"),
     ("POST", "/api/projects/p/events"), ("GET", "/swagger")],
)  # fmt: skip
def test_a_body_over_the_bound_is_413_on_any_route_and_never_reaches_the_api(
    server: ApiServer, calls: list[str], method: str, path: str
) -> None:
    status, body = _send(_port(server), method, path, NINE_AND_A_HALF_MB)

    assert (status, body) == (413, {"error": {"code": "payload_too_large", "message": limits.BODY_TOO_LARGE}})
    assert calls == []


def test_a_body_at_the_bound_is_read_and_handed_to_the_api(server: ApiServer, calls: list[str]) -> None:
    status, _ = _send(_port(server), "POST", "/health", b" " * limits.MAX_BODY_BYTES)
    assert status == 405 and calls == ["POST /health"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Content-Length": "-1"}, (400, "invalid_request")),
        ({"Content-Length": "12abc"}, (400, "invalid_request")),
        ({"Content-Length": "9" * 40}, (400, "invalid_request")),
        ({"Transfer-Encoding": "chunked"}, (411, "length_required")),
    ],
    ids=["negative", "not-a-number", "absurd", "chunked"],
)
def test_a_body_without_a_usable_length_is_refused_without_reading_it(
    server: ApiServer, calls: list[str], headers: dict[str, str], expected: tuple[int, str]
) -> None:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as sock:
        sock.sendall(f"POST /health HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert (status, body["error"]["code"]) == expected
    assert calls == []


def test_an_idle_connection_is_closed_after_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_server, "IDLE_TIMEOUT_SECONDS", 0.3)
    srv = ApiServer(api.handler, "127.0.0.1", 0)
    srv.start()
    try:
        with socket.create_connection(("127.0.0.1", _port(srv)), timeout=30) as sock:
            sock.sendall(b"POST /health HTTP/1.1\r\nContent-Length: 10\r\n\r\nab")  # and nothing more
            assert sock.recv(100) == b""  # closed by the server, not left holding a thread
    finally:
        srv.stop()
