"""What the fault tests share: a receiver that misbehaves on cue, a way to drive Herald's queues
in-process like Lambda's event source mappings, fault injection into boto3, and `herald dev`
instances of the suite's own.

Everything listens on and talks to 127.0.0.1 only, and every loop is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from herald.dev.receiver import WebhookHandler, WebhookServer
from tests.conftest import serving
from tests.e2e.conftest import Herald, start_herald
from tests.support.processes import free_port

# HERALD_SOAK=1 scales the load tests up (`make soak`); the default fits CI.
SOAK = os.environ.get("HERALD_SOAK", "").strip() not in ("", "0")


def scaled(ci: int, soak: int) -> int:
    return soak if SOAK else ci


# --- a receiver that misbehaves on cue -----------------------------------------------------------
# An action is an HTTP status (int), or one of:
HANG = "hang"  # read the request, answer nothing for HANG_SECONDS, then close
RESET = "reset"  # read the request, then reset the connection without answering
SLOW = "slow"  # answer 200 after SLOW_SECONDS (within any timeout the tests use)
HANG_SECONDS = 1.5
SLOW_SECONDS = 0.2
Action = int | str
# Decides the answer to one request: (webhook-id, how many earlier requests had that id, path,
# body) → action.
Script = Callable[[str, int, str, bytes], Action]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    action: Action
    webhook_id: str
    attempt: int  # 0 for the first request with this webhook-id

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FaultReceiver:
    """A loopback webhook receiver. `actions` are answered in order (then `script`, then 200)."""

    url: str = ""
    actions: list[Action] = field(default_factory=list)
    script: Script | None = None
    requests: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered_ok(self) -> Counter[str]:
        """How many times each webhook-id was answered with a 2xx."""
        return Counter(r.webhook_id for r in self.requests if _is_ok(r.action))

    def by_id(self) -> dict[str, list[Seen]]:
        out: dict[str, list[Seen]] = {}
        for r in self.requests:
            out.setdefault(r.webhook_id, []).append(r)
        return out

    def decide(self, webhook_id: str, path: str, body: bytes) -> tuple[Action, int]:
        """The action for this request, and how many earlier requests had its webhook-id."""
        with self.lock:
            attempt = sum(1 for r in self.requests if r.webhook_id == webhook_id)
            if self.actions:
                action = self.actions.pop(0)
            elif self.script is not None:
                action = self.script(webhook_id, attempt, path, body)
            else:
                action = 200
            return action, attempt


def _is_ok(action: Action) -> bool:
    return action == SLOW or (isinstance(action, int) and 200 <= action < 300)


@contextmanager
def fault_receiver() -> Iterator[FaultReceiver]:
    rec = FaultReceiver()

    class Handler(WebhookHandler):
        def receive(self, body: bytes) -> None:
            webhook_id = self.headers.get("webhook-id", "")
            action, attempt = rec.decide(webhook_id, self.path, body)
            seen = Seen(self.path, dict(self.headers.items()), body, action, webhook_id, attempt)
            with rec.lock:
                rec.requests.append(seen)
            if action == HANG:
                time.sleep(HANG_SECONDS)  # the sender has given up long before
                self.close_connection = True
                return
            if action == RESET:
                # SO_LINGER 0: close() sends a RST instead of answering.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            if action == SLOW:
                time.sleep(SLOW_SECONDS)
                action = 200
            assert isinstance(action, int)
            try:
                self.answer(action, b"ok")
            except OSError:
                self.close_connection = True

    class Server(WebhookServer):
        block_on_close = False  # a hanging handler must not hold up the test's teardown

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a reset or a hang the sender gave up on is the point, not an error

        def shutdown_request(self, request: Any) -> None:
            try:
                linger = request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
                if struct.unpack("ii", linger)[0]:
                    request.close()  # reset: no orderly shutdown first
                    return
            except OSError:
                pass
            super().shutdown_request(request)

    with serving(Server(("127.0.0.1", 0), Handler), "fault-receiver") as url:
        rec.url = url
        yield rec


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/hook"


# --- fault injection into boto3 -------------------------------------------------------------------
def client_error(code: str, message: str, operation: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class Injector:
    """Makes chosen calls of a boto3 client fail, as if AWS had answered with an error.

    Registered on `before-parameter-build`, which botocore emits before its own retry loop: an
    injected error reaches Herald's code directly, i.e. it stands for a fault that outlasted the
    SDK's retries. `when` sees the call's parameters as Herald passed them.
    `fail(operation, times, when=...)` fails the next `times` calls that `when(params)` accepts.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.service = client.meta.service_model.service_id.hyphenize()
        self.rules: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._hooks: list[tuple[str, Callable[..., Any]]] = []

    def fail(
        self,
        operation: str,
        error: Exception,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.rules.append({"operation": operation, "error": error, "left": times, "when": when})
        event = f"before-parameter-build.{self.service}.{operation}"

        def hook(params: dict[str, Any], **_: Any) -> None:
            self.calls[operation] += 1
            for rule in self.rules:
                if rule["operation"] != operation or rule["left"] <= 0:
                    continue
                if rule["when"] is not None and not rule["when"](params):
                    continue
                rule["left"] -= 1
                self.injected[operation] += 1
                raise rule["error"]

        self.client.meta.events.register(event, hook)
        self._hooks.append((event, hook))

    def remove(self) -> None:
        for event, hook in self._hooks:
            self.client.meta.events.unregister(event, hook)
        self._hooks.clear()


# --- `herald dev` instances of the suite's own ------------------------------------------------------
@dataclass
class Dev(Herald):
    log: Path = Path()

    def log_lines(self) -> list[dict[str, Any]]:
        """The instance's JSON log records (Powertools logs at WARNING and above here)."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def post_event(
        self, project: str, payload: dict[str, Any], code: str = "ICA_EXEC_002", **extra: Any
    ) -> str:
        status, accepted = self.call(
            "POST", f"/api/projects/{project}/events", {"eventCode": code, "payload": payload, **extra}
        )
        assert status == 202, accepted
        return str(accepted["id"])

    def channel(self, address: str, **fields: Any) -> dict[str, Any]:
        status, channel = self.call(
            "POST", "/api/notificationChannels", {"type": "HTTP", "address": address, **fields}
        )
        assert status == 201, channel
        return channel

    def subscribe(
        self, project: str, channel_id: str, code: str = "ICA_EXEC_002", **fields: Any
    ) -> dict[str, Any]:
        status, sub = self.call(
            "POST",
            f"/api/projects/{project}/notificationSubscriptions",
            {"eventCode": code, "notificationChannelId": channel_id, **fields},
        )
        assert status == 201, sub
        return sub

    def event_settled(self, event_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The event once it and every notification of it are `success` or `failed`. (An event is
        `failed` as soon as one notification is, while others may still be retrying.)"""
        done = ("success", "failed")

        def check() -> dict[str, Any] | None:
            code, event = self.call("GET", f"/v1/events/{event_id}")
            if code != 200 or event["status"] not in done:
                return None
            return event if all(n["status"] in done for n in event["notifications"]) else None

        return self.wait_for(check, timeout, f"event {event_id} to settle")


def start_dev(workdir: Path, env_extra: dict[str, str], api_key: str) -> Dev:
    """The suite's own `herald dev` (the e2e launcher), its output in a log file to read back."""
    log = workdir / "herald-dev.log"
    # The runtime's own scheduler and stall defaults (the e2e launcher shortens them).
    env = {"HERALD_SCHEDULER_INTERVAL_SECONDS": "60", "HERALD_STALL_AFTER_SECONDS": "120", **env_extra}
    return start_herald(  # type: ignore[return-value]
        workdir,
        env_extra.get("HERALD_RETRY_SCHEDULE", "0,0"),
        env,
        api_key=api_key,
        log=log,
        make=lambda **fields: Dev(**fields, log=log),
    )


def stop_dev(dev: Dev) -> None:
    with suppress(subprocess.TimeoutExpired):  # killed: the suite goes on
        dev.stop()
