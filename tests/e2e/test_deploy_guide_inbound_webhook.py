"""docs/deploy.md's "Connecting One Codex" step, run as written against `herald dev`.

The guide's `curl` that gives a project its One Codex secret is taken from the guide's own text,
its placeholders filled; then One Codex's signed webhooks for that project are accepted, and the
same signature for another project is refused.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from herald import signing
from tests.e2e.conftest import Herald

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
GUIDE_HELPERS = Path(__file__).resolve().parents[1] / "infra" / "deploy_doc.py"
SECRET = "the-secret-one-codex-shows-f3a9c0d2e17b"


def _guide() -> object:
    spec = importlib.util.spec_from_file_location("deploy_doc", GUIDE_HELPERS)
    assert spec and spec.loader
    if spec.name in sys.modules:  # the infra tests' conftest may have loaded it already
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses look their module up while being defined.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _curl_command() -> str:
    guide = _guide()
    [command] = [c for block in guide.bash_blocks() for c in block.commands if c.startswith("curl ")]  # type: ignore[attr-defined]
    return command


def _webhook(herald: Herald, project: str) -> int:
    body = json.dumps(
        {
            "api_version": "v1",
            "event_type": "analysis.failed",
            "object_type": "analysis",
            "object": {"$uri": f"/api/v1/analyses/{project}", "success": False},
            "triggered_at": "2026-11-20T10:00:00Z",
        }
    ).encode()
    request = urllib.request.Request(
        f"{herald.url}/webhooks/onecodex?project={project}", data=body, method="POST"
    )
    request.add_header(signing.ONECODEX_HEADER, signing.onecodex_header([SECRET], int(time.time()), body))
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_the_guides_curl_binds_one_codex_s_secret_to_its_project(herald: Herald, project: str) -> None:
    command = (
        _curl_command()
        .replace("<ApiUrl>", herald.url + "/")
        .replace("<project>", project)
        .replace("<the secret One Codex shows>", SECRET)
    )
    assert "<" not in command, command
    result = subprocess.run(
        ["bash", "-c", command],
        env={"HERALD_API_KEY": herald.key, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["url"].endswith(f"/webhooks/onecodex?project={project}")
    assert "secret" not in created or created["secret"] in (None, SECRET)
    assert _webhook(herald, project) == 202
    assert _webhook(herald, project + "-other") == 401
