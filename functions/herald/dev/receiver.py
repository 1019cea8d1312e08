"""`herald receive`: a local webhook receiver that prints deliveries and checks their signatures."""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from herald import signing


class WebhookHandler(BaseHTTPRequestHandler):
    """One connection to a loopback webhook receiver: each POST's body is read whole, then
    :meth:`receive` answers it. `herald receive` and the fault tests' misbehaving receiver share it."""

    protocol_version = "HTTP/1.1"  # Herald's sender keeps connections alive

    def setup(self) -> None:
        super().setup()
        # Small answers on a kept-alive connection would otherwise wait for the delayed ACK (~40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.receive(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def receive(self, body: bytes) -> None:
        """Answer one delivery (a subclass's)."""
        raise NotImplementedError

    def answer(self, status: int, reply: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a receiver prints what it received its own way


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True  # a delivery being answered does not keep the process alive


def make_server(
    host: str,
    port: int,
    secret: str | None,
    out: TextIO = sys.stdout,
    fail_first: int = 0,
    status: int = 200,
) -> WebhookServer:
    counter = {"n": 0}
    lock = threading.Lock()

    class Handler(WebhookHandler):
        def receive(self, body: bytes) -> None:
            with lock:
                counter["n"] += 1
                n = counter["n"]
            code = 500 if n <= fail_first else status
            verdict = "not checked (no --secret)"
            if secret:
                try:
                    verdict = "valid (" + signing.verify(body, dict(self.headers.items()), secret) + ")"
                except signing.SignatureError as exc:
                    verdict = f"INVALID: {exc}"
            try:
                pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
            except ValueError:
                pretty = body.decode("utf-8", errors="replace")
            print(
                f"--- delivery #{n} {self.path} webhook-id={self.headers.get('webhook-id')} "
                f"signature: {verdict}; answering {code}\n{pretty}",
                file=out,
                flush=True,
            )
            reply = json.dumps({"received": code < 300}).encode()
            self.answer(code, reply, {"Content-Type": "application/json"})

    return WebhookServer((host, port), Handler)


def serve(host: str, port: int, secret: str | None, fail_first: int, status: int) -> int:
    try:
        server = make_server(host, port, secret, fail_first=fail_first, status=status)
    except OSError as exc:
        print(f"herald receive: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        # `kill` stops it as cleanly as Ctrl-C: the port freed, exit status 0. Set before it says it
        # listens: whoever reads that may kill it at once.
        signal.signal(signal.SIGTERM, _interrupt)
        print(f"Listening on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt
