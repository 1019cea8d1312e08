"""A small HTTP server that turns requests into API Gateway (REST, proxy) events for the API handler."""

from __future__ import annotations

import base64
import errno
import json
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from herald.dev.local.lambda_context import LocalContext
from herald.domain.limits import BODY_TOO_LARGE, MAX_BODY_BYTES

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# The API's own body bound, on every route, checked from Content-Length before a byte of the
# body is read (API Gateway would take up to 10 MB; the API refuses more than this anyway).
MAX_REQUEST_BYTES = MAX_BODY_BYTES
# A burst of connections waits in the kernel's accept queue, not refused (Python's default
# backlog of 5 reset 33 of 50 simultaneous connections); Linux caps it at net.core.somaxconn.
LISTEN_BACKLOG = 1024
# Connections served at once, one thread each; more wait in the accept queue.
MAX_CONNECTIONS = 512
# A connection idle (or trickling a request) this long is closed: slow clients cannot hold
# threads forever.
IDLE_TIMEOUT_SECONDS = 30.0
# After refusing a body, at most this much of it is read and discarded (so that the client,
# still sending, sees the answer instead of a reset) and for at most this long.
DISCARD_BYTES = 16 * 1024 * 1024
DISCARD_SECONDS = 2.0


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class BurstHTTPServer(ThreadingHTTPServer):
    """A thread per connection, a deep accept queue, and at most MAX_CONNECTIONS at once."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._closing = threading.Event()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Wait for a free slot; connections beyond it stay queued in the kernel meanwhile.
        while not self._slots.acquire(timeout=0.5):
            if self._closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown(self) -> None:
        self._closing.set()
        super().shutdown()


def proxy_event(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    parts = urlsplit(raw_path)
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        text, is_b64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(body).decode(), True
    return {
        "resource": "/{proxy+}",
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": parts.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": parts.path,
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text if body else None,
        "isBase64Encoded": is_b64,
    }


class ApiServer:
    def __init__(self, handler: Handler, host: str, port: int) -> None:
        # The resolver keeps the current request on itself: one invocation at a time, as one
        # Lambda instance would.
        lock = threading.Lock()

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = IDLE_TIMEOUT_SECONDS

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _refuse(self, status: int, code: str, message: str, unread: int = 0) -> None:
                """Answer without reading the body, then close the connection."""
                self._reply(status, {"Content-Type": "application/json"}, _error_body(code, message))
                self.close_connection = True
                self._discard(unread)

            def _discard(self, unread: int) -> None:
                if unread <= 0:
                    return
                try:
                    self.wfile.flush()
                    self.connection.settimeout(DISCARD_SECONDS)
                    deadline = time.monotonic() + DISCARD_SECONDS
                    left = min(unread, DISCARD_BYTES)
                    while left > 0 and time.monotonic() < deadline:
                        chunk = self.rfile.read1(min(left, 65536))
                        if not chunk:
                            break
                        left -= len(chunk)
                except OSError:
                    pass

            def _handle(self) -> None:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    self._refuse(411, "length_required", "send the body with a Content-Length")
                    return
                declared = (self.headers.get("Content-Length") or "0").strip()
                if not (declared.isascii() and declared.isdigit()) or len(declared) > 15:
                    self._refuse(400, "invalid_request", "Content-Length is not a byte count")
                    return
                length = int(declared)
                if length > MAX_REQUEST_BYTES:
                    self._refuse(413, "payload_too_large", BODY_TOO_LARGE, unread=length)
                    return
                body = self.rfile.read(length) if length else b""
                if len(body) < length:  # the client gave up, or timed out, mid-body
                    self.close_connection = True
                    return
                event = proxy_event(self.command, self.path, dict(self.headers.items()), body)
                try:
                    with lock:
                        result = handler(event, LocalContext("herald-api", timeout_seconds=29))
                except Exception:
                    # What API Gateway does when the function fails: 502, details in the logs.
                    traceback.print_exc()
                    self._reply(
                        502,
                        {"Content-Type": "application/json"},
                        b'{"error":{"code":"internal_error","message":"the API function failed"}}',
                    )
                    return
                payload = result.get("body") or ""
                data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
                headers = dict(result.get("headers") or {})
                for key, values in (result.get("multiValueHeaders") or {}).items():
                    headers[key] = ", ".join(values)
                self._reply(int(result.get("statusCode", 502)), headers, data)

            def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def __getattr__(self, name: str) -> Any:
                # Every method (QUERY, TRACE…) reaches the API, which answers 405 where a path does
                # not serve it, as API Gateway's ANY proxy does.
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:  # quiet; the handler logs
                pass

        try:
            self.httpd = BurstHTTPServer((host, port), RequestHandler)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise RuntimeError(
                f"port {port} on {host} is already in use; set HERALD_PORT to a free port"
            ) from None
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="api-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
