"""A small HTTP server that turns requests into API Gateway (REST, proxy) events for the API handler."""

from __future__ import annotations

import base64
import errno
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from herald.local.lambda_context import LocalContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# API Gateway's own payload limit; the API enforces a smaller one and answers 413 itself.
MAX_REQUEST_BYTES = 10 * 1024 * 1024


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

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_REQUEST_BYTES:
                    self._reply(
                        413,
                        {"Content-Type": "application/json"},
                        b'{"error":{"code":"payload_too_large","message":"request too large"}}',
                    )
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
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
            self.httpd = ThreadingHTTPServer((host, port), RequestHandler)
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
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
