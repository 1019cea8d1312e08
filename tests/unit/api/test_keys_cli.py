"""`herald keys` argument handling and errors that need no running Herald."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from herald.dev import keys_cli
from tests.conftest import serving


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory without `.herald/dev-api-key`, and no key, URL or port in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("HERALD_API_KEY", "HERALD_URL", "HERALD_PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@dataclass
class FakeApi:
    """A stand-in for Herald's key routes that records who called it and how."""

    port: int = 0
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                api.calls.append((self.command, self.path, self.headers.get("X-API-Key")))
            raw = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._answer(200, {"items": [], "nextCursor": None})

        def do_POST(self) -> None:
            self._answer(201, {"keyId": "k1", "key": "hrld_new", "projects": ["p"], "admin": False})

        def do_DELETE(self) -> None:
            self._answer(204, None)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with serving(server):
        api.port = server.server_address[1]
        yield api


KEYS_COMMANDS = [["list"], ["create", "--project", "p"], ["revoke", "k1"]]


@pytest.mark.parametrize("command", KEYS_COMMANDS, ids=lambda c: c[0])
def test_every_keys_command_calls_the_port_in_herald_port(
    nowhere: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("HERALD_PORT", str(fake_api.port))
    monkeypatch.setenv("HERALD_API_KEY", "hrld_env")
    assert keys_cli.main(command) == 0
    assert [key for _, _, key in fake_api.calls] == ["hrld_env"]


@pytest.mark.parametrize("command", KEYS_COMMANDS, ids=lambda c: c[0])
def test_every_keys_command_finds_the_url_and_key_herald_dev_wrote(
    nowhere: Path, fake_api: FakeApi, command: list[str]
) -> None:
    (nowhere / ".herald").mkdir()
    (nowhere / ".herald" / "dev-url").write_text(f"http://127.0.0.1:{fake_api.port}\n")
    (nowhere / ".herald" / "dev-api-key").write_text("hrld_dev\n")
    assert keys_cli.main(command) == 0
    assert [key for _, _, key in fake_api.calls] == ["hrld_dev"]


def test_herald_url_wins_over_herald_port_and_the_dev_url_file(
    nowhere: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    (nowhere / ".herald").mkdir()
    (nowhere / ".herald" / "dev-url").write_text("http://127.0.0.1:9\n")
    monkeypatch.setenv("HERALD_PORT", "9")
    monkeypatch.setenv("HERALD_URL", f"http://127.0.0.1:{fake_api.port}/")
    assert keys_cli.main(["list", "--api-key", "hrld_flag"]) == 0
    assert fake_api.calls == [("GET", "/api/keys?limit=100", "hrld_flag")]


def test_herald_port_wins_over_the_dev_url_file(
    nowhere: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    (nowhere / ".herald").mkdir()
    (nowhere / ".herald" / "dev-url").write_text("http://127.0.0.1:9\n")
    monkeypatch.setenv("HERALD_PORT", str(fake_api.port))
    assert keys_cli.main(["list", "--api-key", "k"]) == 0
    assert len(fake_api.calls) == 1


def test_the_url_flag_wins_over_everything(
    nowhere: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERALD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HERALD_PORT", "9")
    assert keys_cli.main(["list", "--api-key", "k", "--url", f"http://127.0.0.1:{fake_api.port}"]) == 0
    assert len(fake_api.calls) == 1


def test_an_unreachable_server_is_named_with_where_its_url_came_from(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("HERALD_PORT", "9")  # nothing listens on port 9
    assert keys_cli.main(["list", "--api-key", "k"]) == 1
    err = capsys.readouterr().err
    assert "GET http://127.0.0.1:9/api/keys" in err and "came from HERALD_PORT" in err


def test_a_herald_port_that_is_not_a_port_is_a_clear_error(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("HERALD_PORT", "eighty")
    assert keys_cli.main(["list", "--api-key", "k"]) == 1
    assert "HERALD_PORT must be a port number, got 'eighty'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "says"),
    [("create", "write the key into"), ("list", "read the DynamoDB table"), ("revoke", "delete the key")],
)
def test_each_command_s_help_says_what_direct_does_for_it(
    command: str, says: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit):
        keys_cli.main([command, "--help"])
    assert says in " ".join(capsys.readouterr().out.split())


def test_without_any_key_it_says_where_a_key_comes_from(nowhere: Path, capsys: pytest.CaptureFixture) -> None:
    assert keys_cli.main(["list"]) == 1
    assert "pass --api-key, set HERALD_API_KEY" in capsys.readouterr().err


def test_the_dev_key_file_is_used_when_nothing_else_is_given(
    nowhere: Path, capsys: pytest.CaptureFixture
) -> None:
    (nowhere / ".herald").mkdir()
    (nowhere / ".herald" / "dev-api-key").write_text("hrld_dev\n")
    assert keys_cli.main(["list", "--url", "http://127.0.0.1:9"]) == 1  # nothing listens on port 9
    err = capsys.readouterr().err
    assert "GET http://127.0.0.1:9/api/keys" in err and "is Herald running there?" in err


def test_direct_mode_needs_the_table_name(nowhere: Path, capsys: pytest.CaptureFixture) -> None:
    assert keys_cli.main(["create", "--admin", "--direct"]) == 1
    assert "--direct needs --table" in capsys.readouterr().err


def test_direct_mode_checks_the_key_request_before_touching_aws(
    nowhere: Path, capsys: pytest.CaptureFixture
) -> None:
    assert keys_cli.main(["create", "--direct", "--table", "herald"]) == 1
    assert "needs at least one project" in capsys.readouterr().err
