"""`herald keys` argument handling and errors that need no running Herald."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald import keys_cli


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory without `.herald/dev-api-key`, and no key or URL in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERALD_API_KEY", raising=False)
    monkeypatch.delenv("HERALD_URL", raising=False)
    return tmp_path


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
