"""The one Lambda code asset: `functions/herald` plus its runtime dependencies, built for arm64.

Bundling runs locally (pip downloads manylinux aarch64 wheels for CPython 3.12), never in Docker:
the machines that synthesize have no Docker, and wheels make the build reproducible anyway.
The dependency list is read from pyproject.toml, the single place it is declared.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from fnmatch import fnmatch
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
PACKAGE = "herald"
PYPROJECT = REPO_ROOT / "pyproject.toml"

PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run too.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# The runtime ships boto3/botocore; bundling them would add ~35 MB for no gain.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
IGNORED = ("__pycache__", "*.pyc", "*.pyo", "*.egg-info", ".pytest_cache", ".mypy_cache", ".ruff_cache")
# The package's `dev/` layer only runs on a laptop: the embedded runtime (imports moto, which the
# bundle does not carry), the `herald` CLI, its key and console tools, and the test webhook
# receiver. No handler imports it (import-linter forbids it and tests/infra/test_infra_bundle.py
# follows every handler's imports to prove it), so the Lambda asset leaves it out; changing it
# redeploys nothing.
LOCAL_ONLY = frozenset({"dev"})
PIP_TIMEOUT_SECONDS = 900
# Bump when the bundling recipe changes, so the asset hash changes with it.
RECIPE_VERSION = "2"

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def runtime_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """`[project].dependencies` minus what the Lambda runtime already provides."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    requirements = []
    for requirement in data["project"]["dependencies"]:
        match = _REQUIREMENT_NAME.match(requirement)
        if not match:
            raise ValueError(f"{pyproject}: cannot read requirement {requirement!r}")
        if _normalize(match.group(1)) not in RUNTIME_PROVIDED:
            requirements.append(requirement)
    return requirements


def pip_command(requirements: Sequence[str], target: Path) -> list[str]:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    return [
        *command,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        # .pyc compiled by this interpreter would be for the wrong Python version.
        "--no-compile",
        "--target",
        str(target),
        *requirements,
    ]


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Copies the package and pip-installs its wheels into the asset output directory."""

    def __init__(self, requirements: Sequence[str], source: Path = FUNCTIONS_DIR / PACKAGE) -> None:
        self._requirements = list(requirements)
        self._source = source

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: object) -> bool:
        out = Path(output_dir)
        if self._requirements:
            result = subprocess.run(
                pip_command(self._requirements, out),
                capture_output=True,
                text=True,
                check=False,
                timeout=PIP_TIMEOUT_SECONDS,
            )
            if result.returncode != 0:
                # Raise rather than return False: False would make CDK fall back to Docker.
                raise RuntimeError(f"pip could not bundle {self._requirements}:\n{result.stderr}")
        shutil.copytree(self._source, out / self._source.name, ignore=_ignore(self._source))
        return True


def asset_hash(requirements: Sequence[str], source: Path = FUNCTIONS_DIR / PACKAGE) -> str:
    """Hash of what decides the bundle: package sources, requirements, target platform, recipe.

    Computed here rather than by CDK so that it is stable whether bundling runs or is skipped.
    """
    digest = hashlib.sha256()
    for part in (RECIPE_VERSION, PYTHON_VERSION, *PLATFORMS, *requirements):
        digest.update(part.encode() + b"\0")
    for path in _source_files(source):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_asset() -> lambda_.Code:
    """The code every Herald function runs (skipped bundling leaves the bare `functions/` dir)."""
    requirements = runtime_requirements()
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        asset_hash=asset_hash(requirements),
        exclude=list(IGNORED),
        bundling=BundlingOptions(
            # Required by the API, never pulled: local bundling either succeeds or raises.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12"),
            local=PipLocalBundling(requirements),
        ),
    )


def _ignore(source: Path) -> Callable[[str, list[str]], set[str]]:
    """copytree's filter: caches everywhere, local-only entries at the package root only."""
    caches = shutil.ignore_patterns(*IGNORED)

    def ignore(directory: str, entries: list[str]) -> set[str]:
        ignored = set(caches(directory, entries))
        if Path(directory) == source:
            ignored |= LOCAL_ONLY & set(entries)
        return ignored

    return ignore


def _source_files(source: Path) -> Iterator[Path]:
    """The package files the asset carries (what the hash covers)."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or relative.parts[0] in LOCAL_ONLY:
            continue
        if not any(fnmatch(part, p) for part in relative.parts for p in IGNORED):
            yield path


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
