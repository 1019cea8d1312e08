"""End-to-end fixtures: `herald dev` started as a user would, driven over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import HeraldProcess, free_port

API_KEY = "e2e-admin-key"
ONECODEX_SECRET = "e2e-onecodex-secret"
# Three attempts, no waiting: retries and exhaustion happen within a test.
RETRY_SCHEDULE = "0,0"


@dataclass
class Herald(HeraldProcess):
    aws_endpoint: str
    workdir: Path

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
    instance = make(
        url=f"http://127.0.0.1:{port}",
        key=api_key,
        process=proc,
        aws_endpoint=f"http://127.0.0.1:{moto_port}",
        workdir=workdir,
    )
    instance.wait_until_up(
        output=lambda: log.read_text() if log else (proc.stdout.read() if proc.stdout else ""),
        # Up as a user sees it: answering, and its URL and key written (just before its banner).
        ready=lambda: (workdir / ".herald" / "dev-url").exists(),
    )
    return instance


@contextmanager
def launched_herald(
    workdir: Path, retry_schedule: str | None = RETRY_SCHEDULE, extra_env: dict[str, str] | None = None
) -> Iterator[Herald]:
    instance = start_herald(workdir, retry_schedule, extra_env)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def herald(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    with launched_herald(tmp_path_factory.mktemp("herald-dev")) as instance:
        yield instance


@pytest.fixture
def project(request: pytest.FixtureRequest) -> str:
    """A project of its own for each test, so tests never see each other's events."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", request.node.name)[:40]
    return f"prj-{name}-{time.monotonic_ns() % 100000}"
