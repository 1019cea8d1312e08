"""moto's WSGI app served over kept-alive HTTP/1.1 connections, for `herald dev`'s moto server.

moto runs its app on werkzeug's development server, which closes the connection after every
response (it cannot tell where a request body it did not read ends, and drains the socket after
answering). Every AWS call `herald dev` made therefore opened a TCP connection on both sides and a
server thread: a fifth of the moto server's time and of boto3's. This server reads each request's
body whole before the app sees it, so the next request on the connection starts where it should,
and answers with a Content-Length: a client's pooled connection is served by one thread for as
long as it stays open, as AWS's endpoints keep connections alive.

The environ is werkzeug's and moto's own (`MotoRequestHandler.make_environ`); only the connection
handling differs. `tests/unit/test_moto_server.py` runs AWS calls through it.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A pooled connection left idle this long is closed (the client opens another when it needs one).
IDLE_SECONDS = 300.0
MAX_LINE = 65536
# Headers the server sets itself from the answer it sends.
_OWN_HEADERS = ("content-length", "connection", "transfer-encoding")


class KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    server: KeepAliveServer  # type: ignore[assignment]  # serves as werkzeug's server does for make_environ

    def setup(self) -> None:
        super().setup()
        # Answers go out in one write; without this Nagle holds the next small request back.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(MAX_LINE + 1)
            if len(self.raw_requestline) > MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                self.close_connection = True
                return
            if not self.raw_requestline:  # the client closed the connection
                self.close_connection = True
                return
            if not self.parse_request():  # it answered the error itself
                return
            body = self._read_body()
            if body is None:
                return
            self._answer(body)
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        """The whole request body; None (answered, connection to close) if it cannot be read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunks()
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self.send_error(HTTPStatus.BAD_REQUEST, "Content-Length is not a byte count")
            self.close_connection = True
            return None
        length = int(declared)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-body
            self.close_connection = True
            return None
        return body

    def _read_chunks(self) -> bytes | None:
        parts: list[bytes] = []
        while True:
            size_line = self.rfile.readline(MAX_LINE + 1).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self.send_error(HTTPStatus.BAD_REQUEST, "malformed chunked body")
                self.close_connection = True
                return None
            if size == 0:
                while self.rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(MAX_LINE + 1)  # the chunk's CRLF

    def _answer(self, body: bytes) -> None:
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            logger.exception("moto's app failed on %s %s", self.command, self.path)
            started[:] = ["500 Internal Server Error", [("Content-Type", "text/plain")]]
            chunks[:] = [b"moto's app failed; see the server's log"]
            self.close_connection = True
        status, headers = started
        code = int(status.split(" ", 1)[0])
        lines = [f"HTTP/1.1 {status}\r\n"]
        lines += [f"{k}: {v}\r\n" for k, v in headers if k.lower() not in _OWN_HEADERS]
        payload = b"".join(chunks)
        if self.command == "HEAD" or code < 200 or code in (204, 304):
            # No body: a HEAD says how long the GET's would be.
            lines += [f"{k}: {v}\r\n" for k, v in headers if k.lower() == "content-length"]
            payload = b""
        else:
            lines.append(f"Content-Length: {len(payload)}\r\n")
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        self.wfile.write("".join(lines).encode("latin-1") + payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet, as herald dev runs it
        pass


class KeepAliveServer(ThreadingHTTPServer):
    """A thread per connection, kept for as long as the client keeps the connection."""

    daemon_threads = True
    request_queue_size = 1024
    # What werkzeug's make_environ reads from its server.
    multithread, multiprocess = True, False
    ssl_context = None
    _server_version = "herald-dev-moto"

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        self.app = app
        super().__init__(address, KeepAliveHandler)
