"""End-to-end fixtures: `herald dev` started as a user would, driven over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

API_KEY = "e2e-admin-key"
ONECODEX_SECRET = "e2e-onecodex-secret"
# Three attempts, no waiting: retries and exhaustion happen within a test.
RETRY_SCHEDULE = "0,0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Herald:
    url: str
    aws_endpoint: str
    key: str
    process: subprocess.Popen[str]
    workdir: Path

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("X-API-Key", key if key is not None else self.key)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def boto3(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def wait_for(self, check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")

    def event_when(self, event_id: str, status: str, timeout: float = 30.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            code, event = self.call("GET", f"/v1/events/{event_id}")
            return event if code == 200 and event["status"] == status else None

        return self.wait_for(check, timeout, f"event {event_id} to be {status}")


def start_herald(
    workdir: Path,
    retry_schedule: str | None = RETRY_SCHEDULE,
    extra_env: dict[str, str] | None = None,
    api_key: str = API_KEY,
    log: Path | None = None,
    make: Callable[..., Herald] = Herald,
) -> Herald:
    """`herald dev` as a subprocess on free ports, as a user starts it; returns once it answers.

    `retry_schedule` None: no `--retry-schedule`, as `make run` starts it (the default schedule, or
    HERALD_RETRY_SCHEDULE in `extra_env`). Its output goes to `log` when given (else to a pipe);
    `make` builds the handle (a subclass with helpers of its own, for the fault suite)."""
    port, moto_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "HERALD_API_KEY": api_key,
            "PYTHONUNBUFFERED": "1",
            "HERALD_ONECODEX_SECRET": ONECODEX_SECRET,
            # Stalls in seconds, not minutes, and a scheduler that looks every half second.
            "HERALD_STALL_AFTER_SECONDS": "2",
            "HERALD_SCHEDULER_INTERVAL_SECONDS": "0.5",
            **(extra_env or {}),
        }
    )
    command = [
        sys.executable,
        "-m",
        "herald.dev.cli",
        "dev",
        "--port",
        str(port),
        "--moto-port",
        str(moto_port),
    ]
    if retry_schedule is not None:
        command += ["--retry-schedule", retry_schedule]
    out = log.open("w") if log else subprocess.PIPE
    try:
        proc = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    instance = make(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{moto_port}", api_key, proc, workdir)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            output = log.read_text() if log else (proc.stdout.read() if proc.stdout else "")
            raise RuntimeError(f"herald dev exited early:\n{output}")
        try:
            # Up as a user sees it: answering, and its URL and key written (just before its banner).
            if instance.call("GET", "/health")[0] == 200 and (workdir / ".herald" / "dev-url").exists():
                return instance
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_herald(instance)
            raise RuntimeError("herald dev did not come up within 60 s")
        time.sleep(0.1)


def stop_herald(instance: Herald) -> None:
    """Ctrl-C, as a user stops it; killed if it does not stop within 30 s."""
    instance.process.send_signal(signal.SIGINT)
    try:
        instance.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        instance.process.kill()
        instance.process.wait(timeout=10)
        raise


@contextmanager
def launched_herald(
    workdir: Path, retry_schedule: str | None = RETRY_SCHEDULE, extra_env: dict[str, str] | None = None
) -> Iterator[Herald]:
    instance = start_herald(workdir, retry_schedule, extra_env)
    try:
        yield instance
    finally:
        stop_herald(instance)


@pytest.fixture(scope="session")
def herald(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    with launched_herald(tmp_path_factory.mktemp("herald-dev")) as instance:
        yield instance


@pytest.fixture
def project(request: pytest.FixtureRequest) -> str:
    """A project of its own for each test, so tests never see each other's events."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", request.node.name)[:40]
    return f"prj-{name}-{time.monotonic_ns() % 100000}"
