"""`herald dev` as a process: it starts, says where everything is, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _start(tmp_path: Path, port: int, moto_port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HERALD_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "herald.dev.cli", "dev", "--port", str(port), "--moto-port", str(moto_port)],
        cwd=tmp_path,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not printed; got:\n{''.join(seen)}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_banner_then_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port, moto_port = free_port(), free_port()
    proc = _start(tmp_path, port, moto_port)
    banner = _wait_for_line(proc, "Ctrl-C stops everything")
    key = (tmp_path / ".herald" / "dev-api-key").read_text().strip()
    url_file = tmp_path / ".herald" / "dev-url"
    assert url_file.read_text() == f"http://127.0.0.1:{port}\n"  # where the CLI and the quickstart look
    assert url_file.stat().st_mode & 0o077 == 0
    assert (tmp_path / ".herald" / "dev-api-key").stat().st_mode & 0o077 == 0
    assert f"http://127.0.0.1:{port}" in banner
    assert f"http://127.0.0.1:{moto_port}" in banner
    assert key in banner and key.startswith("hrld_")
    assert "(every routed event, matched by a subscription or not)" in banner  # routing.broadcast's rule
    _the_banner_s_aws_advice_works(banner, moto_port, tmp_path)

    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)

    assert proc.returncode == 0
    assert "Stopped." in out
    assert "Traceback" not in out
    assert not _port_open(port) and not _port_open(moto_port)


def test_busy_api_port_is_a_clear_error_and_leaves_no_moto_behind(tmp_path: Path) -> None:
    moto_port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = _start(tmp_path, busy.getsockname()[1], moto_port)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "already in use; set HERALD_PORT" in out
    assert "Traceback" not in out
    assert not _port_open(moto_port)


def test_a_second_herald_dev_that_cannot_start_keeps_the_running_one_s_key_file(tmp_path: Path) -> None:
    port, moto_port = free_port(), free_port()
    running = _start(tmp_path, port, moto_port)
    _wait_for_line(running, "Ctrl-C stops everything")
    key_file, url_file = tmp_path / ".herald" / "dev-api-key", tmp_path / ".herald" / "dev-url"
    key, url = key_file.read_text(), url_file.read_text()
    try:
        second = _start(tmp_path, port, free_port())  # same directory, the API port is taken
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 1 and "already in use" in out
        assert (key_file.read_text(), url_file.read_text()) == (key, url)
    finally:
        running.send_signal(signal.SIGINT)
        running.communicate(timeout=30)


def test_busy_moto_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = _start(tmp_path, free_port(), busy.getsockname()[1])
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "already in use; set HERALD_MOTO_PORT" in out
    assert "Traceback" not in out


def _the_banner_s_aws_advice_works(banner: str, moto_port: int, tmp_path: Path) -> None:
    """The AWS lines as printed: the SDK environment (boto3) and the AWS CLI's --endpoint-url form,
    which AWS CLI v1 needs for SQS (it ignores AWS_ENDPOINT_URL there)."""
    lines = banner.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("export AWS_ENDPOINT_URL="))
    export = " ".join(line.strip().rstrip("\\").strip() for line in lines[start : start + 2])
    [cli] = [line.strip() for line in lines if line.strip().startswith("aws ")]
    assert cli == f"aws --endpoint-url http://127.0.0.1:{moto_port} sqs list-queues"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    sdk = f"{export}\npython3 -c \"import boto3; print(boto3.client('sqs').list_queues()['QueueUrls'])\""
    listed = subprocess.run(
        ["bash", "-c", sdk], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0 and "herald-ingest" in listed.stdout, listed.stderr
    if shutil.which("aws"):  # not a project dependency; checked by hand with AWS CLI v1 (1.46) and v2
        run = subprocess.run(
            ["bash", "-c", f"{export}\n{cli}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0 and "herald-ingest" in run.stdout, run.stderr
