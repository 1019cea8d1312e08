"""`herald dev` (or a wrapper of it) in a subprocess on free loopback ports, spoken to over its API."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HeraldProcess:
    url: str
    key: str
    process: subprocess.Popen[str]

    def call(
        self, method: str, path: str, body: Any = None, key: str | None = None, timeout: float = 30.0
    ) -> tuple[int, Any]:
        """One API request with the instance's key (or `key`): (status, JSON body or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("X-API-Key", key if key is not None else self.key)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def wait_until_up(
        self, output: Callable[[], str], ready: Callable[[], bool] = lambda: True, seconds: float = 60.0
    ) -> None:
        """Until /health answers 200 and `ready()`; raises with the process's `output()` if it exits
        first, and stops it if it is not up within `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"herald dev exited early:\n{output()}")
            try:
                if self.call("GET", "/health")[0] == 200 and ready():
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"herald dev did not come up within {seconds:g} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; killed (and TimeoutExpired raised) if it does not stop in 30 s."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise
