"""herald.dev.receiver: `herald receive` prints each delivery with its signature verdict and stops
cleanly; its WebhookHandler, which the tests' receivers build on, hands over whole bodies and sends
the answer it is given."""

from __future__ import annotations

import http.client
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


def _recording_server(
    status: int, reply: bytes, headers: dict[str, str]
) -> tuple[receiver.WebhookServer, list]:
    """A WebhookHandler that records (client port, body) and answers with what it is given."""
    seen: list[tuple[int, bytes]] = []

    class Handler(receiver.WebhookHandler):
        def receive(self, body: bytes) -> None:
            seen.append((self.client_address[1], body))
            self.answer(status, reply, headers)

    return receiver.WebhookServer(("127.0.0.1", 0), Handler), seen


def test_a_webhook_handler_receives_the_whole_body_and_its_answer_reaches_the_sender() -> None:
    page = b"<html><body><script>alert(1)</script></body></html>"
    body = b'{"eventCode":"ICA_EXEC_002","payload":"' + b"x" * 200_000 + b'"}'
    server, seen = _recording_server(500, page, {"Content-Type": "text/html"})
    with serving(server):
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        answered = (response.status, response.getheader("Content-Type"), response.read())
        connection.close()
    assert answered == (500, "text/html", page)
    assert [received for _, received in seen] == [body]


def test_a_webhook_handler_answers_several_deliveries_on_one_kept_alive_connection() -> None:
    server, seen = _recording_server(200, b"ok", {})
    with serving(server):
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        replies = []
        for n in (1, 2, 3):
            connection.request("POST", "/hook", body=b'{"n": %d}' % n)
            response = connection.getresponse()
            replies.append((response.status, response.read()))
        connection.close()
    assert replies == [(200, b"ok")] * 3
    assert [body for _, body in seen] == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert len({port for port, _ in seen}) == 1  # one connection carried all three
