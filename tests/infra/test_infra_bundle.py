"""The Lambda code asset: requirements, hash and what it carries (the real bundle: test_infra_deploy_doc)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from infra import bundling
from infra import functions as fns

# Beside the real bundle (test_infra_deploy_doc), in its group.
pytestmark = pytest.mark.xdist_group(name="infra_bundle")

PACKAGE_DIR = bundling.FUNCTIONS_DIR / bundling.PACKAGE


def _dist(requirement: str) -> str:
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "_", match.group(1)).lower()


def test_requirements_come_from_pyproject_minus_the_runtime_sdk(repo_root: Path) -> None:
    declared = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = bundling.runtime_requirements()
    assert requirements == [r for r in declared if _dist(r) not in {"boto3", "botocore"}]
    bundled = {_dist(r) for r in requirements}
    assert {"aws_lambda_powertools", "pydantic"} <= bundled
    assert not any("cdk" in name or "constructs" in name or "moto" in name for name in bundled)


def test_pip_targets_cpython_312_on_arm64_wheels_only(tmp_path: Path) -> None:
    command = bundling.pip_command(["pydantic>=2"], tmp_path)
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--implementation cp" in joined
    assert "--python-version 3.12" in joined
    assert fns.RUNTIME.name == f"python{bundling.PYTHON_VERSION}"
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
    (source / "dev" / "local").mkdir(parents=True)
    (source / "dev" / "cli.py").write_text("print('local only')\n")
    (source / "dev" / "local" / "runtime.py").write_text("import moto\n")
    assert bundling.asset_hash(["pydantic"], source) == first, "local-only files are not in the asset"
    assert bundling.asset_hash(["pydantic<3"], source) != first
    (source / "a.py").write_text("x = 2\n")
    assert bundling.asset_hash(["pydantic"], source) != first


def _imports(path: Path, module: str) -> set[str]:
    """`herald.*` modules a source file imports (absolute or relative, any depth in the file)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("herald")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("herald"):
                found.add(base)
                found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _module_file(module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (
        bundling.FUNCTIONS_DIR / relative / "__init__.py",
        bundling.FUNCTIONS_DIR / f"{relative}.py",
    ):
        if candidate.is_file():
            return candidate
    return None  # a name imported from a module, not a module


def _closure(roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
        todo += [*parents, *_imports(path, module)]
    return seen


def test_no_handler_imports_a_local_only_module() -> None:
    handlers = sorted(
        f"herald.handlers.{p.stem}" for p in (PACKAGE_DIR / "handlers").glob("*.py") if p.stem != "__init__"
    )
    assert "herald.handlers.api" in handlers
    needed = _closure(handlers)
    local_only = {f"herald.{entry.removesuffix('.py')}" for entry in bundling.LOCAL_ONLY}
    leaks = sorted(m for m in needed if any(m == lo or m.startswith(f"{lo}.") for lo in local_only))
    assert not leaks, f"handlers import modules the asset leaves out: {leaks}"


def test_every_function_handler_module_is_in_the_asset() -> None:
    for spec in fns.ALL_SPECS:
        module, _, _function = spec.handler.rpartition(".")
        assert module.startswith("herald.handlers."), spec.handler
        assert module.split(".")[1] not in {e.removesuffix(".py") for e in bundling.LOCAL_ONLY}


# The real bundle, built by `npx aws-cdk synth` as docs/deploy.md runs it: test_infra_deploy_doc.py.
