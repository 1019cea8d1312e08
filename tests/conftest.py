"""Shared test set-up: no test may reach a real AWS account."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# Before anything imports boto3: fake credentials and a region, and no endpoint leaking in.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "herald",
        # Handlers run as in Lambda (Powertools keeps the async batch's event loop between calls).
        "LAMBDA_TASK_ROOT": str(Path(__file__).resolve().parents[1] / "functions"),
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session", autouse=True)
def _close_delivery_pools() -> Iterator[None]:
    yield
    from herald.targets import http

    # Every loop's pools, not only this thread's: pollers and benches ran loops on other threads.
    http.close_all_sessions()


@dataclass
class Receiver:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order; then 200
    retry_after: str | None = None  # sent as Retry-After with 429 and 503 answers

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A loopback HTTP receiver recording every request; `statuses` scripts its answers."""
    rec = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                rec.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": body,
                        "at": time.monotonic(),
                    }
                )
                status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            if status in (429, 503) and rec.retry_after is not None:
                self.send_header("Retry-After", rec.retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server) as url:
        rec.url = url
        yield rec


@contextmanager
def serving(server: ThreadingHTTPServer, name: str = "receiver") -> Iterator[str]:
    """Serve on a thread until the block ends; yields the server's loopback webhook URL."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as rec:
        yield rec


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    """A second receiver, for tests with two endpoints (one failing, one healthy)."""
    with running_receiver() as rec:
        yield rec
