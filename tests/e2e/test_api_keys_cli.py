"""`herald keys` against a running `herald dev`: through the API, and directly in its table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Herald

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _keys(
    herald: Herald, *args: str, key: str | None = None, direct: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HERALD_"))}
    env.update({"HERALD_URL": herald.url, "HERALD_API_KEY": key if key is not None else herald.key})
    if direct:  # the caller's AWS credentials: here, the local moto server of `herald dev`
        env.update(
            {
                "AWS_ENDPOINT_URL": herald.aws_endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
    return subprocess.run(
        [sys.executable, "-m", "herald.dev.keys_cli", *args],
        env=env,
        cwd=herald.workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_key_created_with_the_cli_works_and_is_refused_once_revoked(herald: Herald, project: str) -> None:
    made = _keys(herald, "create", "--project", project, "--name", "ci")
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["projects"] == [project] and "shown only now" in made.stderr
    assert (
        herald.call("GET", f"/api/projects/{project}/notificationSubscriptions", key=created["key"])[0] == 200
    )

    listed = json.loads(_keys(herald, "list").stdout)
    assert created["keyId"] in [k["keyId"] for k in listed["items"]]
    assert created["key"] not in json.dumps(listed)

    assert _keys(herald, "revoke", created["keyId"]).returncode == 0
    assert (
        herald.call("GET", f"/api/projects/{project}/notificationSubscriptions", key=created["key"])[0] == 401
    )


def test_direct_mode_writes_an_admin_key_into_the_table(herald: Herald) -> None:
    made = _keys(
        herald, "create", "--admin", "--name", "bootstrap", "--direct", "--table", "herald", direct=True
    )
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["admin"] is True
    assert herald.call("GET", "/api/keys", key=created["key"])[0] == 200


def test_the_cli_reports_api_errors_and_exits_1(herald: Herald) -> None:
    refused = _keys(herald, "list", key="not-a-key")
    assert refused.returncode == 1
    assert "HTTP 401: the API key is not valid" in refused.stderr


def _herald_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `herald` command itself, with none of Herald's or AWS's variables unless given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HERALD_"))}
    return subprocess.run(
        [sys.executable, "-m", "herald.dev.cli", *args],
        env={**clean, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_herald_keys_finds_herald_dev_by_herald_port_like_herald_dev_does(
    herald: Herald, project: str, tmp_path: Path
) -> None:
    port = herald.url.rsplit(":", 1)[1]
    env = {"HERALD_PORT": port, "HERALD_API_KEY": herald.key}
    made = _herald_cli("keys", "create", "--project", project, cwd=tmp_path, env=env)  # no files here
    assert made.returncode == 0, made.stderr
    key_id = json.loads(made.stdout)["keyId"]
    listed = _herald_cli("keys", "list", cwd=tmp_path, env=env)
    assert key_id in [k["keyId"] for k in json.loads(listed.stdout)["items"]]
    assert _herald_cli("keys", "revoke", key_id, cwd=tmp_path, env=env).returncode == 0


def test_herald_keys_finds_herald_dev_by_the_files_it_wrote(herald: Herald, project: str) -> None:
    # In the directory `herald dev` runs in, with nothing in the environment: .herald/dev-url and
    # .herald/dev-api-key say where and as whom.
    made = _herald_cli("keys", "create", "--project", project, cwd=herald.workdir)
    assert made.returncode == 0, made.stderr
    key_id = json.loads(made.stdout)["keyId"]
    listed = _herald_cli("keys", "list", cwd=herald.workdir)
    assert listed.returncode == 0, listed.stderr
    assert key_id in [k["keyId"] for k in json.loads(listed.stdout)["items"]]
    revoked = _herald_cli("keys", "revoke", key_id, cwd=herald.workdir)
    assert revoked.returncode == 0, revoked.stderr
