"""The console's sign-in outside the browser: herald dev's banner link, `herald console`, and a
session used over HTTP like an API key."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Herald
from tests.support.processes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_the_banner_prints_a_console_link_for_the_admin_key(tmp_path: Path) -> None:
    port, moto_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HERALD_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "herald.dev.cli", "dev", "--port", str(port), "--moto-port", str(moto_port)],
        cwd=tmp_path,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = ""
        for line in proc.stdout:
            banner += line
            if "Ctrl-C stops everything" in line:
                break
        match = re.search(rf"console\s+(http://127\.0\.0\.1:{port}/console/#link=(hrldl_[\w-]+))", banner)
        assert match, banner
        status, session = _post(f"http://127.0.0.1:{port}/api/consoleSessions", {"link": match.group(2)})
        assert status == 201, session
        assert session["admin"] is True and session["name"] == "herald dev"
        assert _get(f"http://127.0.0.1:{port}/api/keys", session["token"]) == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/", timeout=30) as page:
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def _console(
    herald: Herald, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    return subprocess.run(
        [sys.executable, "-m", "herald.dev.cli", "console", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
        cwd=herald.workdir,
    )


def test_herald_console_prints_a_one_time_link(herald: Herald) -> None:
    done = _console(herald, "--project", "demo", "--url", herald.url, "--api-key", herald.key)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    token = link.split("#link=", 1)[1]
    assert "once" in done.stderr
    status, session = _post(f"{herald.url}/api/consoleSessions", {"link": token})
    assert status == 201 and session["project"] == "demo"
    assert _post(f"{herald.url}/api/consoleSessions", {"link": token})[0] == 401


def test_herald_console_finds_herald_dev_by_its_port_and_key_file(herald: Herald) -> None:
    port = herald.url.rsplit(":", 1)[1]
    done = _console(herald, env={"HERALD_PORT": port, "HERALD_API_KEY": herald.key})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{herald.url}/console/#link=hrldl_")


def test_herald_console_says_why_it_cannot(herald: Herald) -> None:
    done = _console(herald, "--url", herald.url, "--api-key", "wrong-key")
    assert done.returncode == 1
    assert done.stderr.startswith("herald console:") and "not valid" in done.stderr
    done = _console(herald, "--minutes", "0", "--url", herald.url, "--api-key", herald.key)
    assert done.returncode == 2 and "--minutes" in done.stderr
