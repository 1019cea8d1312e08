"""`herald receive`: prints each delivery with its signature verdict, and stops cleanly."""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from herald import signing
from herald.dev import receiver
from tests.conftest import serving


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_delivery_is_printed_with_both_schemes_verified() -> None:
    secret, body = signing.generate_secret(), b'{"eventCode":"ICA_EXEC_002"}'
    out = io.StringIO()
    server = receiver.make_server("127.0.0.1", 0, secret, out=out)
    with serving(server) as url:
        assert _post(url, body, signing.sign("ntf_1", body, [secret])) == 200
    assert "signature: valid (standard-webhooks, onecodex); answering 200" in out.getvalue()


def test_a_forged_delivery_is_printed_as_invalid() -> None:
    body = b"{}"
    out = io.StringIO()
    server = receiver.make_server("127.0.0.1", 0, signing.generate_secret(), out=out)
    with serving(server) as url:
        _post(url, body, signing.sign("ntf_1", body, [signing.generate_secret()]))
    assert "signature: INVALID: no webhook-signature matches this secret" in out.getvalue()


def test_kill_stops_it_with_status_0_and_frees_the_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "herald.dev.cli", "receive", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(f"Listening on http://127.0.0.1:{port}/")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
    deadline = time.monotonic() + 5
    with socket.socket() as again:
        while True:
            try:
                again.bind(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < deadline, "the port stayed taken"
                time.sleep(0.05)
