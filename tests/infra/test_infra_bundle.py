"""The Lambda code asset: the requirement list, the hash, and one real bundle through `python app.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from infra import bundling


def test_requirements_come_from_pyproject_minus_the_runtime_sdk(repo_root: Path) -> None:
    declared = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = bundling.runtime_requirements()
    assert requirements == [r for r in declared if not r.startswith(("boto3", "botocore"))]
    bundled = {r.split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip() for r in requirements}
    assert {"aws-lambda-powertools", "pydantic", "jsonpath-ng", "urllib3", "regex"} <= bundled
    assert not any("cdk" in r or "constructs" in r for r in requirements)


def test_pip_targets_cpython_312_on_arm64_wheels_only(tmp_path: Path) -> None:
    command = bundling.pip_command(["pydantic>=2"], tmp_path)
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--implementation cp" in joined
    assert "--python-version 3.12" in joined
    assert "--only-binary=:all:" in command
    assert command[-3:] == ["--target", str(tmp_path), "pydantic>=2"]


def test_asset_hash_follows_sources_and_requirements(tmp_path: Path) -> None:
    source = tmp_path / "herald"
    source.mkdir()
    (source / "a.py").write_text("x = 1\n")
    first = bundling.asset_hash(["pydantic"], source)
    cache = source / "__pycache__"
    cache.mkdir()
    (cache / "a.cpython-311.pyc").write_bytes(b"junk")
    assert bundling.asset_hash(["pydantic"], source) == first, "caches must not change the hash"
    assert bundling.asset_hash(["pydantic<3"], source) != first
    (source / "a.py").write_text("x = 2\n")
    assert bundling.asset_hash(["pydantic"], source) != first


@pytest.mark.bundling
def test_python_app_py_synthesizes_and_bundles_for_lambda_arm64(repo_root: Path, tmp_path: Path) -> None:
    """The one real bundle: `python app.py` as a user runs it, pip downloading arm64 wheels."""
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=repo_root, env=env, capture_output=True, text=True, timeout=300
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-4000:]

    template = json.loads((tmp_path / "Herald-dev.template.json").read_text())
    keys = {
        r["Properties"]["Code"]["S3Key"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert len(keys) == 1, "every function must share the one code asset"
    asset = tmp_path / f"asset.{keys.pop().removesuffix('.zip')}"
    assert asset.is_dir()

    assert (asset / "herald" / "names.py").is_file()
    assert not (asset / "aws_cdk").exists()
    assert not (asset / "constructs").exists()
    assert not (asset / "boto3").exists(), "boto3 comes with the Lambda runtime"
    for package in ("aws_lambda_powertools", "pydantic", "jsonpath_ng", "urllib3", "regex"):
        assert (asset / package).is_dir(), package
    native = list((asset / "pydantic_core").glob("*.so"))
    assert native and all("aarch64" in so.name and "cpython-312" in so.name for so in native), native
    assert not list(asset.rglob("__pycache__"))
    assert not list(asset.rglob("*.egg-info"))

    size = sum(f.stat().st_size for f in asset.rglob("*") if f.is_file())
    # Lambda's limit for unzipped code is 250 MB; today's bundle is ~17 MB.
    assert size < 60 * 1024 * 1024
    print(f"\nbundle: {size / 1e6:.1f} MB unzipped; python app.py took {elapsed:.1f} s")
