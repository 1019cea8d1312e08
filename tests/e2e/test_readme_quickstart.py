"""The README's quickstart works when pasted: run it against `herald dev` and check what it shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Herald, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
README = Path(__file__).resolve().parents[2] / "README.md"


def quickstart_script() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    [script] = [b for b in blocks if b.startswith("source .venv/bin/activate")]
    return script


def test_quickstart_shows_a_verified_delivery_and_a_successful_event(herald: Herald) -> None:
    script = (
        quickstart_script()
        .replace("source .venv/bin/activate", "true")
        .replace("http://127.0.0.1:8000", herald.url)
        .replace("9000", str(free_port()))
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-c", script], cwd=herald.workdir, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "signature: valid (standard-webhooks)" in result.stdout
    assert '"eventCode": "ICA_EXEC_002"' in result.stdout
    assert '"status": "success"' in result.stdout
