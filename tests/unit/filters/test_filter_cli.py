"""``herald filter check``: output and exit codes."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from herald.dev.filter_cli import check, main

SEED = Path(__file__).parent / "seed_analysis.json"


def run(expression: str, payload_path: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = check(expression, payload_path, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_valid_filter_without_payload_exits_0() -> None:
    assert run("[?($.status == 'SUCCEEDED')]") == (0, "valid\n", "")


def test_invalid_filter_exits_2_with_message_and_caret() -> None:
    code, out, _ = run("[?($.status = 'X')]")

    assert code == 2
    assert out.splitlines() == [
        "invalid",
        out.splitlines()[1],
        "[?($.status = 'X')]",
        "            ^",
    ]
    assert "unknown operator '='" in out.splitlines()[1]


def test_matching_payload_exits_0() -> None:
    assert run("[?($.status == 'SUCCEEDED')]", str(SEED)) == (0, "valid\nmatch\n", "")


def test_non_matching_payload_exits_1() -> None:
    assert run("[?($.status == 'FAILED')]", str(SEED)) == (1, "valid\nno match\n", "")


def test_failed_evaluation_prints_the_reason() -> None:
    code, out, _ = run("[?('a' in $.status)]", str(SEED))

    assert code == 1
    assert out.startswith("valid\nno match\nreason: ")


def test_unreadable_payload_file_exits_2(tmp_path: Path) -> None:
    code, out, err = run("[?($.a == 1)]", str(tmp_path / "absent.json"))

    assert code == 2
    assert out == "valid\n"
    assert "cannot read the payload file" in err


def test_invalid_json_payload_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    code, _, err = run("[?($.a == 1)]", str(broken))

    assert code == 2
    assert "not valid JSON" in err


def test_nan_is_not_accepted_as_json(tmp_path: Path) -> None:
    nan = tmp_path / "nan.json"
    nan.write_text('{"a": NaN}')

    assert run("[?($.a == 1)]", str(nan))[0] == 2


def test_non_utf8_payload_exits_2(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"a": "é"}'.encode("latin-1"))

    code, _, err = run("[?($.a == 1)]", str(latin1))

    assert code == 2
    assert "UTF-8" in err


def test_dash_reads_the_payload_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"a": 1})))

    assert run("[?($.a == 1)]", "-") == (0, "valid\nmatch\n", "")


def test_main_parses_the_check_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = tmp_path / "payload.json"
    shutil.copy(SEED, payload)

    assert main(["check", "[?($.status == 'SUCCEEDED')]", str(payload)]) == 0
    assert capsys.readouterr().out == "valid\nmatch\n"
