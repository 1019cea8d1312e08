"""Shared test set-up: no test may reach a real AWS account."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from herald.dev.receiver import WebhookHandler, WebhookServer
from tests.support.fake_aws import use_fake_aws

use_fake_aws()  # before anything imports boto3


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
    failure_body: bytes = b"ok"  # the body of answers of 300 and above (a receiver's error page)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A loopback HTTP receiver recording every request; `statuses` scripts its answers."""
    rec = Receiver(url="")
    lock = threading.Lock()

    class Handler(WebhookHandler):
        def receive(self, body: bytes) -> None:
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
            retry_after = status in (429, 503) and rec.retry_after is not None
            reply = rec.failure_body if status >= 300 else b"ok"
            self.answer(status, reply, {"Retry-After": str(rec.retry_after)} if retry_after else None)

    with serving(WebhookServer(("127.0.0.1", 0), Handler)) as url:
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
